/**
 * @module sending/collect/sources/socket-activation — the collector's datagram socket handed over
 * by systemd (sd_listen_fds(3)): `tlsrpt-collector.socket` binds it, so datagrams the MTA sends
 * while the service restarts wait in the kernel queue instead of being refused.
 */

/** The first file descriptor passed (SD_LISTEN_FDS_START). */
const FIRST_FD = 3;

export interface InheritedSocket {
  fd: number;
  /** FileDescriptorName= of the socket unit (LISTEN_FDNAMES), when given. */
  name?: string;
}

/**
 * The datagram socket passed in LISTEN_FDS for this process (LISTEN_PID, when set, must be ours):
 * the one named `collector`, else the only one passed. Undefined when none was passed.
 * Throws when several were passed and none is named `collector`.
 * @example inheritedCollectorSocket({ LISTEN_FDS: '1', LISTEN_PID: String(process.pid) }) // → { fd: 3 }
 */
export function inheritedCollectorSocket(env: NodeJS.ProcessEnv = process.env, pid = process.pid): InheritedSocket | undefined {
  const count = Number(env.LISTEN_FDS);
  if (!Number.isInteger(count) || count < 1) return undefined;
  if (env.LISTEN_PID && Number(env.LISTEN_PID) !== pid) return undefined;
  const names = env.LISTEN_FDNAMES?.split(':') ?? [];
  const sockets = Array.from({ length: count }, (_, i) => ({ fd: FIRST_FD + i, ...(names[i] ? { name: names[i] } : {}) }));
  const named = sockets.find((s) => s.name === 'collector');
  if (named) return named;
  if (sockets.length === 1) return sockets[0];
  throw new Error(`systemd passed ${count} sockets (LISTEN_FDNAMES=${env.LISTEN_FDNAMES ?? ''}) and none is named "collector": set FileDescriptorName=collector in the .socket unit`);
}
