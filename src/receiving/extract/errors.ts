/** @module receiving/extract/errors — the typed error of extraction and its limits. */
import { TlsrptError } from '../../common/errors.js';

export type ExtractErrorCode =
  | 'too-large' | 'decompressed-too-large' | 'zip-too-many-entries' | 'compression-ratio' | 'too-many-parts'
  | 'mime-too-deep' | 'too-deep' | 'malformed-mime' | 'invalid-gzip' | 'invalid-zip' | 'unsupported-zip'
  | 'not-a-tls-report' | 'extract-failed';

/**
 * Why an input yielded no report: a safety limit, a broken container, or simply not a
 * TLS report. `code` is stable and machine-readable; `message` says what the user can do.
 *
 */
export class ExtractError extends TlsrptError<ExtractErrorCode> {}

/** Hard limits of one extraction; every one of them, when broken, is an ExtractError. */
export interface ExtractLimits {
  /** Size of the raw input (file or e-mail), checked before any parsing. */
  maxInputBytes: number;
  /** Sum of all decompressed bytes (gzip members, zip entries) of one input: `inboundReportMaxSize`. */
  maxDecompressedBytes: number;
  /** Entries in one zip archive, from its central directory. */
  maxZipEntries: number;
  /** Decompressed / compressed, checked once an output passes `compressionRatioFloorBytes`. */
  maxCompressionRatio: number;
  /** MIME parts (leaves and containers) in one input, forwarded messages included. */
  maxMimeParts: number;
  /** Nesting of multiparts and of forwarded message/rfc822 parts. */
  maxMimeDepth: number;
}

export const DEFAULT_LIMITS: ExtractLimits = Object.freeze({
  maxInputBytes: 50 * 1024 * 1024,
  maxDecompressedBytes: 26214400,
  maxZipEntries: 100,
  maxCompressionRatio: 250,
  maxMimeParts: 500,
  maxMimeDepth: 16,
});

/** Outputs smaller than this are never judged by their compression ratio (tiny JSON compresses well). */
export const COMPRESSION_RATIO_FLOOR_BYTES = 1024 * 1024;

/** The running account of one extraction: what was decompressed and parsed so far. */
export class Budget {
  decompressedBytes = 0;
  mimeParts = 0;
  constructor(readonly limits: ExtractLimits) {}

  /** Bytes the next decompression may still produce. */
  remainingDecompressed(): number {
    return Math.max(0, this.limits.maxDecompressedBytes - this.decompressedBytes);
  }

  /** Accounts a decompressed output and applies the ratio rule to it. */
  addDecompressed(outputBytes: number, compressedBytes: number, what: string): void {
    this.decompressedBytes += outputBytes;
    if (this.decompressedBytes > this.limits.maxDecompressedBytes) throw decompressedTooLarge(this.limits, what);
    if (outputBytes >= COMPRESSION_RATIO_FLOOR_BYTES && outputBytes / Math.max(1, compressedBytes) > this.limits.maxCompressionRatio) {
      throw new ExtractError('compression-ratio',
        `${what}: ${compressedBytes} compressed bytes expand to ${outputBytes} (ratio above ${this.limits.maxCompressionRatio}); refusing a likely decompression bomb`);
    }
  }

  countParts(n: number): void {
    this.mimeParts += n;
    if (this.mimeParts > this.limits.maxMimeParts) {
      throw new ExtractError('too-many-parts', `the message has more than ${this.limits.maxMimeParts} MIME parts; refusing it`);
    }
  }
}

export function decompressedTooLarge(limits: ExtractLimits, what: string): ExtractError {
  return new ExtractError('decompressed-too-large',
    `${what}: decompressed data exceed ${limits.maxDecompressedBytes} bytes (inboundReportMaxSize); refusing it`);
}
