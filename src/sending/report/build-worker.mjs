// Bootstrap of the report build worker thread: the project runs its TypeScript through tsx, and a
// worker thread does not inherit a loader registered through tsx's API, so it registers its own.
import { register } from 'tsx/esm/api';

register();
await import('./build-worker.ts');
