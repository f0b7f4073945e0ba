// bench/footprint/build-child — builds every report of a seeded store with the compiled service
// (dist/, plain node, no tsx), as `serve` does, and prints its own peak RSS (VmHWM) as JSON.
//   node build-child.mjs CONFIG
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { SERVE_V8_FLAGS } from '../../bin/serve-v8-flags.js';

setFlagsFromString(SERVE_V8_FLAGS); // the build runs inside serve

const dist = new URL('../../dist/', import.meta.url);
const { loadConfig } = await import(new URL('settings/config.js', dist).href);
const { openStore } = await import(new URL('store/index.js', dist).href);
const { openSettings } = await import(new URL('settings/index.js', dist).href);
const { createDelivery } = await import(new URL('sending/setup.js', dist).href);
const { silentLog } = await import(new URL('common/log.js', dist).href);

const hwm = () => Number(/^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'))?.[1]) / 1024;
const config = loadConfig(process.argv[2]);
const store = await openStore(config.store, { log: silentLog });
const settings = await openSettings(store, config, silentLog);
const delivery = createDelivery({ config, store, settings, log: silentLog });
const before = hwm();
const t0 = performance.now();
// what serve's tick does before delivering: close (forced: the seeded windows need not be due)
// and build, counting the built reports instead of keeping 100,000 outcomes
const closed = await delivery.scheduler.closeDueWindows({ force: true });
const notBuilt = await delivery.scheduler.buildClaimedReports({ keepBuilt: false });
const built = Number((await store.db.selectFrom('outbound_report').select((eb) => eb.fn.countAll().as('n')).where('state', '=', 'pending').executeTakeFirstOrThrow()).n);
if (notBuilt.length) process.stderr.write(`${notBuilt.length} reports not built, e.g. ${JSON.stringify(notBuilt[0])}\n`);
const seconds = (performance.now() - t0) / 1000;
process.stdout.write(`${JSON.stringify({ closed, built, seconds, hwmBeforeMiB: before, hwmMiB: hwm() })}\n`);
await delivery.close();
await settings.close();
await store.close();
