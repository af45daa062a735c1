// The command palette (Ctrl+K or Cmd+K): type to narrow the commands
// (collections, pages, actions), arrows to move, Enter to run.
import { useEffect, useRef, useState } from 'preact/hooks';
import { pb } from '../api.js';
import { collections, go, useStore } from '../store.js';

export function Palette() {
  const [open, setOpen] = useState(false);
  const [q, setQ] = useState('');
  const [active, setActive] = useState(0);
  const list = useStore(collections);
  const input = useRef();
  useEffect(() => {
    // The text is cleared in the same update that opens the palette: an
    // effect after the render could clear what was typed meanwhile.
    const onKey = (e) => {
      if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === 'k') {
        e.preventDefault();
        setQ('');
        setActive(0);
        setOpen((o) => !o);
      }
    };
    const onOpen = () => (setQ(''), setActive(0), setOpen(true));
    addEventListener('keydown', onKey);
    addEventListener('basalt:palette', onOpen);
    return () => (removeEventListener('keydown', onKey), removeEventListener('basalt:palette', onOpen));
  }, []);
  useEffect(() => {
    if (open) setTimeout(() => input.current?.focus());
  }, [open]);
  if (!open) return null;
  const commands = [
    ...list.map((c) => [`Collection: ${c.name}`, () => go(`/collections/${encodeURIComponent(c.name)}`)]),
    ...list.map((c) => [`Edit collection: ${c.name}`, () => go(`/collections/${encodeURIComponent(c.name)}?edit=1`)]),
    ['New collection', () => go(`/collections/${encodeURIComponent(list[0]?.name || '')}?new=1`)],
    ['Logs', () => go('/logs')],
    ['Settings: application', () => go('/settings/application')],
    ['Settings: mail', () => go('/settings/mail')],
    ['Settings: files storage', () => go('/settings/storage')],
    ['Backups', () => go('/settings/backups')],
    ['Crons', () => go('/settings/crons')],
    ['Export collections', () => go('/settings/export-collections')],
    ['Import collections', () => go('/settings/import-collections')],
    ['SQL console', () => go('/settings/sql')],
    ['Superusers', () => go('/collections/_superusers')],
    ['Log out', () => (pb.authStore.clear(), go('/login'))],
  ];
  const words = q.toLowerCase().split(/\s+/).filter(Boolean);
  const shown = commands.filter(([label]) => words.every((w) => label.toLowerCase().includes(w))).slice(0, 12);
  const run = (i) => {
    const c = shown[i];
    if (!c) return;
    setOpen(false);
    c[1]();
  };
  const onKeyDown = (e) => {
    if (e.key === 'ArrowDown') (e.preventDefault(), setActive((active + 1) % Math.max(shown.length, 1)));
    else if (e.key === 'ArrowUp') (e.preventDefault(), setActive((active - 1 + shown.length) % Math.max(shown.length, 1)));
    else if (e.key === 'Enter') (e.preventDefault(), run(active));
    else if (e.key === 'Escape') setOpen(false);
  };
  return (
    <div class="overlay top" onMouseDown={(e) => e.target === e.currentTarget && setOpen(false)}>
      <div class="palette" role="dialog" aria-modal="true" aria-label="Command palette">
        <input ref={input} aria-label="Type a command" role="combobox" aria-expanded="true" aria-controls="palette-list" aria-activedescendant={shown.length ? `palette-${active}` : undefined} placeholder="Go to…" value={q} onInput={(e) => (setQ(e.currentTarget.value), setActive(0))} onKeyDown={onKeyDown} />
        <ul id="palette-list" role="listbox">
          {shown.map(([label], i) => (
            <li id={`palette-${i}`} role="option" aria-selected={i === active ? 'true' : 'false'} class={i === active ? 'active' : ''} onMouseDown={(e) => (e.preventDefault(), run(i))}>
              {label}
            </li>
          ))}
          {!shown.length && <li class="muted">No matching command.</li>}
        </ul>
      </div>
    </div>
  );
}
