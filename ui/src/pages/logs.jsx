// Logs: a chart of requests per hour (/api/logs/stats), the list with a
// filter and paging, and the detail of one entry.
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, pb } from '../api.js';
import { ExprInput, Modal } from '../ui.jsx';

const LEVELS = { '-4': 'DEBUG', 0: 'INFO', 4: 'WARN', 8: 'ERROR' };
const VOCAB = ['id', 'created', 'level', 'message', 'data.', 'data.type', 'data.method', 'data.url', 'data.status', 'data.execTime', 'data.auth', 'data.userIP', 'data.remoteIP', 'data.referer', 'data.userAgent', '@now', '@todayStart'];

export function LogsPage() {
  const [filter, setFilter] = useState('');
  const [draft, setDraft] = useState('');
  const [page, setPage] = useState(1);
  const [data, setData] = useState(null);
  const [stats, setStats] = useState([]);
  const [error, setError] = useState('');
  const [open, setOpen] = useState(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    pb.logs.getList(page, 50, { filter, sort: '-created' }).then((d) => (setData(d), setError(''))).catch((e) => setError(errorMessage(e)));
    pb.logs.getStats({ filter }).then(setStats).catch(() => setStats([]));
  }, [filter, page, tick]);
  const apply = () => (setFilter(draft.trim()), setPage(1));
  return (
    <main class="content full">
      <header class="toolbar">
        <h1>Logs</h1>
        <span class="grow" />
        <button type="button" class="ghost" onClick={() => setTick(tick + 1)}>Refresh</button>
      </header>
      <form class="filter toolbar" role="search" onSubmit={(e) => (e.preventDefault(), apply())}>
        <ExprInput id="logs-filter" label="Filter logs" value={draft} onInput={setDraft} vocab={VOCAB} onEnter={apply} placeholder='e.g. level > 0 || data.status >= 400' />
        <button type="submit">Apply</button>
      </form>
      {error && <p class="alert error" role="alert">{error}</p>}
      <Chart stats={stats} />
      <div class="tablewrap">
        <table class="grid-table">
          <thead><tr><th>Level</th><th>Message</th><th>Status</th><th>Created</th></tr></thead>
          <tbody>
            {(data?.items || []).map((l) => (
              <tr onClick={() => setOpen(l)} class="clickable">
                <td><span class={'level l' + l.level}>{LEVELS[l.level] ?? l.level}</span></td>
                <td><button type="button" class="linklike" onClick={() => setOpen(l)}>{l.message}</button> {l.data?.url && <code class="small">{l.data.method} {l.data.url}</code>}</td>
                <td>{l.data?.status ?? ''}</td>
                <td class="small">{l.created}</td>
              </tr>
            ))}
            {data && !data.items.length && <tr><td colSpan={4} class="muted">No logs found.</td></tr>}
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
      {open && (
        <Modal title="Log entry" onClose={() => setOpen(null)}>
          <table class="grid-table compact detail">
            <tbody>
              <tr><th scope="row">id</th><td><code>{open.id}</code></td></tr>
              <tr><th scope="row">level</th><td>{LEVELS[open.level] ?? open.level}</td></tr>
              <tr><th scope="row">created</th><td>{open.created}</td></tr>
              <tr><th scope="row">message</th><td>{open.message}</td></tr>
              {Object.entries(open.data || {}).map(([k, v]) => (
                <tr><th scope="row">data.{k}</th><td><code>{typeof v === 'object' ? JSON.stringify(v) : String(v)}</code></td></tr>
              ))}
            </tbody>
          </table>
        </Modal>
      )}
    </main>
  );
}

// Bars of requests per hour, drawn as SVG (no chart library).
function Chart({ stats }) {
  if (!stats.length) return <p class="muted small">No requests in the chart's range.</p>;
  const max = Math.max(...stats.map((s) => s.total), 1);
  const w = 800;
  const h = 120;
  const bw = w / stats.length;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${w} ${h}`} role="img" aria-label={`Requests per hour, ${stats.length} hour(s), at most ${max}`}>
        {stats.map((s, i) => {
          const bh = (s.total / max) * (h - 10);
          return (
            <rect x={i * bw + 1} y={h - bh} width={Math.max(bw - 2, 1)} height={bh} class="bar">
              <title>{`${s.date}: ${s.total}`}</title>
            </rect>
          );
        })}
      </svg>
      <figcaption class="muted small">{stats[0].date} – {stats[stats.length - 1].date} · max {max} per hour</figcaption>
    </figure>
  );
}
