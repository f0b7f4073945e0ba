/** @module common/component — the shape of every long-running part of the service (collector, listener, scheduler…). */

export interface Component {
  name: string;
  start(): Promise<void>;
  /** Must finish its work in hand (flush, close sockets) before resolving. */
  stop(): Promise<void>;
}
