/**
 * The configuration keys issue 10 (Trust) added: what `tlsrpt settings validate` says about
 * them, so an unsafe configuration is refused before it runs.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { validateSettingsDocument } from '../../src/settings/validate.js';

const fields = (doc: unknown) => validateSettingsDocument(doc).map((e) => `${e.field}: ${e.message}`);

describe('trust configuration keys', () => {
  it('smtp.onward needs domains (else the listener would be an open relay)', () => {
    const missing = fields({ smtp: { listen: '127.0.0.1:2525', onward: { host: '127.0.0.1', port: 25 } } });
    assert.ok(missing.some((m) => m.startsWith('smtp.onward.domains')), missing.join('\n'));
    const empty = fields({ smtp: { listen: '127.0.0.1:2525', onward: { host: '127.0.0.1', domains: [] } } });
    assert.ok(empty.some((m) => /smtp\.onward\.domains: .*relaying denied/.test(m)), empty.join('\n'));
    assert.deepEqual(fields({ smtp: { listen: '127.0.0.1:2525', onward: { host: '127.0.0.1', domains: ['example.org'] } } }), []);
  });
});
