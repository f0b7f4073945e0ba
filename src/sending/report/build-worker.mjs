// Bootstrap of the report build worker thread when the sources run through tsx (tests, benchmarks):
// a worker thread does not inherit tsx's loader, so it registers its own. The compiled service starts the sibling .js (common/worker-script.ts).
import { register } from 'tsx/esm/api';

register();
await import('./build-worker.ts');
