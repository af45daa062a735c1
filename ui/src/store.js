// Small shared state: the hash route, the collections list, toasts. Each
// is a value with subscribers, read in components through useStore.
import { useEffect, useState } from 'preact/hooks';
import { pb } from './api.js';

export function createStore(value) {
  const subs = new Set();
  return {
    get: () => value,
    set(v) {
      value = typeof v === 'function' ? v(value) : v;
      for (const f of subs) f(value);
    },
    subscribe(f) {
      subs.add(f);
      return () => subs.delete(f);
    },
  };
}

export function useStore(store) {
  const [v, setV] = useState(store.get());
  useEffect(() => store.subscribe(setV), [store]);
  return v;
}

// ---- route: "#/a/b?x=1" -> {path: "/a/b", parts: ["a","b"], query}
function parseHash(h) {
  const raw = (h || '').replace(/^#/, '') || '/';
  const [p, q = ''] = raw.split('?');
  const parts = p.split('/').filter(Boolean).map(decodeURIComponent);
  return { path: '/' + parts.join('/'), parts, query: new URLSearchParams(q) };
}
export const route = createStore(parseHash(location.hash));
addEventListener('hashchange', () => route.set(parseHash(location.hash)));
export const go = (path) => {
  location.hash = '#' + path;
};

// ---- collections (reloaded after every schema change)
export const collections = createStore([]);
export async function loadCollections() {
  const list = await pb.collections.getFullList({ sort: 'name' });
  collections.set(list);
  return list;
}

// ---- toasts
export const toasts = createStore([]);
let toastSeq = 0;
export function toast(text, kind = 'ok') {
  const id = ++toastSeq;
  toasts.set((t) => [...t, { id, text, kind }]);
  setTimeout(() => toasts.set((t) => t.filter((x) => x.id !== id)), kind === 'error' ? 8000 : 3500);
}
