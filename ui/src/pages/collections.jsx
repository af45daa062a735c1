// The collections page: the list of collections at the side, the records
// of the selected one in the middle, and the collection editor in a
// dialog (#/collections/NAME?edit=1, or ?new=1).
import { useState } from 'preact/hooks';
import { collections, go, useStore } from '../store.js';
import { CollectionEditor } from './editor.jsx';
import { RecordsView } from './records.jsx';

export function CollectionsPage({ name, query }) {
  const list = useStore(collections);
  const [search, setSearch] = useState('');
  const current = list.find((c) => c.name === name || c.id === name);
  const editing = query.get('edit') === '1' && current;
  const creating = query.get('new') === '1';
  const visible = list.filter((c) => c.name.toLowerCase().includes(search.toLowerCase()));
  const own = visible.filter((c) => !c.system);
  const system = visible.filter((c) => c.system);
  const here = name ? `/collections/${encodeURIComponent(name)}` : '/collections';

  if (!name && list.length) {
    const first = list.find((c) => !c.system) || list[0];
    go(`/collections/${encodeURIComponent(first.name)}`);
  }
  const item = (c) => (
    <li>
      <a href={`#/collections/${encodeURIComponent(c.name)}`} class={current?.id === c.id ? 'active' : ''} aria-current={current?.id === c.id ? 'page' : undefined}>
        <span class={'badge ' + c.type}>{c.type}</span> {c.name}
      </a>
    </li>
  );
  return (
    <div class="page with-aside">
      <aside class="aside" aria-label="Collections">
        <label class="sr-only" for="collections-search">Search collections</label>
        <input id="collections-search" type="search" placeholder="Search collections" value={search} onInput={(e) => setSearch(e.currentTarget.value)} />
        <ul class="menu">{own.map(item)}</ul>
        {system.length > 0 && (
          <details open={system.some((c) => c.id === current?.id)}>
            <summary>System</summary>
            <ul class="menu">{system.map(item)}</ul>
          </details>
        )}
        <button type="button" class="primary block" onClick={() => go(`${here}?new=1`)}>
          New collection
        </button>
      </aside>
      <main class="content">
        {current ? <RecordsView key={current.id} collection={current} /> : <p class="muted">No collection selected.</p>}
      </main>
      {(editing || creating) && (
        <CollectionEditor
          original={creating ? null : current}
          onClose={(saved) => go(saved ? `/collections/${encodeURIComponent(saved.name)}` : here)}
        />
      )}
    </div>
  );
}
