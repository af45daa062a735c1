// Creating and editing one record: an input per field type, the relation
// picker, file uploads (drag and drop, thumbnails, removal), JSON with a
// syntax check, dates, selects, geo points; for auth records the password
// pair and impersonation. Server errors appear beside their fields.
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, fieldErrors, pb } from '../api.js';
import { collections, toast, useStore } from '../store.js';
import { Check, confirm, Field, Modal } from '../ui.jsx';
import { recordLabel } from './records.jsx';

const IMAGE = /\.(png|jpe?g|gif|webp|svg|avif)$/i;
const SKIP = new Set(['tokenKey']);

const toLocalInput = (v) => (v ? v.slice(0, 16).replace(' ', 'T') : '');
const fromLocalInput = (v) => (v ? v.replace('T', ' ') + ':00.000Z' : '');

function initialValues(col, rec) {
  const out = {};
  for (const f of col.fields) {
    let v = rec ? rec[f.name] : undefined;
    if (f.type === 'json') v = v === undefined || v === null ? '' : JSON.stringify(v, null, 2);
    if (f.type === 'geoPoint') v = v || { lon: 0, lat: 0 };
    if (f.type === 'password') v = '';
    out[f.name] = v ?? (f.type === 'bool' ? false : '');
  }
  return out;
}

export function RecordForm({ collection: col, record, onClose }) {
  const [values, setValues] = useState(() => initialValues(col, record));
  const [passwordConfirm, setPasswordConfirm] = useState('');
  const [newFiles, setNewFiles] = useState({}); // field -> File[]
  const [removed, setRemoved] = useState({}); // field -> names
  const [errors, setErrors] = useState({});
  const [general, setGeneral] = useState('');
  const [busy, setBusy] = useState(false);
  const [impersonated, setImpersonated] = useState('');
  const set = (name, v) => setValues((s) => ({ ...s, [name]: v }));
  const editable = col.fields.filter((f) => !SKIP.has(f.name) && f.type !== 'autodate' && !(f.name === 'id' && record));

  const submit = async (e) => {
    e?.preventDefault();
    setErrors({});
    setGeneral('');
    const body = {};
    const errs = {};
    for (const f of editable) {
      let v = values[f.name];
      if (f.type === 'json') {
        if (v.trim() === '') v = null;
        else {
          try {
            v = JSON.parse(v);
          } catch (x) {
            errs[f.name] = `Invalid JSON: ${x.message}`;
            continue;
          }
        }
      }
      if (f.type === 'file') {
        const add = newFiles[f.name] || [];
        const rm = removed[f.name] || [];
        if (rm.length) body[`${f.name}-`] = rm;
        if (add.length) body[(f.maxSelect || 1) > 1 ? `${f.name}+` : f.name] = (f.maxSelect || 1) > 1 ? add : add[0];
        continue;
      }
      if (f.type === 'password') {
        if (v) {
          body[f.name] = v;
          body.passwordConfirm = passwordConfirm;
        }
        continue;
      }
      if (f.name === 'id' && !v) continue;
      body[f.name] = v;
    }
    if (Object.keys(errs).length) return setErrors(errs);
    setBusy(true);
    try {
      if (record) await pb.collection(col.id).update(record.id, body);
      else await pb.collection(col.id).create(body);
      toast(record ? 'Record saved.' : 'Record created.');
      onClose(true);
    } catch (x) {
      const fe = fieldErrors(x);
      setErrors(Object.fromEntries(fe.map(([p, m]) => [p.split('.')[0], m])));
      setGeneral(errorMessage(x));
    } finally {
      setBusy(false);
    }
  };
  const remove = async () => {
    if (!(await confirm('Delete this record?', { action: 'Delete' }))) return;
    try {
      await pb.collection(col.id).delete(record.id);
      toast('Record deleted.');
      onClose(true);
    } catch (x) {
      setGeneral(errorMessage(x));
    }
  };
  const impersonate = async () => {
    try {
      const client = await pb.collection(col.id).impersonate(record.id, 3600);
      setImpersonated(client.authStore.token);
    } catch (x) {
      setGeneral(errorMessage(x));
    }
  };
  useEffect(() => {
    const onKey = (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key === 's') {
        e.preventDefault();
        submit();
      }
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  });

  return (
    <Modal
      wide
      title={record ? `Edit ${col.name} record` : `New ${col.name} record`}
      onClose={() => onClose(false)}
      footer={
        <>
          {record && col.type !== 'view' && <button type="button" class="danger ghost" onClick={remove}>Delete</button>}
          {record && col.type === 'auth' && <button type="button" class="ghost" onClick={impersonate}>Impersonate</button>}
          <span class="grow" />
          <button type="button" class="ghost" onClick={() => onClose(false)}>Cancel</button>
          {col.type !== 'view' && <button type="submit" form="record-form" class="primary" disabled={busy}>{record ? 'Save' : 'Create'}</button>}
        </>
      }
    >
      <form id="record-form" onSubmit={submit}>
        {general && <p class="alert error" role="alert">{general}</p>}
        {impersonated && (
          <Field label="Impersonation token (1 hour, not refreshable)">
            {(id) => <textarea id={id} class="code" rows={3} readOnly value={impersonated} />}
          </Field>
        )}
        {record && <p class="muted small">id: <code>{record.id}</code>{record.created ? ` · created ${record.created}` : ''}{record.updated ? ` · updated ${record.updated}` : ''}</p>}
        {editable.map((f) => (
          <FieldInput
            f={f}
            value={values[f.name]}
            set={(v) => set(f.name, v)}
            error={errors[f.name]}
            record={record}
            newFiles={newFiles[f.name] || []}
            setNewFiles={(l) => setNewFiles((s) => ({ ...s, [f.name]: l }))}
            removed={removed[f.name] || []}
            setRemoved={(l) => setRemoved((s) => ({ ...s, [f.name]: l }))}
            passwordConfirm={passwordConfirm}
            setPasswordConfirm={setPasswordConfirm}
            confirmError={errors.passwordConfirm}
          />
        ))}
      </form>
    </Modal>
  );
}

function FieldInput(p) {
  const { f, value, set, error } = p;
  const label = f.name + (f.required ? ' *' : '');
  switch (f.type) {
    case 'bool':
      return <Check label={f.name} checked={value} onChange={set} />;
    case 'number':
      return (
        <Field label={label} error={error}>
          {(id) => <input id={id} type="number" step="any" value={value} onInput={(e) => set(e.currentTarget.value === '' ? '' : Number(e.currentTarget.value))} />}
        </Field>
      );
    case 'editor':
      return (
        <Field label={label} error={error} hint="HTML">
          {(id) => <textarea id={id} rows={5} value={value} onInput={(e) => set(e.currentTarget.value)} />}
        </Field>
      );
    case 'json':
      return <JsonInput label={label} value={value} set={set} error={error} />;
    case 'date':
      return (
        <Field label={`${label} (UTC)`} error={error}>
          {(id) => <input id={id} type="datetime-local" value={toLocalInput(value)} onInput={(e) => set(fromLocalInput(e.currentTarget.value))} />}
        </Field>
      );
    case 'select':
      return <SelectInput f={f} label={label} value={value} set={set} error={error} />;
    case 'geoPoint':
      return (
        <fieldset class={'geo' + (error ? ' has-error' : '')}>
          <legend>{label}</legend>
          <Field label="Longitude">{(id) => <input id={id} type="number" step="any" value={value.lon} onInput={(e) => set({ ...value, lon: Number(e.currentTarget.value) })} />}</Field>
          <Field label="Latitude">{(id) => <input id={id} type="number" step="any" value={value.lat} onInput={(e) => set({ ...value, lat: Number(e.currentTarget.value) })} />}</Field>
          {error && <small class="error" role="alert">{error}</small>}
        </fieldset>
      );
    case 'relation':
      return <RelationInput f={f} label={label} value={value} set={set} error={error} />;
    case 'file':
      return <FileInput {...p} label={label} />;
    case 'password':
      return (
        <>
          <Field label={p.record ? 'New password' : label} error={error}>
            {(id) => <input id={id} type="password" autocomplete="new-password" value={value} onInput={(e) => set(e.currentTarget.value)} />}
          </Field>
          <Field label="Confirm password" error={p.confirmError}>
            {(id) => <input id={id} type="password" autocomplete="new-password" value={p.passwordConfirm} onInput={(e) => p.setPasswordConfirm(e.currentTarget.value)} />}
          </Field>
        </>
      );
    default: {
      const type = f.type === 'email' ? 'email' : f.type === 'url' ? 'url' : 'text';
      return (
        <Field label={label} error={error}>
          {(id) => <input id={id} type={type} value={value} placeholder={f.name === 'id' ? 'Leave empty for a random id' : ''} onInput={(e) => set(e.currentTarget.value)} />}
        </Field>
      );
    }
  }
}

function JsonInput({ label, value, set, error }) {
  let syntax = '';
  if (value.trim()) {
    try {
      JSON.parse(value);
    } catch (x) {
      syntax = x.message;
    }
  }
  return (
    <Field label={label} error={error || (syntax && `Invalid JSON: ${syntax}`)}>
      {(id) => <textarea id={id} class="code" rows={5} spellcheck={false} value={value} onInput={(e) => set(e.currentTarget.value)} />}
    </Field>
  );
}

function SelectInput({ f, label, value, set, error }) {
  if ((f.maxSelect || 1) <= 1)
    return (
      <Field label={label} error={error}>
        {(id) => (
          <select id={id} value={value || ''} onChange={(e) => set(e.currentTarget.value)}>
            <option value="">—</option>
            {(f.values || []).map((v) => <option value={v}>{v}</option>)}
          </select>
        )}
      </Field>
    );
  const list = Array.isArray(value) ? value : value ? [value] : [];
  return (
    <fieldset class={error ? 'has-error' : ''}>
      <legend>{label}</legend>
      {(f.values || []).map((v) => (
        <Check label={v} checked={list.includes(v)} onChange={(on) => set(on ? [...list, v] : list.filter((x) => x !== v))} />
      ))}
      {error && <small class="error" role="alert">{error}</small>}
    </fieldset>
  );
}

function RelationInput({ f, label, value, set, error }) {
  const all = useStore(collections);
  const target = all.find((c) => c.id === f.collectionId);
  const multi = (f.maxSelect || 1) > 1;
  const ids = Array.isArray(value) ? value : value ? [value] : [];
  const [labels, setLabels] = useState({});
  const [picking, setPicking] = useState(false);
  useEffect(() => {
    const missing = ids.filter((id) => !labels[id]);
    if (!missing.length || !target) return;
    pb.collection(target.id)
      .getList(1, missing.length, { filter: missing.map((id) => `id="${id}"`).join('||'), skipTotal: true })
      .then((r) => setLabels((l) => ({ ...l, ...Object.fromEntries(r.items.map((x) => [x.id, recordLabel(target, x)])) })))
      .catch(() => {});
  }, [ids.join()]);
  const put = (list) => set(multi ? list : list[0] || '');
  return (
    <fieldset class={'relation' + (error ? ' has-error' : '')}>
      <legend>{label} <span class="muted small">→ {target?.name}</span></legend>
      <div class="chips">
        {ids.map((id) => (
          <span class="chip">
            {labels[id] || id}
            <button type="button" class="ghost small" aria-label={`Remove ${labels[id] || id}`} onClick={() => put(ids.filter((x) => x !== id))}>×</button>
          </span>
        ))}
        <button type="button" class="small" onClick={() => setPicking(true)}>Pick {target?.name}</button>
      </div>
      {error && <small class="error" role="alert">{error}</small>}
      {picking && target && (
        <RelationPicker
          target={target}
          max={f.maxSelect || 1}
          initial={ids}
          onClose={(list, names) => {
            setPicking(false);
            if (list) {
              setLabels((l) => ({ ...l, ...names }));
              put(list);
            }
          }}
        />
      )}
    </fieldset>
  );
}

// Searches the target collection a page at a time; text-like fields are
// searched with ~ (contains).
function RelationPicker({ target, max, initial, onClose }) {
  const [q, setQ] = useState('');
  const [page, setPage] = useState(1);
  const [data, setData] = useState(null);
  const [picked, setPicked] = useState(initial);
  const [names, setNames] = useState({});
  useEffect(() => {
    const t = setTimeout(() => {
      const texts = target.fields.filter((f) => ['text', 'email', 'url', 'editor'].includes(f.type) && !f.hidden).map((f) => f.name);
      const safe = q.replace(/["\\]/g, '');
      const filter = safe ? texts.map((n) => `${n}~"${safe}"`).join('||') : '';
      pb.collection(target.id).getList(page, 20, { filter }).then(setData).catch(() => setData(null));
    }, 200);
    return () => clearTimeout(t);
  }, [q, page]);
  const toggle = (r) => {
    setNames((n) => ({ ...n, [r.id]: recordLabel(target, r) }));
    if (max <= 1) return setPicked([r.id]);
    setPicked(picked.includes(r.id) ? picked.filter((x) => x !== r.id) : picked.length < max ? [...picked, r.id] : picked);
  };
  return (
    <Modal
      title={`Pick ${target.name}`}
      onClose={() => onClose(null)}
      footer={
        <>
          <span class="muted small">{picked.length} selected{max > 1 ? ` (max ${max})` : ''}</span>
          <span class="grow" />
          <button type="button" class="ghost" onClick={() => onClose(null)}>Cancel</button>
          <button type="button" class="primary" onClick={() => onClose(picked, names)}>Select</button>
        </>
      }
    >
      <label class="sr-only" for="picker-search">Search</label>
      <input id="picker-search" type="search" placeholder="Search" value={q} onInput={(e) => (setQ(e.currentTarget.value), setPage(1))} />
      <ul class="picklist">
        {(data?.items || []).map((r) => (
          <li>
            <label class="check">
              <input type={max > 1 ? 'checkbox' : 'radio'} name="pick" checked={picked.includes(r.id)} onChange={() => toggle(r)} />
              {recordLabel(target, r)} <span class="muted small">{r.id}</span>
            </label>
          </li>
        ))}
      </ul>
      {data && data.totalPages > 1 && (
        <nav class="pager" aria-label="Pages">
          <button type="button" class="ghost" disabled={page <= 1} onClick={() => setPage(page - 1)}>Previous</button>
          <span>Page {page} of {data.totalPages}</span>
          <button type="button" class="ghost" disabled={page >= data.totalPages} onClick={() => setPage(page + 1)}>Next</button>
        </nav>
      )}
    </Modal>
  );
}

function FileInput({ f, label, value, record, newFiles, setNewFiles, removed, setRemoved, error }) {
  const [over, setOver] = useState(false);
  const existing = (Array.isArray(value) ? value : value ? [value] : []).filter((n) => n);
  const max = f.maxSelect || 1;
  const addFiles = (list) => {
    const arr = Array.from(list);
    setNewFiles(max > 1 ? [...newFiles, ...arr].slice(0, max) : arr.slice(0, 1));
  };
  const inputId = `file-${f.name}`;
  return (
    <fieldset class={'files' + (error ? ' has-error' : '')}>
      <legend>{label}</legend>
      <ul class="filelist">
        {existing.map((n) => {
          const gone = removed.includes(n);
          return (
            <li class={gone ? 'removed' : ''}>
              {IMAGE.test(n) && record && !f.protected ? <img class="thumb" alt="" src={pb.files.getURL(record, n, { thumb: '100x100' })} /> : null}
              <span>{n}</span>
              <button type="button" class="ghost small" onClick={() => setRemoved(gone ? removed.filter((x) => x !== n) : [...removed, n])}>
                {gone ? 'Keep' : 'Remove'}
              </button>
            </li>
          );
        })}
        {newFiles.map((file, i) => (
          <li class="new">
            {file.type.startsWith('image/') ? <Preview file={file} /> : null}
            <span>{file.name}</span> <span class="muted small">new</span>
            <button type="button" class="ghost small" onClick={() => setNewFiles(newFiles.filter((_, j) => j !== i))}>Remove</button>
          </li>
        ))}
      </ul>
      <div
        class={'dropzone' + (over ? ' over' : '')}
        onDragOver={(e) => (e.preventDefault(), setOver(true))}
        onDragLeave={() => setOver(false)}
        onDrop={(e) => {
          e.preventDefault();
          setOver(false);
          addFiles(e.dataTransfer.files);
        }}
      >
        <label for={inputId}>Drop files here or choose</label>
        <input id={inputId} type="file" multiple={max > 1} onChange={(e) => addFiles(e.currentTarget.files)} />
      </div>
      {error && <small class="error" role="alert">{error}</small>}
    </fieldset>
  );
}

function Preview({ file }) {
  const [url, setUrl] = useState('');
  useEffect(() => {
    const u = URL.createObjectURL(file);
    setUrl(u);
    return () => URL.revokeObjectURL(u);
  }, [file]);
  return url ? <img class="thumb" alt="" src={url} /> : null;
}
