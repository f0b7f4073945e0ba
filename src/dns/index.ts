/**
 * @module dns — DNS for the service: the {@link Resolver} interface and its dns-packet stub
 * resolver (TTL-aware), a TTL cache, TLSRPT record lookup and the mailauth adapter.
 */
export { createResolver, DnsError, isValidDnsName, normalizeName, parseServer, type QueryAnswer, type Resolver, type ResolverOptions, type TxtAnswer } from './resolver.js';
export { TtlCache, type TtlCacheOptions } from '../common/ttl-cache.js';
export { lookupTlsrptRecord, type TlsrptLookup } from './tlsrpt.js';
export { mailauthResolver } from './mailauth.js';
