/**
 * @module common/worker-script — where a worker thread's script is, compiled or not. The shipped
 * service runs compiled JavaScript (dist/), whose worker is the sibling `NAME.js`. Tests run the
 * TypeScript sources through tsx, and a worker thread does not inherit tsx's loader: there the
 * worker starts from `NAME.mjs`, a bootstrap that registers tsx and imports `NAME.ts`.
 */

/** @example new Worker(workerScript('build-worker', import.meta.url)) */
export function workerScript(name: string, callerUrl: string): URL {
  return new URL(callerUrl.endsWith('.ts') ? `./${name}.mjs` : `./${name}.js`, callerUrl);
}
