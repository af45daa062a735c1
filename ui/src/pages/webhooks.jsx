// Webhooks (a Basalt extension): the list, the form that creates or
// edits one (collection, events, URL, filter, secret, active), and a
// webhook's delivery log with a retry button for failed deliveries.
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, pb } from '../api.js';
import { collections, toast, useStore } from '../store.js';
import { Check, confirm, ErrorList, Loading, Modal, Select, TextInput } from '../ui.jsx';

const EVENTS = ['create', 'update', 'delete'];
const api = (path, options = {}) => pb.send('/api/webhooks' + path, { requestKey: null, ...options });

export function WebhooksPage() {
  const [list, setList] = useState(null);
  const [error, setError] = useState('');
  const [editing, setEditing] = useState(null);
  const [log, setLog] = useState(null);
  const reload = () => api('?perPage=500').then((r) => (setList(r.items), setError(''))).catch((e) => setError(errorMessage(e)));
  useEffect(() => {
    reload();
  }, []);
  const remove = async (w) => {
    if (!(await confirm(`Delete the webhook to ${w.url}? Its delivery log goes too.`, { action: 'Delete' }))) return;
    try {
      await api('/' + w.id, { method: 'DELETE' });
      toast('Webhook deleted.');
      if (log?.id === w.id) setLog(null);
      reload();
    } catch (e) {
      toast(errorMessage(e), 'error');
    }
  };
  return (
    <section>
      <h1>Webhooks</h1>
      <p class="muted">
        Each change to a record of the collection is posted to the URL as JSON, signed with the secret
        (HMAC-SHA256), and retried until the receiver answers 2xx.
      </p>
      {error && <p class="alert error" role="alert">{error}</p>}
      <div class="row end">
        <button type="button" class="primary" onClick={() => setEditing({})}>New webhook</button>
      </div>
      {!list ? <Loading /> : (
        <table class="grid-table">
          <thead><tr><th>Collection</th><th>Events</th><th>URL</th><th>Active</th><th><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {list.map((w) => (
              <tr>
                <td>{w.collectionName || w.collection}</td>
                <td>{w.events.join(', ')}</td>
                <td><code>{w.url}</code></td>
                <td>{w.active ? 'yes' : 'no'}</td>
                <td class="actions">
                  <button type="button" class="small" aria-label={`Deliveries of ${w.url}`} onClick={() => setLog(w)}>Deliveries</button>
                  <button type="button" class="small" aria-label={`Edit ${w.url}`} onClick={() => setEditing(w)}>Edit</button>
                  <button type="button" class="small danger ghost" aria-label={`Delete ${w.url}`} onClick={() => remove(w)}>Delete</button>
                </td>
              </tr>
            ))}
            {!list.length && <tr><td colSpan={5} class="muted">No webhooks yet.</td></tr>}
          </tbody>
        </table>
      )}
      {log && <Deliveries key={log.id} hook={log} />}
      {editing && <WebhookForm hook={editing} onClose={() => setEditing(null)} onSaved={() => (setEditing(null), reload())} />}
    </section>
  );
}

function WebhookForm({ hook, onClose, onSaved }) {
  const cols = useStore(collections).filter((c) => c.type !== 'view');
  const [w, setW] = useState({
    collection: hook.collection || cols[0]?.id || '',
    events: hook.events || ['create', 'update', 'delete'],
    url: hook.url || '',
    filter: hook.filter || '',
    secret: hook.secret || '',
    active: hook.active ?? true,
  });
  const [errors, setErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  const set = (patch) => setW({ ...w, ...patch });
  const toggle = (ev, on) => set({ events: EVENTS.filter((e) => (e === ev ? on : w.events.includes(e))) });
  const save = async (e) => {
    e.preventDefault();
    setBusy(true);
    setErrors([]);
    try {
      await api(hook.id ? '/' + hook.id : '', { method: hook.id ? 'PATCH' : 'POST', body: w });
      toast('Webhook saved.');
      onSaved();
    } catch (x) {
      const fe = fieldErrors(x);
      setErrors(fe.length ? fe : [['', errorMessage(x)]]);
    } finally {
      setBusy(false);
    }
  };
  const footer = (
    <>
      <button type="button" class="ghost" onClick={onClose}>Cancel</button>
      <button type="submit" form="webhook-form" class="primary" disabled={busy}>Save webhook</button>
    </>
  );
  return (
    <Modal title={hook.id ? 'Edit webhook' : 'New webhook'} onClose={onClose} footer={footer}>
      <form id="webhook-form" class="settings" onSubmit={save}>
        <ErrorList errors={errors} />
        <Select label="Collection" value={w.collection} onChange={(collection) => set({ collection })} options={cols.map((c) => ({ value: c.id, label: c.name }))} />
        <fieldset class="events">
          <legend>Events</legend>
          {EVENTS.map((ev) => <Check label={ev} checked={w.events.includes(ev)} onChange={(on) => toggle(ev, on)} />)}
        </fieldset>
        <TextInput label="URL" type="url" value={w.url} onInput={(url) => set({ url })} placeholder="https://example.com/hooks/basalt" />
        <TextInput label="Filter (optional)" value={w.filter} onInput={(filter) => set({ filter })} hint="A rule on the record, e.g. status = 'paid'; evaluated with no auth." />
        <TextInput label="Secret" value={w.secret} onInput={(secret) => set({ secret })} hint="Signs each delivery; left empty, one is generated." />
        <Check label="Active" checked={w.active} onChange={(active) => set({ active })} />
      </form>
    </Modal>
  );
}

function Deliveries({ hook }) {
  const [page, setPage] = useState(null);
  const [error, setError] = useState('');
  const reload = () => api(`/${hook.id}/deliveries?perPage=100`).then((p) => (setPage(p), setError(''))).catch((e) => setError(errorMessage(e)));
  useEffect(() => {
    reload();
  }, []);
  const retry = async (d) => {
    try {
      await api(`/${hook.id}/deliveries/${d.id}/retry`, { method: 'POST' });
      toast('Delivery queued again.');
      reload();
    } catch (e) {
      toast(errorMessage(e), 'error');
    }
  };
  return (
    <section>
      <h2>Deliveries to <code>{hook.url}</code></h2>
      <div class="row end">
        <button type="button" class="small" onClick={reload}>Refresh</button>
      </div>
      {error && <p class="alert error" role="alert">{error}</p>}
      {!page ? <Loading /> : (
        <table class="grid-table">
          <thead><tr><th>Delivery</th><th>Action</th><th>Record</th><th>Status</th><th>Attempts</th><th>Last answer</th><th>Updated</th><th><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {page.items.map((d) => (
              <tr>
                <td><code>{d.id}</code></td>
                <td>{d.action}</td>
                <td><code>{d.record}</code></td>
                <td>{d.status}</td>
                <td>{d.attempts}</td>
                <td>{d.lastCode || ''} {d.lastError}</td>
                <td>{d.updated}</td>
                <td>{d.status === 'failed' && <button type="button" class="small" aria-label={`Retry ${d.id}`} onClick={() => retry(d)}>Retry</button>}</td>
              </tr>
            ))}
            {!page.items.length && <tr><td colSpan={8} class="muted">No deliveries yet.</td></tr>}
          </tbody>
        </table>
      )}
    </section>
  );
}
