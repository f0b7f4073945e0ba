/**
 * @module common/errors — the one base of the service's own errors: a machine-readable `code`
 * (a string union per error class, so a `switch` over it is checked) and a message a person can
 * act on. The CLI prints `message`; `--json` and the HTTP API return `{"error": {"code", "message"}}`.
 */

/**
 * @example
 * type ZipCode = 'invalid-zip' | 'zip-too-many-entries';
 * class ZipError extends TlsrptError<ZipCode> {}
 * throw new ZipError('invalid-zip', 'central directory not found');
 */
export class TlsrptError<C extends string = string> extends Error {
  constructor(readonly code: C, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}
