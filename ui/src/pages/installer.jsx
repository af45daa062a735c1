// The first-run installer (#/pbinstall/TOKEN, the link `serve` prints when
// there is no superuser): the token belongs to a placeholder superuser;
// with it the page creates the first real superuser (the server then
// deletes the placeholder) and signs in as the new one.
import { useState } from 'preact/hooks';
import PocketBase from 'pocketbase';
import { apiBase, errorMessage, fieldErrors, pb, tokenClaims } from '../api.js';
import { TextInput } from '../ui.jsx';
import { go } from '../store.js';

export function Installer({ token }) {
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const [error, setError] = useState('');
  const [errors, setErrors] = useState({});
  const [busy, setBusy] = useState(false);
  const expired = !token || (tokenClaims(token).exp || 0) * 1000 < Date.now();

  const submit = async (e) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    setErrors({});
    try {
      const installer = new PocketBase(apiBase());
      installer.authStore.save(token, null);
      await installer.collection('_superusers').create({ email, password, passwordConfirm: confirm });
      await pb.collection('_superusers').authWithPassword(email, password);
      go('/collections');
    } catch (err) {
      setErrors(Object.fromEntries(fieldErrors(err)));
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  };

  if (expired)
    return (
      <div class="card narrow">
        <h1>Installer link expired</h1>
        <p>
          Restart <code>basalt serve</code> to print a new link, or create a superuser with{' '}
          <code>basalt superuser upsert EMAIL PASSWORD</code>.
        </p>
        <a href="#/login">Go to sign-in</a>
      </div>
    );
  return (
    <div class="card narrow">
      <h1>Create the first superuser</h1>
      <p class="muted">This account has full access to the dashboard and the API.</p>
      {error && <div class="alert error" role="alert">{error}</div>}
      <form onSubmit={submit}>
        <TextInput label="Email" type="email" value={email} onInput={setEmail} error={errors.email} autocomplete="username" required />
        <TextInput label="Password" type="password" value={password} onInput={setPassword} error={errors.password} autocomplete="new-password" minLength={8} required />
        <TextInput label="Confirm password" type="password" value={confirm} onInput={setConfirm} error={errors.passwordConfirm} autocomplete="new-password" required />
        <button class="primary block" disabled={busy}>
          Create superuser and sign in
        </button>
      </form>
    </div>
  );
}
