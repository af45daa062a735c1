// Backups: list, create, download (with a superuser file token), upload,
// restore, delete, and the automatic schedule (settings.backups).
import { useEffect, useState } from 'preact/hooks';
import { errorMessage, pb } from '../api.js';
import { toast } from '../store.js';
import { confirm, Loading, NumberInput, TextInput } from '../ui.jsx';

export function BackupsPage() {
  const [list, setList] = useState(null);
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const [name, setName] = useState('');
  const [sched, setSched] = useState(null);
  const reload = () => pb.backups.getFullList().then((l) => (setList(l.sort((a, b) => (a.modified < b.modified ? 1 : -1))), setError(''))).catch((e) => setError(errorMessage(e)));
  useEffect(() => {
    reload();
    pb.settings.getAll().then((s) => setSched(s.backups || { cron: '', cronMaxKeep: 3 })).catch(() => {});
  }, []);
  const act = async (fn, ok) => {
    setBusy(true);
    try {
      await fn();
      toast(ok);
      await reload();
    } catch (e) {
      toast(errorMessage(e), 'error');
    } finally {
      setBusy(false);
    }
  };
  const download = async (key) => {
    try {
      const token = await pb.files.getToken();
      const a = document.createElement('a');
      a.href = pb.backups.getDownloadURL(token, key);
      a.download = key;
      document.body.appendChild(a);
      a.click();
      a.remove();
    } catch (e) {
      toast(errorMessage(e), 'error');
    }
  };
  const size = (n) => (n > 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`);
  return (
    <section>
      <h1>Backups</h1>
      {error && <p class="alert error" role="alert">{error}</p>}
      <div class="row end">
        <TextInput label="Name (optional, e.g. before_upgrade.zip)" value={name} onInput={setName} />
        <button type="button" class="primary" disabled={busy} onClick={() => act(() => pb.backups.create(name), 'Backup created.').then(() => setName(''))}>Create backup</button>
        <label class="button">
          Upload a backup
          <input class="sr-only" type="file" accept=".zip,application/zip" onChange={(e) => e.currentTarget.files[0] && act(() => pb.backups.upload({ file: e.currentTarget.files[0] }), 'Backup uploaded.')} />
        </label>
      </div>
      {!list ? <Loading /> : (
        <table class="grid-table">
          <thead><tr><th>Backup</th><th>Size</th><th>Modified</th><th><span class="sr-only">Actions</span></th></tr></thead>
          <tbody>
            {list.map((b) => (
              <tr>
                <td><code>{b.key}</code></td>
                <td>{size(b.size)}</td>
                <td>{b.modified}</td>
                <td class="actions">
                  <button type="button" class="small" onClick={() => download(b.key)} aria-label={`Download ${b.key}`}>Download</button>
                  <button type="button" class="small" disabled={busy} aria-label={`Restore ${b.key}`} onClick={async () => (await confirm(`Restore ${b.key}? The current data is replaced and the server restarts.`, { action: 'Restore' })) && act(() => pb.backups.restore(b.key), 'Restore started; the server restarts.')}>Restore</button>
                  <button type="button" class="small danger ghost" disabled={busy} aria-label={`Delete ${b.key}`} onClick={async () => (await confirm(`Delete ${b.key}?`, { action: 'Delete' })) && act(() => pb.backups.delete(b.key), 'Backup deleted.')}>Delete</button>
                </td>
              </tr>
            ))}
            {!list.length && <tr><td colSpan={4} class="muted">No backups yet.</td></tr>}
          </tbody>
        </table>
      )}
      {sched && (
        <form class="settings" onSubmit={(e) => (e.preventDefault(), act(() => pb.settings.update({ backups: sched }), 'Schedule saved.'))}>
          <h2>Automatic backups</h2>
          <div class="row">
            <TextInput label="Cron expression (empty = off), e.g. 0 0 * * *" value={sched.cron} onInput={(cron) => setSched({ ...sched, cron })} />
            <NumberInput label="Keep the last N automatic backups" value={sched.cronMaxKeep} onInput={(cronMaxKeep) => setSched({ ...sched, cronMaxKeep })} />
            <button class="primary">Save schedule</button>
          </div>
        </form>
      )}
    </section>
  );
}
