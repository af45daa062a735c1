// The one SDK client of the dashboard. The API lives one level above the
// dashboard's own path (/_/ -> /), so a dashboard served under a prefix
// (/prefix/_/) talks to /prefix/api/... without any configuration.
import PocketBase, { LocalAuthStore } from 'pocketbase';

export function apiBase(href = location.href) {
  return new URL('..', href.split('#')[0]).href.replace(/\/$/, '');
}

export const pb = new PocketBase(apiBase(), new LocalAuthStore('basalt_dashboard_auth'));
pb.autoCancellation(false);

export const isSuperuser = () =>
  pb.authStore.isValid && pb.authStore.record?.collectionName === '_superusers';

// The field errors of a failed request as [path, message] pairs, from
// PocketBase's error body {"data": {"field": {"code", "message"}, ...}}
// (nested for collection fields: fields.2.name).
export function fieldErrors(err) {
  const out = [];
  const walk = (v, path) => {
    if (!v || typeof v !== 'object') return;
    if (typeof v.message === 'string' && typeof v.code === 'string') {
      out.push([path, v.message]);
      return;
    }
    for (const [k, sub] of Object.entries(v)) walk(sub, path ? `${path}.${k}` : k);
  };
  walk(err?.response?.data ?? err?.data?.data, '');
  return out;
}

export function errorMessage(err) {
  if (!err) return '';
  const fe = fieldErrors(err);
  const msg = err?.response?.message || err?.message || String(err);
  return fe.length ? `${msg} ${fe.map(([p, m]) => `${p}: ${m}`).join('; ')}` : msg;
}

// The payload of a JWT (no verification: only to read collectionId).
export function tokenClaims(token) {
  try {
    const p = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(decodeURIComponent(escape(atob(p))));
  } catch {
    return {};
  }
}

export function randomId(n = 7) {
  const a = 'abcdefghijklmnopqrstuvwxyz0123456789';
  const b = crypto.getRandomValues(new Uint8Array(n));
  return Array.from(b, (x) => a[x % a.length]).join('');
}
