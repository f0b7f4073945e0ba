// The web UI's entry: checks the session, shows the sign-in form or the page for the current
// path inside one layout (skip link, navigation, sign-out). Every report value reaches the DOM as
// text through Preact's escaping: nothing here or in the pages sets innerHTML.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import './styles.css';
import { currentSession, onSignedOut, signIn, signOut, type SessionInfo } from './api';
import { match, navigate, useLocation } from './router';
import { OverviewPage } from './pages/overview';
import { DomainPage } from './pages/domain';
import { ReportsPage } from './pages/reports';
import { ReportPage } from './pages/report';
import { OutboundPage } from './pages/outbound';
import { SettingsPage } from './pages/settings';
import { SystemPage } from './pages/system';

const NAV = [
  ['/', 'Overview'],
  ['/reports', 'Reports'],
  ['/outbound', 'Outbound'],
  ['/settings/tls', 'Settings › TLS reports'],
  ['/system', 'System'],
] as const;

function Page({ path, query }: { path: string; query: URLSearchParams }) {
  let m: Record<string, string> | undefined;
  if ((m = match('/', path))) return <OverviewPage query={query} />;
  if ((m = match('/domains/:domain', path))) return <DomainPage domain={m.domain} query={query} />;
  if ((m = match('/reports/:id', path))) return <ReportPage id={m.id} />;
  if (match('/reports', path)) return <ReportsPage query={query} />;
  if (match('/outbound', path)) return <OutboundPage />;
  if (match('/settings/tls', path)) return <SettingsPage />;
  if (match('/system', path)) return <SystemPage />;
  return <><h1>Not found</h1><p>There is no page at {path}.</p></>;
}

function SignIn({ onDone }: { onDone: (s: SessionInfo) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError('');
    try {
      const s = await signIn(token);
      if (s) onDone(s);
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main id="main" class="signin">
      <h1>tlsrpt-hub</h1>
      <form onSubmit={submit}>
        <label for="token">Admin token</label>
        <input id="token" name="token" type="password" autocomplete="current-password" required value={token}
          onInput={(e) => setToken((e.target as HTMLInputElement).value)} aria-describedby={error ? 'signin-error' : undefined} />
        <button type="submit" disabled={busy}>Sign in</button>
        {error && <p id="signin-error" class="error" role="alert">{error}</p>}
      </form>
      <p class="hint">The token is <code>http.token</code> in tlsrpt.json, or the one printed on the first start.</p>
    </main>
  );
}

function App() {
  const loc = useLocation();
  const [session, setSession] = useState<SessionInfo | null | undefined>(undefined);
  useEffect(() => {
    currentSession().then((s) => setSession(s ?? null), () => setSession(null));
    return onSignedOut(() => setSession(null));
  }, []);
  useEffect(() => {
    const title = NAV.find(([p]) => p === loc.path)?.[1] ?? (loc.path.startsWith('/domains/') ? 'Domain' : loc.path.startsWith('/reports/') ? 'Report' : 'tlsrpt-hub');
    document.title = `${title} · tlsrpt-hub`;
  }, [loc.path]);
  if (session === undefined) return <main id="main"><p role="status">Loading…</p></main>;
  if (session === null) return <SignIn onDone={setSession} />;
  const out = async () => {
    await signOut().catch(() => {});
    setSession(null);
    navigate('/');
  };
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header>
        <span class="brand">tlsrpt-hub</span>
        <nav aria-label="Main">
          <ul>
            {NAV.map(([href, label]) => {
              const here = href === '/' ? loc.path === '/' || loc.path.startsWith('/domains/') : loc.path.startsWith(href);
              return <li key={href}><a href={href} aria-current={here ? 'page' : undefined}>{label}</a></li>;
            })}
          </ul>
        </nav>
        <button type="button" class="signout" onClick={out}>Sign out</button>
      </header>
      <main id="main" tabIndex={-1}>
        <Page path={loc.path} query={loc.query} />
      </main>
    </>
  );
}

const root = document.getElementById('app')!;
// index.html holds a "Loading…" for the first paint; Preact 11 renders beside existing children.
root.textContent = '';
render(<App />, root);
