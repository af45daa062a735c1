// Settings: application (with batch, rate limits, trusted proxy, logs),
// mail (with a test mail), files storage (S3 with a test), backups,
// crons, webhooks, export and import of collections, and the SQL console.
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, pb } from '../api.js';
import { collections, loadCollections, toast, useStore } from '../store.js';
import { Check, confirm, ErrorList, Field, Loading, NumberInput, Select, TextInput } from '../ui.jsx';
import { BackupsPage } from './backups.jsx';
import { SqlPage } from './sql.jsx';
import { WebhooksPage } from './webhooks.jsx';

const SECTIONS = [
  ['application', 'Application'],
  ['mail', 'Mail'],
  ['storage', 'Files storage'],
  ['backups', 'Backups'],
  ['crons', 'Crons'],
  ['webhooks', 'Webhooks'],
  ['export-collections', 'Export collections'],
  ['import-collections', 'Import collections'],
  ['sql', 'SQL console'],
];

export function SettingsPage({ section }) {
  return (
    <div class="page with-aside">
      <aside class="aside" aria-label="Settings">
        <ul class="menu">
          {SECTIONS.map(([k, label]) => (
            <li>
              <a href={`#/settings/${k}`} class={section === k ? 'active' : ''} aria-current={section === k ? 'page' : undefined}>{label}</a>
            </li>
          ))}
          <li><a href="#/collections/_superusers">Superusers</a></li>
        </ul>
      </aside>
      <main class="content">
        {['application', 'mail', 'storage'].includes(section) && <SettingsForm key={section} section={section} />}
        {section === 'backups' && <BackupsPage />}
        {section === 'crons' && <Crons />}
        {section === 'webhooks' && <WebhooksPage />}
        {section === 'export-collections' && <Export />}
        {section === 'import-collections' && <Import />}
        {section === 'sql' && <SqlPage />}
      </main>
    </div>
  );
}

// The settings sections edited as one PATCH of the parts they show.
function SettingsForm({ section }) {
  const [s, setS] = useState(null);
  const [errors, setErrors] = useState([]);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    pb.settings.getAll().then(setS).catch((e) => setErrors([['', errorMessage(e)]]));
  }, []);
  if (!s) return <><ErrorList errors={errors} /><Loading /></>;
  const sub = (key, patch) => setS({ ...s, [key]: { ...s[key], ...patch } });
  const keys = { application: ['meta', 'batch', 'rateLimits', 'trustedProxy', 'logs'], mail: ['meta', 'smtp'], storage: ['s3'] }[section];
  const save = async (e) => {
    e.preventDefault();
    setBusy(true);
    setErrors([]);
    try {
      const body = Object.fromEntries(keys.map((k) => [k, s[k]]));
      setS(await pb.settings.update(body));
      toast('Settings saved.');
    } catch (x) {
      const fe = fieldErrors(x);
      setErrors(fe.length ? fe : [['', errorMessage(x)]]);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="settings" onSubmit={save}>
      <h1>{SECTIONS.find(([k]) => k === section)[1]}</h1>
      <ErrorList errors={errors} />
      {section === 'application' && <Application s={s} sub={sub} />}
      {section === 'mail' && <Mail s={s} sub={sub} />}
      {section === 'storage' && <Storage s={s} sub={sub} />}
      <div class="row end">
        <button class="primary" disabled={busy}>Save changes</button>
      </div>
    </form>
  );
}

function Application({ s, sub }) {
  const rl = s.rateLimits || { enabled: false, rules: [] };
  const rules = rl.rules || [];
  const setRule = (i, patch) => sub('rateLimits', { rules: rules.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  return (
    <>
      <div class="grid">
        <TextInput label="Application name" value={s.meta.appName} onInput={(appName) => sub('meta', { appName })} />
        <TextInput label="Application URL" value={s.meta.appURL} onInput={(appURL) => sub('meta', { appURL })} />
      </div>
      <Check label="Hide collection create and edit controls" checked={s.meta.hideControls} onChange={(hideControls) => sub('meta', { hideControls })} />
      <h2>Batch API</h2>
      <div class="grid">
        <Check label="Enable batch requests" checked={s.batch?.enabled} onChange={(enabled) => sub('batch', { enabled })} />
        <NumberInput label="Max requests per batch" value={s.batch?.maxRequests} onInput={(maxRequests) => sub('batch', { maxRequests })} />
        <NumberInput label="Timeout (s)" value={s.batch?.timeout} onInput={(timeout) => sub('batch', { timeout })} />
        <NumberInput label="Max body size (bytes, 0 = default)" value={s.batch?.maxBodySize} onInput={(maxBodySize) => sub('batch', { maxBodySize })} />
      </div>
      <h2>Rate limits</h2>
      <Check label="Enable rate limiting" checked={rl.enabled} onChange={(enabled) => sub('rateLimits', { enabled })} />
      <table class="grid-table compact">
        <thead><tr><th>Label</th><th>Max requests</th><th>Interval (s)</th><th>Audience</th><th><span class="sr-only">Actions</span></th></tr></thead>
        <tbody>
          {rules.map((r, i) => (
            <tr>
              <td><input aria-label="Rule label" value={r.label} onInput={(e) => setRule(i, { label: e.currentTarget.value })} /></td>
              <td><input aria-label="Max requests" type="number" value={r.maxRequests} onInput={(e) => setRule(i, { maxRequests: Number(e.currentTarget.value) })} /></td>
              <td><input aria-label="Interval in seconds" type="number" value={r.duration} onInput={(e) => setRule(i, { duration: Number(e.currentTarget.value) })} /></td>
              <td>
                <select aria-label="Audience" value={r.audience || ''} onChange={(e) => setRule(i, { audience: e.currentTarget.value })}>
                  <option value="">All</option><option value="@guest">Guests</option><option value="@auth">Authenticated</option>
                </select>
              </td>
              <td><button type="button" class="ghost small danger" onClick={() => sub('rateLimits', { rules: rules.filter((_, j) => j !== i) })}>Remove</button></td>
            </tr>
          ))}
        </tbody>
      </table>
      <button type="button" class="small" onClick={() => sub('rateLimits', { rules: [...rules, { label: '', maxRequests: 100, duration: 10, audience: '' }] })}>Add rule</button>
      <h2>Trusted proxy</h2>
      <div class="grid">
        <TextInput label="Headers with the client IP (comma-separated)" value={(s.trustedProxy?.headers || []).join(', ')} onInput={(v) => sub('trustedProxy', { headers: v.split(',').map((x) => x.trim()).filter(Boolean) })} />
        <Check label="Use the leftmost IP" checked={s.trustedProxy?.useLeftmostIP} onChange={(useLeftmostIP) => sub('trustedProxy', { useLeftmostIP })} />
      </div>
      <h2>Logs</h2>
      <div class="grid">
        <NumberInput label="Keep logs (days, 0 = off)" value={s.logs?.maxDays} onInput={(maxDays) => sub('logs', { maxDays })} />
        <Select label="Minimum level" value={String(s.logs?.minLevel ?? 0)} onChange={(v) => sub('logs', { minLevel: Number(v) })} options={[{ value: '-4', label: 'DEBUG' }, { value: '0', label: 'INFO' }, { value: '4', label: 'WARN' }, { value: '8', label: 'ERROR' }]} />
        <Check label="Log the client IP" checked={s.logs?.logIP} onChange={(logIP) => sub('logs', { logIP })} />
        <Check label="Log the auth id" checked={s.logs?.logAuthId} onChange={(logAuthId) => sub('logs', { logAuthId })} />
      </div>
    </>
  );
}

function Mail({ s, sub }) {
  const smtp = s.smtp || {};
  const all = useStore(collections);
  const [to, setTo] = useState('');
  const [template, setTemplate] = useState('verification');
  const [col, setCol] = useState('_superusers');
  const test = async () => {
    try {
      await pb.settings.testEmail(col, to, template);
      toast(`Test mail sent to ${to}.`);
    } catch (e) {
      toast(errorMessage(e), 'error');
    }
  };
  return (
    <>
      <div class="grid">
        <TextInput label="Sender name" value={s.meta.senderName} onInput={(senderName) => sub('meta', { senderName })} />
        <TextInput label="Sender address" type="email" value={s.meta.senderAddress} onInput={(senderAddress) => sub('meta', { senderAddress })} />
      </div>
      <h2>SMTP server</h2>
      <Check label="Send through an SMTP server" checked={smtp.enabled} onChange={(enabled) => sub('smtp', { enabled })} />
      <div class="grid">
        <TextInput label="Host" value={smtp.host} onInput={(host) => sub('smtp', { host })} />
        <NumberInput label="Port" value={smtp.port} onInput={(port) => sub('smtp', { port })} />
        <TextInput label="Username" value={smtp.username} onInput={(username) => sub('smtp', { username })} autocomplete="off" />
        <TextInput label="Password" type="password" value={smtp.password} onInput={(password) => sub('smtp', { password })} autocomplete="new-password" />
        <Select label="Auth method" value={smtp.authMethod || 'PLAIN'} onChange={(authMethod) => sub('smtp', { authMethod })} options={['PLAIN', 'LOGIN']} />
        <Check label="Implicit TLS" checked={smtp.tls} onChange={(tls) => sub('smtp', { tls })} />
        <TextInput label="Local name (HELO)" value={smtp.localName} onInput={(localName) => sub('smtp', { localName })} />
      </div>
      <fieldset>
        <legend>Send a test mail (uses the saved settings)</legend>
        <div class="row">
          <TextInput label="To" type="email" value={to} onInput={setTo} />
          <Select label="Template" value={template} onChange={setTemplate} options={['verification', 'password-reset', 'email-change', 'otp', 'login-alert']} />
          <Select label="Collection" value={col} onChange={setCol} options={all.filter((c) => c.type === 'auth').map((c) => c.name)} />
          <button type="button" onClick={test} disabled={!to}>Send test mail</button>
        </div>
      </fieldset>
    </>
  );
}

function Storage({ s, sub }) {
  const s3 = s.s3 || {};
  const test = async () => {
    try {
      await pb.settings.testS3('storage');
      toast('The S3 storage answered.');
    } catch (e) {
      toast(errorMessage(e), 'error');
    }
  };
  return (
    <>
      <p class="muted">Record files are stored in pb_data/storage unless S3 is enabled.</p>
      <Check label="Use S3-compatible storage" checked={s3.enabled} onChange={(enabled) => sub('s3', { enabled })} />
      <div class="grid">
        <TextInput label="Endpoint" value={s3.endpoint} onInput={(endpoint) => sub('s3', { endpoint })} />
        <TextInput label="Bucket" value={s3.bucket} onInput={(bucket) => sub('s3', { bucket })} />
        <TextInput label="Region" value={s3.region} onInput={(region) => sub('s3', { region })} />
        <TextInput label="Access key" value={s3.accessKey} onInput={(accessKey) => sub('s3', { accessKey })} autocomplete="off" />
        <TextInput label="Secret" type="password" value={s3.secret} onInput={(secret) => sub('s3', { secret })} autocomplete="new-password" />
        <Check label="Force path-style addressing" checked={s3.forcePathStyle} onChange={(forcePathStyle) => sub('s3', { forcePathStyle })} />
      </div>
      <button type="button" onClick={test}>Test the saved S3 settings</button>
    </>
  );
}

function Crons() {
  const [list, setList] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    pb.crons.getFullList().then(setList).catch((e) => setError(errorMessage(e)));
  }, []);
  const run = async (id) => {
    try {
      await pb.crons.run(id);
      toast(`Started "${id}".`);
    } catch (e) {
      toast(errorMessage(e), 'error');
    }
  };
  return (
    <section>
      <h1>Cron jobs</h1>
      <p class="muted">Jobs are registered by the program (hooks or C code); they run in UTC.</p>
      {error && <p class="alert error" role="alert">{error}</p>}
      {!list ? <Loading /> : (
        <table class="grid-table">
          <thead><tr><th>Job</th><th>Schedule</th><th><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {list.map((c) => (
              <tr>
                <td><code>{c.id}</code></td>
                <td><code>{c.expression}</code></td>
                <td><button type="button" class="small" onClick={() => run(c.id)} aria-label={`Run ${c.id} now`}>Run now</button></td>
              </tr>
            ))}
            {!list.length && <tr><td colSpan={3} class="muted">No cron jobs.</td></tr>}
          </tbody>
        </table>
      )}
    </section>
  );
}

const exportable = (list) =>
  list.map((c) => {
    const { created, updated, ...rest } = c;
    return rest;
  });

function Export() {
  const list = useStore(collections);
  const text = JSON.stringify(exportable(list), null, 2);
  const [url, setUrl] = useState('');
  useEffect(() => {
    const u = URL.createObjectURL(new Blob([text], { type: 'application/json' }));
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [text]);
  return (
    <section>
      <h1>Export collections</h1>
      <div class="row">
        <a class="button primary" href={url} download="pb_schema.json">Download JSON</a>
        <button type="button" onClick={() => navigator.clipboard?.writeText(text).then(() => toast('Copied.'))}>Copy</button>
      </div>
      <Field label="Collections JSON">{(id) => <textarea id={id} class="code" rows={20} readOnly value={text} />}</Field>
    </section>
  );
}

// The differences between the current collections and an import.
export function diffCollections(current, next, deleteMissing) {
  const rows = [];
  for (const n of next) {
    const c = current.find((x) => x.id === n.id || x.name === n.name);
    if (!c) {
      rows.push({ kind: 'added', name: n.name, details: `${(n.fields || []).length} field(s)` });
      continue;
    }
    const details = [];
    for (const key of ['name', 'type', 'listRule', 'viewRule', 'createRule', 'updateRule', 'deleteRule', 'viewQuery']) {
      if (key in n && JSON.stringify(n[key]) !== JSON.stringify(c[key])) details.push(`${key}: ${JSON.stringify(c[key])} → ${JSON.stringify(n[key])}`);
    }
    for (const f of n.fields || []) {
      const g = (c.fields || []).find((x) => x.id === f.id || x.name === f.name);
      if (!g) details.push(`+ field ${f.name} (${f.type})`);
      else if (JSON.stringify(g) !== JSON.stringify({ ...g, ...f })) details.push(`~ field ${f.name}`);
    }
    for (const g of c.fields || []) if (!(n.fields || []).some((f) => f.id === g.id || f.name === g.name)) details.push(`- field ${g.name}`);
    if (JSON.stringify(n.indexes || []) !== JSON.stringify(c.indexes || [])) details.push('indexes changed');
    if (details.length) rows.push({ kind: 'changed', name: n.name, details: details.join('; ') });
  }
  if (deleteMissing)
    for (const c of current) if (!c.system && !next.some((n) => n.id === c.id || n.name === c.name)) rows.push({ kind: 'deleted', name: c.name, details: 'and all its records' });
  return rows;
}

function Import() {
  const current = useStore(collections);
  const [text, setText] = useState('');
  const [deleteMissing, setDeleteMissing] = useState(false);
  const [errors, setErrors] = useState([]);
  let parsed = null;
  let parseError = '';
  if (text.trim()) {
    try {
      parsed = JSON.parse(text);
      if (!Array.isArray(parsed)) throw new Error('Expected an array of collections.');
    } catch (e) {
      parseError = e.message;
      parsed = null;
    }
  }
  const diff = parsed ? diffCollections(current, parsed, deleteMissing) : [];
  const load = (file) => file && file.text().then(setText);
  const run = async () => {
    if (diff.some((d) => d.kind === 'deleted') && !(await confirm('Collections missing from the import will be deleted with their records. Continue?', { action: 'Import' }))) return;
    setErrors([]);
    try {
      await pb.collections.import(parsed, deleteMissing);
      await loadCollections();
      setText('');
      toast('Collections imported.');
    } catch (e) {
      const fe = fieldErrors(e);
      setErrors(fe.length ? fe : [['', errorMessage(e)]]);
    }
  };
  return (
    <section>
      <h1>Import collections</h1>
      <ErrorList errors={errors} />
      <Field label="Load a JSON file">{(id) => <input id={id} type="file" accept="application/json,.json" onChange={(e) => load(e.currentTarget.files[0])} />}</Field>
      <Field label="Collections JSON" error={parseError && `Invalid JSON: ${parseError}`}>
        {(id) => <textarea id={id} class="code" rows={12} value={text} onInput={(e) => setText(e.currentTarget.value)} spellcheck={false} />}
      </Field>
      <Check label="Delete collections that are not in the import" checked={deleteMissing} onChange={setDeleteMissing} />
      {parsed && (
        <>
          <h2>Changes</h2>
          {diff.length ? (
            <table class="grid-table diff">
              <thead><tr><th>Change</th><th>Collection</th><th>Details</th></tr></thead>
              <tbody>
                {diff.map((d) => (
                  <tr class={'diff-' + d.kind}><td>{d.kind}</td><td>{d.name}</td><td>{d.details}</td></tr>
                ))}
              </tbody>
            </table>
          ) : <p class="muted">No changes.</p>}
          <button type="button" class="primary" disabled={!diff.length} onClick={run}>Review done: import</button>
        </>
      )}
    </section>
  );
}
