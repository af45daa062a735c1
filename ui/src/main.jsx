// The dashboard's shell: the auth guard, the navigation and the hash
// routes. Pages live in pages/; everything talks to the server through
// the SDK client in api.js.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { isSuperuser, pb } from './api.js';
import { go, loadCollections, route, useStore } from './store.js';
import { ConfirmHost, Toasts } from './ui.jsx';
import { Login } from './pages/login.jsx';
import { Installer } from './pages/installer.jsx';
import { ConfirmPage, OAuth2Result } from './pages/confirm.jsx';
import { CollectionsPage } from './pages/collections.jsx';
import { LogsPage } from './pages/logs.jsx';
import { SettingsPage } from './pages/settings.jsx';
import { Palette } from './pages/palette.jsx';

const PUBLIC = ['login', 'pbinstall', 'auth'];

function Nav({ current }) {
  const links = [
    ['collections', 'Collections', '/collections'],
    ['logs', 'Logs', '/logs'],
    ['settings', 'Settings', '/settings'],
  ];
  const logout = () => {
    pb.authStore.clear();
    go('/login');
  };
  return (
    <nav class="appnav" aria-label="Main">
      <a class="brand" href="#/collections" aria-label="Basalt dashboard home">
        <span class="logo" aria-hidden="true" />
        Basalt
      </a>
      {links.map(([key, label, href]) => (
        <a href={'#' + href} class={current === key ? 'active' : ''} aria-current={current === key ? 'page' : undefined}>
          {label}
        </a>
      ))}
      <span class="grow" />
      <button type="button" class="ghost small" title="Command palette (Ctrl+K)" onClick={() => window.dispatchEvent(new Event('basalt:palette'))}>
        Ctrl+K
      </button>
      <span class="muted small who">{pb.authStore.record?.email}</span>
      <button type="button" class="ghost small" onClick={logout}>
        Log out
      </button>
    </nav>
  );
}

function App() {
  const r = useStore(route);
  const [ready, setReady] = useState(false);
  const top = r.parts[0] || '';
  const isPublic = PUBLIC.includes(top);

  useEffect(() => {
    if (isPublic) return;
    if (!isSuperuser()) {
      go('/login');
      return;
    }
    // Check that the stored token still works, then load the schema.
    // Every entry into the shell starts over, so a sign-in as someone
    // else never shows the previous schema. A request aborted by the
    // page going away says nothing about the token.
    let live = true;
    setReady(false);
    pb.collection('_superusers')
      .authRefresh({ requestKey: null })
      .then(() => loadCollections())
      .then(() => live && setReady(true))
      .catch((e) => {
        if (!live || e?.isAbort) return;
        pb.authStore.clear();
        go('/login');
      });
    return () => {
      live = false;
    };
  }, [isPublic]);

  useEffect(() => pb.authStore.onChange(() => !isSuperuser() && !PUBLIC.includes(route.get().parts[0] || '') && go('/login')), []);

  let page;
  if (top === 'login') page = <Login />;
  else if (top === 'pbinstall') page = <Installer token={r.parts[1]} />;
  else if (top === 'auth' && r.parts[1]?.startsWith('oauth2-redirect')) page = <OAuth2Result ok={r.parts[1].endsWith('success')} />;
  else if (top === 'auth') page = <ConfirmPage kind={r.parts[1]} token={r.parts[2]} />;
  if (page)
    return (
      <main class="center">
        {page}
        <Toasts />
      </main>
    );
  if (!ready) return <main class="center"><p class="muted">Loading…</p></main>;
  if (!top) {
    go('/collections');
    return null;
  }
  return (
    <div class="shell">
      <Nav current={top} />
      {top === 'collections' && <CollectionsPage name={r.parts[1]} query={r.query} />}
      {top === 'logs' && <LogsPage />}
      {top === 'settings' && <SettingsPage section={r.parts[1] || 'application'} />}
      <Palette />
      <ConfirmHost />
      <Toasts />
    </div>
  );
}

render(<App />, document.getElementById('app'));
