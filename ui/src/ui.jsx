// Shared building blocks: dialogs, labelled inputs, tabs, toasts, the
// autocompleting expression input, confirmations.
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import { createStore, useStore, toasts } from './store.js';
import { suggest, wordAt } from './autocomplete.js';

export function Modal({ title, onClose, children, footer, wide }) {
  const id = useId();
  const ref = useRef();
  useEffect(() => {
    const prev = document.activeElement;
    const first = ref.current?.querySelector('input,select,textarea,button:not(.close)');
    first?.focus();
    const onKey = (e) => {
      if (e.key === 'Escape') {
        e.stopPropagation();
        onClose?.();
      }
    };
    ref.current?.addEventListener('keydown', onKey);
    return () => prev?.focus?.();
  }, []);
  return (
    <div class="overlay" onMouseDown={(e) => e.target === e.currentTarget && onClose?.()}>
      <div class={'modal' + (wide ? ' wide' : '')} role="dialog" aria-modal="true" aria-labelledby={id} ref={ref}>
        <header>
          <h2 id={id}>{title}</h2>
          {onClose && (
            <button type="button" class="close ghost" aria-label="Close" onClick={onClose}>
              ×
            </button>
          )}
        </header>
        <div class="modal-body">{children}</div>
        {footer && <footer>{footer}</footer>}
      </div>
    </div>
  );
}

// A labelled control: <Field label="Name">{(id) => <input id={id} />}</Field>
export function Field({ label, hint, error, children, inline }) {
  const id = useId();
  return (
    <div class={'field' + (inline ? ' inline' : '') + (error ? ' has-error' : '')}>
      {inline ? (
        <>
          {children(id)}
          <label for={id}>{label}</label>
        </>
      ) : (
        <>
          <label for={id}>{label}</label>
          {children(id)}
        </>
      )}
      {hint && <small class="hint">{hint}</small>}
      {error && <small class="error" role="alert">{error}</small>}
    </div>
  );
}

export function TextInput({ label, value, onInput, type = 'text', hint, error, ...rest }) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(id) => (
        <input id={id} type={type} value={value ?? ''} onInput={(e) => onInput(e.currentTarget.value)} {...rest} />
      )}
    </Field>
  );
}

export function NumberInput({ label, value, onInput, hint, error, ...rest }) {
  return (
    <Field label={label} hint={hint} error={error}>
      {(id) => (
        <input
          id={id}
          type="number"
          value={value ?? ''}
          onInput={(e) => {
            const v = e.currentTarget.value;
            onInput(v === '' ? 0 : Number(v));
          }}
          {...rest}
        />
      )}
    </Field>
  );
}

export function Check({ label, checked, onChange, hint }) {
  return (
    <Field label={label} hint={hint} inline>
      {(id) => <input id={id} type="checkbox" checked={!!checked} onChange={(e) => onChange(e.currentTarget.checked)} />}
    </Field>
  );
}

export function Select({ label, value, onChange, options, hint }) {
  return (
    <Field label={label} hint={hint}>
      {(id) => (
        <select id={id} value={value} onChange={(e) => onChange(e.currentTarget.value)}>
          {options.map((o) =>
            typeof o === 'string' ? <option value={o}>{o}</option> : <option value={o.value}>{o.label}</option>,
          )}
        </select>
      )}
    </Field>
  );
}

export function Tabs({ tabs, current, onChange }) {
  return (
    <div class="tabs" role="tablist">
      {tabs.map(([key, label]) => (
        <button
          type="button"
          role="tab"
          aria-selected={current === key ? 'true' : 'false'}
          class={current === key ? 'active' : ''}
          onClick={() => onChange(key)}
        >
          {label}
        </button>
      ))}
    </div>
  );
}

export function Toasts() {
  const list = useStore(toasts);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <div class={'toast ' + t.kind}>{t.text}</div>
      ))}
    </div>
  );
}

// ---- confirmation dialog, awaited: if (await confirm('Delete?')) ...
const confirmState = createStore(null);
export function confirm(text, { danger = true, action = 'Confirm' } = {}) {
  return new Promise((resolve) => confirmState.set({ text, danger, action, resolve }));
}
export function ConfirmHost() {
  const c = useStore(confirmState);
  if (!c) return null;
  const done = (v) => {
    confirmState.set(null);
    c.resolve(v);
  };
  return (
    <Modal
      title="Please confirm"
      onClose={() => done(false)}
      footer={
        <>
          <button type="button" class="ghost" onClick={() => done(false)}>
            Cancel
          </button>
          <button type="button" class={c.danger ? 'danger' : 'primary'} onClick={() => done(true)}>
            {c.action}
          </button>
        </>
      }
    >
      <p>{c.text}</p>
    </Modal>
  );
}

// An input (or textarea) that suggests words from vocab for the word
// before the caret: arrows move, Enter or Tab accept, Escape closes.
export function ExprInput({ id, value, onInput, vocab, multiline, placeholder, onEnter, label }) {
  const [items, setItems] = useState([]);
  const [active, setActive] = useState(0);
  const ref = useRef();
  const listId = useId();
  const update = (el) => {
    const { word } = wordAt(el.value, el.selectionStart);
    setItems(suggest(vocab, word));
    setActive(0);
  };
  const accept = (item) => {
    const el = ref.current;
    const { start } = wordAt(el.value, el.selectionStart);
    const next = el.value.slice(0, start) + item + el.value.slice(el.selectionStart);
    // The element first, synchronously, so that keys typed right after
    // land behind the inserted word; the state follows.
    el.value = next;
    el.selectionStart = el.selectionEnd = start + item.length;
    el.focus();
    onInput(next);
    setItems([]);
  };
  const onKeyDown = (e) => {
    if (items.length) {
      if (e.key === 'ArrowDown') return (e.preventDefault(), setActive((active + 1) % items.length));
      if (e.key === 'ArrowUp') return (e.preventDefault(), setActive((active - 1 + items.length) % items.length));
      if (e.key === 'Enter' || e.key === 'Tab') return (e.preventDefault(), accept(items[active]));
      if (e.key === 'Escape') return (e.stopPropagation(), setItems([]));
    }
    if (e.key === 'Enter' && !multiline && onEnter) {
      e.preventDefault();
      onEnter();
    }
  };
  const Tag = multiline ? 'textarea' : 'input';
  return (
    <div class="expr">
      <Tag
        id={id}
        ref={ref}
        value={value ?? ''}
        rows={multiline ? 2 : undefined}
        placeholder={placeholder}
        aria-label={label}
        role="combobox"
        aria-autocomplete="list"
        aria-expanded={items.length ? 'true' : 'false'}
        aria-controls={listId}
        autocomplete="off"
        spellcheck={false}
        onInput={(e) => {
          onInput(e.currentTarget.value);
          update(e.currentTarget);
        }}
        onKeyDown={onKeyDown}
        onBlur={() => setTimeout(() => document.activeElement !== ref.current && setItems([]), 150)}
      />
      {items.length > 0 && (
        <ul class="suggestions" role="listbox" id={listId}>
          {items.map((it, i) => (
            <li
              role="option"
              aria-selected={i === active ? 'true' : 'false'}
              class={i === active ? 'active' : ''}
              onMouseDown={(e) => {
                e.preventDefault();
                accept(it);
              }}
            >
              {it}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function ErrorList({ errors }) {
  if (!errors || !errors.length) return null;
  return (
    <div class="alert error" role="alert">
      <ul>
        {errors.map(([p, m]) => (
          <li>
            {p && <code>{p}</code>} {m}
          </li>
        ))}
      </ul>
    </div>
  );
}

export function Loading() {
  return <p class="muted">Loading…</p>;
}
