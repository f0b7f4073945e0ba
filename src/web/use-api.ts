// Loads one API document for a page: data, error and a reload, re-fetched when the path changes;
// an answer that arrives after the path changed again is dropped.
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { api, type ApiError } from './api';

export interface Loaded<T> {
  data?: T;
  error?: ApiError | Error;
  loading: boolean;
  reload: () => void;
}

export function useApi<T>(path: string | undefined): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: Error; loading: boolean }>({ loading: Boolean(path) });
  const [tick, setTick] = useState(0);
  const latest = useRef(0);
  useEffect(() => {
    if (!path) return;
    const n = ++latest.current;
    setState((s) => ({ data: s.data, loading: true }));
    api<T>(path).then(
      (data) => n === latest.current && setState({ data, loading: false }),
      (error: Error) => n === latest.current && setState({ error, loading: false }),
    );
  }, [path, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
