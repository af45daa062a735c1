// The collection editor: name and type, fields with their options,
// indexes, API rules (with autocomplete and a server check as you type),
// the view query with a preview, and the auth options of auth
// collections. Saving shows the server's field errors in place; removed
// or renamed fields are confirmed first; truncate and delete live here.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, pb, randomId } from '../api.js';
import { collections, loadCollections, toast, useStore } from '../store.js';
import { vocabulary } from '../autocomplete.js';
import { Check, confirm, ErrorList, ExprInput, Field, Modal, NumberInput, Select, Tabs, TextInput } from '../ui.jsx';
import { FIELD_TYPES, newField, TYPE_NAMES } from './fields.js';

const RULES = [
  ['listRule', 'List/Search rule'],
  ['viewRule', 'View rule'],
  ['createRule', 'Create rule'],
  ['updateRule', 'Update rule'],
  ['deleteRule', 'Delete rule'],
];
const AUTH_RULES = [
  ['authRule', 'Authentication rule'],
  ['manageRule', 'Manage rule'],
];
const TOKENS = ['authToken', 'passwordResetToken', 'emailChangeToken', 'verificationToken', 'fileToken'];
const TEMPLATES = [
  ['verificationTemplate', 'Verification mail'],
  ['resetPasswordTemplate', 'Password reset mail'],
  ['confirmEmailChangeTemplate', 'Email change mail'],
];

const clone = (v) => JSON.parse(JSON.stringify(v));

export function CollectionEditor({ original, onClose }) {
  const all = useStore(collections);
  const [draft, setDraft] = useState(() => (original ? clone(original) : null));
  const [tab, setTab] = useState(original?.type === 'view' ? 'query' : 'fields');
  const [errors, setErrors] = useState([]);
  const [busy, setBusy] = useState(false);

  // A new collection starts from the server's scaffold of its type.
  const scaffold = async (type, name = '') => {
    const s = await pb.collections.getScaffolds();
    const c = clone(s[type]);
    c.name = name;
    setDraft(c);
    setTab(type === 'view' ? 'query' : 'fields');
  };
  useEffect(() => {
    if (!original) scaffold('base').catch((e) => setErrors([['', errorMessage(e)]]));
  }, []);
  if (!draft) return <Modal title="New collection" onClose={() => onClose()}><p class="muted">Loading…</p></Modal>;

  const set = (patch) => setDraft((d) => ({ ...d, ...patch }));
  const errorsAt = (prefix) => errors.filter(([p]) => p === prefix || p.startsWith(prefix + '.'));
  const fieldError = (p) => errors.find(([q]) => q === p)?.[1];

  const save = async () => {
    setErrors([]);
    if (original) {
      const removed = original.fields.filter((f) => !draft.fields.some((g) => g.id === f.id));
      const renamed = original.fields.filter((f) => draft.fields.some((g) => g.id === f.id && g.name !== f.name));
      const lines = [
        ...removed.map((f) => `remove the field "${f.name}" and its data`),
        ...renamed.map((f) => `rename "${f.name}" to "${draft.fields.find((g) => g.id === f.id).name}"`),
      ];
      if (original.name !== draft.name) lines.push(`rename the collection to "${draft.name}"`);
      if (lines.length && !(await confirm(`This will ${lines.join(', ')}. Continue?`, { action: 'Save changes' }))) return;
    }
    setBusy(true);
    try {
      const body = JSON.parse(JSON.stringify(draft, (k, v) => (k === '_renew' ? undefined : v)));
      const saved = original ? await pb.collections.update(original.id, body) : await pb.collections.create(body);
      await loadCollections();
      toast(`Saved collection "${saved.name}".`);
      onClose(saved);
    } catch (e) {
      const fe = fieldErrors(e);
      setErrors(fe.length ? fe : [['', errorMessage(e)]]);
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    if (!(await confirm(`Delete the collection "${original.name}" and all its records?`, { action: 'Delete' }))) return;
    try {
      await pb.collections.delete(original.id);
      await loadCollections();
      toast(`Deleted collection "${original.name}".`);
      location.hash = '#/collections';
    } catch (e) {
      setErrors([['', errorMessage(e)]]);
    }
  };
  const truncate = async () => {
    if (!(await confirm(`Delete every record of "${original.name}"?`, { action: 'Truncate' }))) return;
    try {
      await pb.collections.truncate(original.id);
      toast(`Truncated "${original.name}".`);
      onClose(original);
    } catch (e) {
      setErrors([['', errorMessage(e)]]);
    }
  };

  const tabs = [[draft.type === 'view' ? 'query' : 'fields', draft.type === 'view' ? 'View query' : 'Fields'], ['rules', 'API rules']];
  if (draft.type === 'view') tabs.push(['fields', 'Fields']);
  if (draft.type === 'auth') tabs.push(['options', 'Auth options']);
  const current = tabs.some(([k]) => k === tab) ? tab : tabs[0][0];

  return (
    <Modal
      wide
      title={original ? `Edit collection ${original.name}` : 'New collection'}
      onClose={() => onClose()}
      footer={
        <>
          {original && !original.system && (
            <>
              <button type="button" class="danger ghost" onClick={remove}>Delete</button>
              {original.type !== 'view' && <button type="button" class="ghost" onClick={truncate}>Truncate</button>}
            </>
          )}
          <span class="grow" />
          <button type="button" class="ghost" onClick={() => onClose()}>Cancel</button>
          <button type="button" class="primary" disabled={busy} onClick={save}>{original ? 'Save changes' : 'Create'}</button>
        </>
      }
    >
      <ErrorList errors={errors.filter(([p]) => !/^(fields\.|indexes\.)/.test(p))} />
      <div class="row">
        <TextInput label="Name" value={draft.name} onInput={(name) => set({ name })} error={fieldError('name')} disabled={draft.system} />
        <Select
          label="Type"
          value={draft.type}
          options={['base', 'auth', 'view']}
          onChange={(t) => (original ? null : scaffold(t, draft.name))}
          hint={original ? 'The type cannot change.' : ''}
        />
      </div>
      <Tabs tabs={tabs} current={current} onChange={setTab} />
      {current === 'fields' && <FieldsTab draft={draft} set={set} all={all} errorsAt={errorsAt} readonly={draft.type === 'view'} />}
      {current === 'query' && <QueryTab draft={draft} set={set} error={fieldError('viewQuery')} />}
      {current === 'rules' && <RulesTab draft={draft} set={set} all={all} original={original} fieldError={fieldError} />}
      {current === 'options' && <AuthTab draft={draft} set={set} errorsAt={errorsAt} />}
    </Modal>
  );
}

function FieldsTab({ draft, set, all, errorsAt, readonly }) {
  const [open, setOpen] = useState(null);
  const [addType, setAddType] = useState('text');
  const fields = draft.fields || [];
  const update = (i, patch) => set({ fields: fields.map((f, j) => (j === i ? { ...f, ...patch } : f)) });
  const add = () => {
    const f = newField(addType, all);
    f.name = `field${fields.length + 1}`;
    set({ fields: [...fields, f] });
    setOpen(fields.length);
  };
  return (
    <section aria-label="Fields">
      <ul class="fields">
        {fields.map((f, i) => {
          const errs = errorsAt(`fields.${i}`);
          return (
            <li class={'fieldrow' + (errs.length ? ' has-error' : '')} data-name={f.name}>
              <div class="fieldhead">
                <span class={'badge t-' + f.type}>{f.type}</span>
                <label class="sr-only" for={`fname-${i}`}>Field name</label>
                <input id={`fname-${i}`} class="fname" value={f.name} disabled={f.system || readonly} onInput={(e) => update(i, { name: e.currentTarget.value })} />
                {!readonly && (
                  <>
                    <button type="button" class="ghost small" aria-expanded={open === i ? 'true' : 'false'} onClick={() => setOpen(open === i ? null : i)}>
                      Options
                    </button>
                    {!f.system && (
                      <button type="button" class="ghost small danger" aria-label={`Remove field ${f.name}`} onClick={() => set({ fields: fields.filter((_, j) => j !== i) })}>
                        Remove
                      </button>
                    )}
                  </>
                )}
              </div>
              {errs.map(([p, m]) => (
                <small class="error" role="alert">{p.split('.').slice(2).join('.') || 'field'}: {m}</small>
              ))}
              {open === i && !readonly && <FieldOptions f={f} update={(p) => update(i, p)} all={all} />}
            </li>
          );
        })}
      </ul>
      {!readonly && (
        <div class="row end">
          <Select label="New field type" value={addType} onChange={setAddType} options={TYPE_NAMES.filter((t) => t !== 'password' || draft.type === 'auth')} />
          <button type="button" onClick={add}>Add field</button>
        </div>
      )}
      {draft.type !== 'view' && <Indexes draft={draft} set={set} errorsAt={errorsAt} />}
    </section>
  );
}

function FieldOptions({ f, update, all }) {
  const opts = FIELD_TYPES[f.type] || [];
  return (
    <div class="options grid">
      <Check label="Required" checked={f.required} onChange={(required) => update({ required })} />
      <Check label="Hidden" checked={f.hidden} onChange={(hidden) => update({ hidden })} />
      <Check label="Presentable" checked={f.presentable} onChange={(presentable) => update({ presentable })} />
      {opts.map(([key, kind, label]) => {
        if (kind === 'bool') return <Check label={label} checked={f[key]} onChange={(v) => update({ [key]: v })} />;
        if (kind === 'number') return <NumberInput label={label} value={f[key] || ''} onInput={(v) => update({ [key]: v })} />;
        if (kind === 'nnumber')
          return (
            <Field label={label}>
              {(id) => <input id={id} type="number" value={f[key] ?? ''} onInput={(e) => update({ [key]: e.currentTarget.value === '' ? null : Number(e.currentTarget.value) })} />}
            </Field>
          );
        if (kind === 'list')
          return (
            <TextInput
              label={label}
              value={(f[key] || []).join(', ')}
              onInput={(v) => update({ [key]: v.split(',').map((s) => s.trim()).filter(Boolean) })}
            />
          );
        if (kind === 'collection')
          return <Select label={label} value={f[key]} onChange={(v) => update({ [key]: v })} options={all.map((c) => ({ value: c.id, label: c.name }))} />;
        return <TextInput label={label} value={f[key]} onInput={(v) => update({ [key]: v })} />;
      })}
    </div>
  );
}

function Indexes({ draft, set, errorsAt }) {
  const [cols, setCols] = useState([]);
  const [unique, setUnique] = useState(false);
  const indexes = draft.indexes || [];
  const add = () => {
    if (!cols.length) return;
    const sql = `CREATE ${unique ? 'UNIQUE ' : ''}INDEX \`idx_${draft.name || 'c'}_${randomId(5)}\` ON \`${draft.name}\` (${cols.map((c) => '`' + c + '`').join(', ')})`;
    set({ indexes: [...indexes, sql] });
    setCols([]);
    setUnique(false);
  };
  return (
    <section class="indexes" aria-label="Indexes">
      <h3>Indexes</h3>
      <ul>
        {indexes.map((sql, i) => (
          <li class="index">
            <code>{sql}</code>
            <button type="button" class="ghost small danger" aria-label="Remove index" onClick={() => set({ indexes: indexes.filter((_, j) => j !== i) })}>Remove</button>
            {errorsAt(`indexes.${i}`).map(([, m]) => <small class="error" role="alert">{m}</small>)}
          </li>
        ))}
      </ul>
      <fieldset class="newindex">
        <legend>New index on</legend>
        {(draft.fields || []).filter((f) => f.name).map((f) => (
          <Check label={f.name} checked={cols.includes(f.name)} onChange={(on) => setCols(on ? [...cols, f.name] : cols.filter((c) => c !== f.name))} />
        ))}
        <Check label="Unique" checked={unique} onChange={setUnique} />
        <button type="button" onClick={add} disabled={!cols.length}>Add index</button>
      </fieldset>
    </section>
  );
}

function QueryTab({ draft, set, error }) {
  const [preview, setPreview] = useState(null);
  const [err, setErr] = useState('');
  const run = async () => {
    setErr('');
    try {
      setPreview(await pb.send('/api/collections/meta/dry-run-view', { method: 'POST', body: { query: draft.viewQuery } }));
    } catch (e) {
      setErr(errorMessage(e));
      setPreview(null);
    }
  };
  return (
    <section aria-label="View query">
      <Field label="SELECT query" error={error} hint="The columns become the view's fields; the query needs an id column.">
        {(id) => <textarea id={id} class="code" rows={8} value={draft.viewQuery || ''} onInput={(e) => set({ viewQuery: e.currentTarget.value })} spellcheck={false} />}
      </Field>
      <button type="button" onClick={run}>Preview</button>
      {err && <p class="alert error" role="alert">{err}</p>}
      {preview && <pre class="code small">{JSON.stringify(preview, null, 2)}</pre>}
    </section>
  );
}

function RulesTab({ draft, set, all, original, fieldError }) {
  const vocab = useMemo(() => vocabulary(draft, all, true), [draft.fields, all]);
  const rules = draft.type === 'auth' ? [...RULES, ...AUTH_RULES] : draft.type === 'view' ? RULES.slice(0, 2) : RULES;
  return (
    <section aria-label="API rules">
      <p class="muted small">
        Empty: anyone. Locked: superusers only. Type to get fields, <code>@request.*</code>, <code>@collection.*</code> and modifiers.
      </p>
      {rules.map(([key, label]) => (
        <RuleEditor key={key} name={key} label={label} value={draft[key]} onChange={(v) => set({ [key]: v })} vocab={vocab} collection={original} error={fieldError(key)} />
      ))}
      {draft.type === 'auth' && (
        <RuleEditor name="mfa.rule" label="MFA rule" value={draft.mfa?.rule ?? ''} onChange={(v) => set({ mfa: { ...draft.mfa, rule: v ?? '' } })} vocab={vocab} collection={original} error={fieldError('mfa.rule')} nullable={false} />
      )}
    </section>
  );
}

// One rule: null locks it to superusers. On a saved collection the text is
// checked by the server as a filter while it is typed.
function RuleEditor({ name, label, value, onChange, vocab, collection, error, nullable = true }) {
  const [check, setCheck] = useState('');
  useEffect(() => {
    setCheck('');
    if (!collection || !value || /@request\.body|:changed/.test(value)) return;
    const t = setTimeout(() => {
      pb.collection(collection.id)
        .getList(1, 1, { filter: value, skipTotal: true, fields: 'id' })
        .then(() => setCheck(''))
        .catch((e) => setCheck(errorMessage(e)));
    }, 500);
    return () => clearTimeout(t);
  }, [value, collection?.id]);
  const locked = nullable && value === null;
  return (
    <div class={'rule' + (error || check ? ' has-error' : '')} data-rule={name}>
      <div class="rulehead">
        <label for={`rule-${name}`}>{label}</label>
        {nullable && (
          <button type="button" class="ghost small" onClick={() => onChange(locked ? '' : null)}>
            {locked ? 'Unlock' : 'Set superusers only'}
          </button>
        )}
      </div>
      {locked ? (
        <p class="locked" id={`rule-${name}`}>Superusers only</p>
      ) : (
        <ExprInput id={`rule-${name}`} value={value} onInput={onChange} vocab={vocab} multiline placeholder="Leave empty to allow anyone" />
      )}
      {(error || check) && <small class="error" role="alert">{error || `Server: ${check}`}</small>}
    </div>
  );
}

function AuthTab({ draft, set, errorsAt }) {
  const [providers, setProviders] = useState([]);
  useEffect(() => {
    pb.send('/api/collections/meta/oauth2-providers', {}).then(setProviders).catch(() => {});
  }, []);
  const sub = (key, patch) => set({ [key]: { ...(draft[key] || {}), ...patch } });
  const oauth = draft.oauth2 || { enabled: false, providers: [] };
  const provs = oauth.providers || [];
  const [addProv, setAddProv] = useState('');
  const errs = errorsAt('');
  return (
    <section aria-label="Auth options" class="authopts">
      <h3>Password</h3>
      <Check label="Enable password auth" checked={draft.passwordAuth?.enabled} onChange={(enabled) => sub('passwordAuth', { enabled })} />
      <TextInput label="Identity fields (comma-separated)" value={(draft.passwordAuth?.identityFields || []).join(', ')} onInput={(v) => sub('passwordAuth', { identityFields: v.split(',').map((s) => s.trim()).filter(Boolean) })} />
      <h3>One-time password (OTP)</h3>
      <div class="row">
        <Check label="Enable OTP" checked={draft.otp?.enabled} onChange={(enabled) => sub('otp', { enabled })} />
        <NumberInput label="Code duration (s)" value={draft.otp?.duration} onInput={(duration) => sub('otp', { duration })} />
        <NumberInput label="Code length" value={draft.otp?.length} onInput={(length) => sub('otp', { length })} />
      </div>
      <h3>Multi-factor authentication (MFA)</h3>
      <div class="row">
        <Check label="Enable MFA" checked={draft.mfa?.enabled} onChange={(enabled) => sub('mfa', { enabled })} hint="Needs two different auth methods (e.g. password and OTP)." />
        <NumberInput label="MFA duration (s)" value={draft.mfa?.duration} onInput={(duration) => sub('mfa', { duration })} />
      </div>
      <h3>OAuth2</h3>
      <Check label="Enable OAuth2" checked={oauth.enabled} onChange={(enabled) => sub('oauth2', { enabled })} />
      {provs.map((p, i) => {
        const up = (patch) => sub('oauth2', { providers: provs.map((q, j) => (j === i ? { ...q, ...patch } : q)) });
        return (
          <div class="row provider">
            <strong>{p.name}</strong>
            <TextInput label="Client id" value={p.clientId} onInput={(clientId) => up({ clientId })} />
            <TextInput label="Client secret" type="password" value={p.clientSecret} onInput={(clientSecret) => up({ clientSecret })} />
            <button type="button" class="ghost small danger" onClick={() => sub('oauth2', { providers: provs.filter((_, j) => j !== i) })}>Remove</button>
          </div>
        );
      })}
      <div class="row end">
        <Select label="Add provider" value={addProv} onChange={setAddProv} options={[{ value: '', label: 'Choose…' }, ...providers.filter((p) => !provs.some((q) => q.name === p.name)).map((p) => ({ value: p.name, label: p.displayName }))]} />
        <button type="button" disabled={!addProv} onClick={() => (sub('oauth2', { providers: [...provs, { name: addProv, clientId: '', clientSecret: '' }] }), setAddProv(''))}>Add</button>
      </div>
      <h3>Token options</h3>
      <div class="grid">
        {TOKENS.map((t) => (
          <div>
            <NumberInput label={`${t} duration (s)`} value={draft[t]?.duration} onInput={(duration) => sub(t, { duration })} />
            <Check label={`Invalidate all ${t}s`} checked={draft[t]?._renew} onChange={(on) => sub(t, on ? { secret: randomId(50), _renew: true } : { _renew: false })} />
          </div>
        ))}
      </div>
      <h3>Mail templates</h3>
      {TEMPLATES.map(([key, label]) => (
        <Template label={label} value={draft[key]} onChange={(v) => set({ [key]: v })} />
      ))}
      <Template label="OTP mail" value={draft.otp?.emailTemplate} onChange={(emailTemplate) => sub('otp', { emailTemplate })} />
      <Template label="Login alert mail" value={draft.authAlert?.emailTemplate} onChange={(emailTemplate) => sub('authAlert', { emailTemplate })} />
      <ErrorList errors={errs.filter(([p]) => /^(otp|mfa|oauth2|passwordAuth|authAlert|.*Token|.*Template)/.test(p))} />
    </section>
  );
}

function Template({ label, value, onChange }) {
  const v = value || { subject: '', body: '' };
  return (
    <details class="template">
      <summary>{label}</summary>
      <TextInput label="Subject" value={v.subject} onInput={(subject) => onChange({ ...v, subject })} />
      <Field label="Body (HTML)" hint="Placeholders: {APP_NAME}, {APP_URL}, {TOKEN}, {OTP}, {RECORD:*}">
        {(id) => <textarea id={id} class="code" rows={6} value={v.body} onInput={(e) => onChange({ ...v, body: e.currentTarget.value })} />}
      </Field>
    </details>
  );
}
