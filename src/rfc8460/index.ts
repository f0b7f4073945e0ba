/** @module rfc8460/index — the pure RFC 8460 protocol core: report types, parser, serializer, TXT record, naming */
export { POLICY_TYPES, RESULT_TYPES } from './types.js';
export type { FailureDetail, Finding, Policy, PolicyResult, PolicyType, ResultType, TlsReport } from './types.js';
export { ReportError, parseReport } from './parse.js';
export type { ParseOptions, ParsedReport, ReportErrorCode } from './parse.js';
export { serializeReport, toRfcJson } from './serialize.js';
export type { SerializeOptions } from './serialize.js';
export { parseTlsrptRecord, selectTlsrptRecord } from './record.js';
export type { RecordResult, RuaTarget } from './record.js';
export {
  isRegisteredPolicyType, isRegisteredResultType, policyTypeFromCode, policyTypeToCode, resultTypeFromCode, resultTypeToCode,
} from './codes.js';
export { reportFileName, reportSubject } from './naming.js';
export { isIp, readDatetime } from './values.js';
