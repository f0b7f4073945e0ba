/**
 * @module settings/sections/collector — `collector`: the libtlsrpt datagram socket Postfix writes
 * to, and how often collected outcomes are written to the store.
 */
import { z } from 'zod';
import { filePath, positiveInt, type SectionSpec } from './common.js';

export const CollectorSection = z.strictObject({
  socket: filePath('the datagram socket (created at start)').optional(),
  mode: z.string().regex(/^0?[0-7]{3}$/, 'expected an octal file mode such as "0660"').default('0660').describe('file mode of the socket'),
  owner: z.union([z.string(), z.number().int()]).optional().describe('owner of the socket (user name or uid)'),
  group: z.union([z.string(), z.number().int()]).optional().describe('group of the socket, e.g. postfix'),
  flushMs: positiveInt.default(1000).describe('write collected outcomes to the store this often'),
  flushEvents: positiveInt.default(200000).describe('or after this many outcomes'),
  dumpDir: filePath('a folder for rejected datagrams').optional(),
});
export type CollectorSection = z.infer<typeof CollectorSection>;

export const collector = { schema: CollectorSection.optional(), paths: ['socket', 'dumpDir'], createdPaths: ['socket', 'dumpDir'] } satisfies SectionSpec;
