// The records of one collection: a page at a time (never the whole
// collection), filter with autocomplete, sort by column, chosen columns,
// relation and file previews, bulk delete, live updates over realtime.
import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import { errorMessage, pb } from '../api.js';
import { go, toast, collections, useStore } from '../store.js';
import { vocabulary } from '../autocomplete.js';
import { confirm, ExprInput } from '../ui.jsx';
import { RecordForm } from './recordform.jsx';

const PER_PAGE = 40;
const IMAGE = /\.(png|jpe?g|gif|webp|svg|avif)$/i;

// A short label for a record: its presentable fields, else its id.
export function recordLabel(col, rec) {
  const pres = (col?.fields || []).filter((f) => f.presentable).map((f) => rec[f.name]).filter((v) => v !== '' && v != null);
  if (pres.length) return pres.join(' · ');
  return rec.name || rec.title || rec.email || rec.id;
}

function storedColumns(col) {
  try {
    const v = JSON.parse(localStorage.getItem(`basalt_columns_${col.id}`));
    if (Array.isArray(v)) return v;
  } catch {}
  return col.fields.filter((f) => !f.hidden && f.type !== 'password').slice(0, 8).map((f) => f.name);
}

export function RecordsView({ collection: col }) {
  const all = useStore(collections);
  const [page, setPage] = useState(1);
  const [sort, setSort] = useState('');
  const [filter, setFilter] = useState('');
  const [draftFilter, setDraftFilter] = useState('');
  const [columns, setColumns] = useState(() => storedColumns(col));
  const [data, setData] = useState(null);
  const [error, setError] = useState('');
  const [selected, setSelected] = useState(new Set());
  const [editing, setEditing] = useState(null); // a record, or {} for a new one
  const [tick, setTick] = useState(0);
  const vocab = useMemo(() => vocabulary(col, all, false), [col, all]);
  const shown = col.fields.filter((f) => columns.includes(f.name));
  const isView = col.type === 'view';

  useEffect(() => localStorage.setItem(`basalt_columns_${col.id}`, JSON.stringify(columns)), [columns]);

  useEffect(() => {
    let live = true;
    const expand = shown.filter((f) => f.type === 'relation').map((f) => f.name).join(',');
    pb.collection(col.id)
      .getList(page, PER_PAGE, { sort, filter, expand: expand || undefined })
      .then((r) => live && (setData(r), setError('')))
      .catch((e) => live && setError(errorMessage(e)));
    return () => (live = false);
  }, [col.id, page, sort, filter, columns.join(), tick]);

  // Changes by anyone show up: one page reload per burst of events.
  useEffect(() => {
    if (isView) return;
    let timer;
    let unsub;
    pb.collection(col.id)
      .subscribe('*', () => {
        clearTimeout(timer);
        timer = setTimeout(() => setTick((t) => t + 1), 250);
      })
      .then((u) => (unsub = u))
      .catch(() => {});
    return () => {
      clearTimeout(timer);
      unsub?.();
    };
  }, [col.id]);

  const toggleSort = (name) => {
    setSort(sort === name ? `-${name}` : sort === `-${name}` ? '' : name);
    setPage(1);
  };
  const applyFilter = () => {
    setFilter(draftFilter.trim());
    setPage(1);
  };
  const bulkDelete = async () => {
    if (!(await confirm(`Delete ${selected.size} selected record(s)?`, { action: 'Delete' }))) return;
    let failed = 0;
    for (const id of selected) await pb.collection(col.id).delete(id).catch(() => failed++);
    toast(failed ? `${failed} record(s) could not be deleted.` : `Deleted ${selected.size} record(s).`, failed ? 'error' : 'ok');
    setSelected(new Set());
    setTick((t) => t + 1);
  };
  const items = data?.items || [];
  const allChecked = items.length > 0 && items.every((r) => selected.has(r.id));

  return (
    <section class="records" aria-labelledby="records-title">
      <header class="toolbar">
        <h1 id="records-title">
          {col.name} <span class="muted small">{data ? `${data.totalItems} record(s)` : ''}</span>
        </h1>
        <span class="grow" />
        <button type="button" class="ghost" onClick={() => go(`/collections/${encodeURIComponent(col.name)}?edit=1`)}>
          Edit collection
        </button>
        {!isView && (
          <button type="button" class="primary" onClick={() => setEditing({})}>
            New record
          </button>
        )}
      </header>
      <div class="toolbar">
        <form class="filter grow" onSubmit={(e) => (e.preventDefault(), applyFilter())} role="search">
          <ExprInput id="records-filter" label="Filter records" value={draftFilter} onInput={setDraftFilter} vocab={vocab} onEnter={applyFilter} placeholder='Filter, e.g. created > "2024-01-01" && title ~ "abc"' />
          <button type="submit">Apply</button>
          {filter && (
            <button type="button" class="ghost" onClick={() => (setDraftFilter(''), setFilter(''), setPage(1))}>
              Clear
            </button>
          )}
        </form>
        <details class="columns">
          <summary>Columns</summary>
          <div class="popover">
            {col.fields.map((f) => (
              <label class="check">
                <input type="checkbox" checked={columns.includes(f.name)} onChange={(e) => setColumns(e.currentTarget.checked ? [...columns, f.name] : columns.filter((c) => c !== f.name))} />
                {f.name}
              </label>
            ))}
          </div>
        </details>
        {selected.size > 0 && !isView && (
          <button type="button" class="danger" onClick={bulkDelete}>
            Delete selected ({selected.size})
          </button>
        )}
      </div>
      {error && <p class="alert error" role="alert">{error}</p>}
      <div class="tablewrap">
        <table class="grid-table">
          <thead>
            <tr>
              {!isView && (
                <th class="check">
                  <input type="checkbox" aria-label="Select all on this page" checked={allChecked} onChange={(e) => setSelected(e.currentTarget.checked ? new Set(items.map((r) => r.id)) : new Set())} />
                </th>
              )}
              {shown.map((f) => {
                const dir = sort === f.name ? 'ascending' : sort === `-${f.name}` ? 'descending' : 'none';
                return (
                  <th aria-sort={dir}>
                    <button type="button" class="sort" onClick={() => toggleSort(f.name)}>
                      {f.name} <span aria-hidden="true">{dir === 'ascending' ? '▲' : dir === 'descending' ? '▼' : ''}</span>
                    </button>
                  </th>
                );
              })}
            </tr>
          </thead>
          <tbody>
            {items.map((rec) => (
              <tr class={selected.has(rec.id) ? 'selected' : ''} onClick={(e) => !e.target.closest('input,a,button') && setEditing(rec)}>
                {!isView && (
                  <td class="check">
                    <input
                      type="checkbox"
                      aria-label={`Select record ${rec.id}`}
                      checked={selected.has(rec.id)}
                      onChange={(e) => {
                        const s = new Set(selected);
                        e.currentTarget.checked ? s.add(rec.id) : s.delete(rec.id);
                        setSelected(s);
                      }}
                    />
                  </td>
                )}
                {shown.map((f) => (
                  <td data-field={f.name}>
                    <Cell f={f} rec={rec} all={all} />
                  </td>
                ))}
              </tr>
            ))}
            {data && !items.length && (
              <tr>
                <td colSpan={shown.length + 1} class="muted">No records found.</td>
              </tr>
            )}
          </tbody>
        </table>
      </div>
      {data && data.totalPages > 1 && (
        <nav class="pager" aria-label="Pages">
          <button type="button" class="ghost" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</button>
          <span>Page {page} of {data.totalPages}</span>
          <button type="button" class="ghost" disabled={page >= data.totalPages} onClick={() => setPage(page + 1)}>Next</button>
        </nav>
      )}
      {editing && (
        <RecordForm
          collection={col}
          record={editing.id ? editing : null}
          onClose={(changed) => {
            setEditing(null);
            if (changed) setTick((t) => t + 1);
          }}
        />
      )}
    </section>
  );
}

function Cell({ f, rec, all }) {
  const v = rec[f.name];
  if (v === '' || v == null || (Array.isArray(v) && !v.length)) return <span class="muted">—</span>;
  switch (f.type) {
    case 'bool':
      return <span>{v ? 'true' : 'false'}</span>;
    case 'file': {
      const names = Array.isArray(v) ? v : [v];
      return (
        <span class="files">
          {names.slice(0, 3).map((n) =>
            IMAGE.test(n) && !f.protected ? (
              <img class="thumb" alt={n} src={pb.files.getURL(rec, n, { thumb: '100x100' })} loading="lazy" />
            ) : (
              <span class="chip">{n}</span>
            ),
          )}
        </span>
      );
    }
    case 'relation': {
      const ids = Array.isArray(v) ? v : [v];
      const target = all.find((c) => c.id === f.collectionId);
      const exp = rec.expand?.[f.name];
      const recs = Array.isArray(exp) ? exp : exp ? [exp] : [];
      return (
        <span>
          {ids.slice(0, 3).map((id) => {
            const r = recs.find((x) => x.id === id);
            return <span class="chip">{r ? recordLabel(target, r) : id}</span>;
          })}
          {ids.length > 3 && <span class="muted"> +{ids.length - 3}</span>}
        </span>
      );
    }
    case 'json':
      return <code class="trunc">{JSON.stringify(v).slice(0, 80)}</code>;
    case 'geoPoint':
      return <span>{`${v.lat}, ${v.lon}`}</span>;
    case 'editor':
      return <span class="trunc">{String(v).replace(/<[^>]*>/g, ' ').slice(0, 80)}</span>;
    case 'select':
      return <span>{(Array.isArray(v) ? v : [v]).map((x) => <span class="chip">{x}</span>)}</span>;
    default:
      return <span class="trunc">{String(v).slice(0, 120)}</span>;
  }
}
