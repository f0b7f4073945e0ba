/** @module store/tables/inbound — table types of the inbound area (placeholder: the inbound area fills it in). */

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface InboundTables {}
