/** @module settings/system — SystemSettings defaults from the machine's host name. */
import { hostname as osHostname } from 'node:os';
import { convertDomain } from './fields.js';
import { normalizeDomain } from '../common/domain.js';

/**
 * `hostname` is the machine's host name; `domain` drops its first label when it has more than
 * one (`mx1.example.org` → `example.org`), else it is the host name itself. A host name that is
 * no domain name (a container id with odd characters) becomes `localhost`.
 */
export function machineSystemDefaults(name: string = osHostname()): { domain: string; hostname: string } {
  const h = convertDomain(normalizeDomain(name));
  const hostname = h.ok ? h.value : 'localhost';
  const labels = hostname.split('.');
  const domain = labels.length > 2 ? labels.slice(1).join('.') : hostname;
  return { domain, hostname };
}
