/**
 * @module settings/sections/common — small building blocks the config sections share: `HOST:PORT`,
 * file paths (resolved against the config file's folder), TLS certificate pairs, and the one
 * shape every section module has (`SectionSpec`).
 */
import { z } from 'zod';

export const hostPort = z.string().regex(/^(\[[0-9a-fA-F:.]+\]|[^:\s]+):\d{1,5}$/, 'expected HOST:PORT, e.g. 127.0.0.1:8080');

/** A file or folder path. Relative paths resolve against the config file's folder (see `paths` below). */
export const filePath = (what: string) => z.string().min(1, `expected a path to ${what}`).describe(what);

export const positiveInt = z.number().int().positive();

/** A PEM certificate and its private key, as files. */
export const TlsFiles = z.strictObject({
  cert: filePath('the PEM certificate (chain) file'),
  key: filePath('the PEM private key file of that certificate'),
});

/**
 * One config section: its schema, and where in its (parsed) value file paths sit, so the loader
 * resolves them against the config file's folder. A path is a dotted key inside the section;
 * `[]` walks every element of an array (`[].privateKeyFile`).
 */
export interface SectionSpec<S extends z.ZodType = z.ZodType> {
  schema: S;
  paths?: readonly string[];
  /**
   * The files validation opens to check they exist and are readable, with what each is for
   * (`settings validate`; `serve` opens them itself). Default: every entry of `paths` except
   * those listed in `createdPaths`.
   */
  createdPaths?: readonly string[];
}
