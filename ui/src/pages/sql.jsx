// The SQL console: POST /api/sql {query} answers {columns, rows} (at most
// 1000 rows) or {affectedRows} for writes; recent queries are kept in
// this browser.
import { useState } from 'preact/hooks';
import { errorMessage, pb } from '../api.js';
import { Field } from '../ui.jsx';

const HISTORY = 'basalt_sql_history';

export function SqlPage() {
  const [query, setQuery] = useState('SELECT name, type FROM _collections ORDER BY name');
  const [result, setResult] = useState(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [history, setHistory] = useState(() => JSON.parse(localStorage.getItem(HISTORY) || '[]'));
  const run = async () => {
    setBusy(true);
    setError('');
    try {
      setResult(await pb.send('/api/sql', { method: 'POST', body: { query } }));
      const h = [query, ...history.filter((q) => q !== query)].slice(0, 20);
      setHistory(h);
      localStorage.setItem(HISTORY, JSON.stringify(h));
    } catch (e) {
      setError(errorMessage(e));
      setResult(null);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section>
      <h1>SQL console</h1>
      <p class="muted small">Runs on the main database as a superuser. Results are capped at 1000 rows. Ctrl+Enter runs.</p>
      <Field label="Query">
        {(id) => <textarea id={id} class="code" rows={6} value={query} spellcheck={false} onInput={(e) => setQuery(e.currentTarget.value)} onKeyDown={(e) => (e.ctrlKey || e.metaKey) && e.key === 'Enter' && run()} />}
      </Field>
      <div class="row">
        <button type="button" class="primary" disabled={busy || !query.trim()} onClick={run}>Run</button>
        {history.length > 0 && (
          <select aria-label="Recent queries" onChange={(e) => e.currentTarget.value && setQuery(e.currentTarget.value)}>
            <option value="">Recent queries…</option>
            {history.map((q) => <option value={q}>{q.slice(0, 80)}</option>)}
          </select>
        )}
      </div>
      {error && <p class="alert error" role="alert">{error}</p>}
      {result && (
        <div class="sqlresult">
          <p class="muted small">
            {result.columns?.length ? `${result.rows?.length || 0} row(s)` : `${result.affectedRows ?? 0} row(s) affected`}
            {result.execTime != null ? ` in ${result.execTime} ms` : ''}
          </p>
          {result.columns?.length > 0 && (
            <div class="tablewrap">
              <table class="grid-table">
                <thead><tr>{result.columns.map((c) => <th>{c.name}</th>)}</tr></thead>
                <tbody>
                  {(result.rows || []).map((r) => (
                    <tr>{r.map((v) => <td>{v === null ? <span class="muted">NULL</span> : String(v)}</td>)}</tr>
                  ))}
                </tbody>
              </table>
            </div>
          )}
        </div>
      )}
    </section>
  );
}
