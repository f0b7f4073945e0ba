// Loading and error states every page shows the same way (announced to screen readers).
import type { ComponentChildren } from 'preact';
import type { Loaded } from '../use-api';

export function Status<T>({ loaded, children }: { loaded: Loaded<T>; children: (data: T) => ComponentChildren }) {
  if (loaded.error) return <p class="error" role="alert">Could not load: {loaded.error.message}</p>;
  if (!loaded.data) return <p role="status" aria-live="polite">Loading…</p>;
  return <>{children(loaded.data)}</>;
}
