// The UI's one way to the API: same-origin fetch with the session cookie, the CSRF token on
// writes, JSON errors turned into ApiError (code, message, field, position) for the pages.
export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string, readonly body: Record<string, unknown> = {}) {
    super(message);
  }
}

let csrf = '';

/** Set after sign-in (GET /api/v1/session answers it). */
export function setCsrf(token: string): void {
  csrf = token;
}

type Listener = () => void;
const signedOut = new Set<Listener>();
/** Called when any request answers 401: the session ended (expired, signed out elsewhere). */
export function onSignedOut(l: Listener): () => void {
  signedOut.add(l);
  return () => signedOut.delete(l);
}

export async function api<T>(path: string, init: { method?: string; body?: unknown; raw?: boolean } = {}): Promise<T> {
  const method = init.method ?? 'GET';
  const headers: Record<string, string> = { accept: 'application/json' };
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrf) headers['x-csrf-token'] = csrf;
  const res = await fetch(path, {
    method,
    headers,
    credentials: 'same-origin',
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  if (!res.ok) {
    const err = (json as { error?: Record<string, unknown> } | undefined)?.error ?? {};
    if (res.status === 401 && path !== '/api/v1/session') for (const l of signedOut) l();
    throw new ApiError(res.status, String(err.code ?? 'error'), String(err.message ?? `${res.status} ${res.statusText}`), err);
  }
  return (init.raw ? text : json) as T;
}

export interface SessionInfo {
  signedIn: boolean;
  via: 'cookie' | 'bearer';
  csrf?: string;
  expiresAt?: string;
}

export async function currentSession(): Promise<SessionInfo | undefined> {
  try {
    const s = await api<SessionInfo>('/api/v1/session');
    if (s.csrf) setCsrf(s.csrf);
    return s;
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return undefined;
    throw e;
  }
}

export async function signIn(token: string): Promise<SessionInfo | undefined> {
  await api('/api/v1/session', { method: 'POST', body: { token } });
  return currentSession();
}

export async function signOut(): Promise<void> {
  await api('/api/v1/session', { method: 'DELETE' });
  setCsrf('');
}
