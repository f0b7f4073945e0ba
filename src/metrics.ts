/** @module metrics — the one prom-client registry of the process; areas register their metrics on it. */
import { Registry } from 'prom-client';

export const registry = new Registry();
