/**
 * @module bench/ingest-datagram/sender — the benchmark's SEPARATE sender process: builds the
 * corpus (mix.ts), then sends `count` datagrams with the addon's C send loop (so the sender is
 * never the bottleneck), from several sockets in turn like several Postfix smtp processes.
 * Prints one JSON line: { sent, dropped, elapsedNs, waits, bytes }.
 *
 *   node --import tsx sender.ts PATH COUNT RATE RETRY SOCKETS
 */
import { sendManyDatagrams } from '../../src/sending/collect/sources/datagram-socket.js';
import { corpus } from './mix.js';

const [path, count, rate, retry, sockets] = process.argv.slice(2);
const pool = corpus(Math.min(Number(count), 100_000), 10_000);
process.stdout.write(JSON.stringify({ ready: true }) + '\n');
// wait for the go signal, so corpus building is not part of the measured time
process.stdin.once('data', () => {
  const r = sendManyDatagrams(path, pool.data, pool.lengths, Number(count), { rate: Number(rate), retry: retry === '1', sockets: Number(sockets) });
  const meanBytes = pool.data.length / pool.lengths.length;
  process.stdout.write(JSON.stringify({ ...r, meanBytes: Math.round(meanBytes), poolFailures: pool.failures, pool: pool.lengths.length }) + '\n');
  process.exit(0);
});
