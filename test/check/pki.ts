/**
 * @module test/check/pki — a test PKI made with openssl for this run: a CA and leaf
 * certificates (EC P-256, fast) for given names, valid, expired (notAfter in the past) or
 * self-signed (not from the CA).
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface Leaf { certPem: string; keyPem: string }
export interface TestPki { caPem: string; leaf(names: string[], opts?: { expired?: boolean; selfSigned?: boolean }): Leaf; dispose(): void }

export function makePki(): TestPki {
  const dir = mkdtempSync(path.join(tmpdir(), 'tlsrpt-pki-'));
  const f = (n: string) => path.join(dir, n);
  const run = (args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run(['req', '-x509', ...ec, '-days', '60', '-subj', '/CN=tlsrpt-hub check test CA', '-keyout', f('ca.key'), '-out', f('ca.crt'),
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign']);
  let n = 0;
  return {
    caPem: readFileSync(f('ca.crt'), 'utf8'),
    leaf(names, opts = {}) {
      const i = ++n;
      const san = `subjectAltName=${names.map((x) => `DNS:${x}`).join(',')}\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n`;
      writeFileSync(f(`ext${i}.cnf`), san);
      if (opts.selfSigned) {
        run(['req', '-x509', ...ec, '-days', '30', '-subj', `/CN=${names[0]}`, '-keyout', f(`l${i}.key`), '-out', f(`l${i}.crt`), '-addext', san.split('\n')[0]]);
      } else {
        run(['req', ...ec, '-subj', `/CN=${names[0]}`, '-keyout', f(`l${i}.key`), '-out', f(`l${i}.csr`)]);
        // `-days -1`: notAfter a day before notBefore, i.e. already expired (OpenSSL 3.0 has no -not_after).
        run(['x509', '-req', '-in', f(`l${i}.csr`), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', opts.expired ? '-1' : '30', '-extfile', f(`ext${i}.cnf`), '-out', f(`l${i}.crt`)]);
      }
      return { certPem: readFileSync(f(`l${i}.crt`), 'utf8'), keyPem: readFileSync(f(`l${i}.key`), 'utf8') };
    },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
