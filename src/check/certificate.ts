/**
 * @module check/certificate — judging a server certificate after a TLS handshake made with
 * `rejectUnauthorized: false`: chain trusted (OpenSSL's verdict against the trusted CAs), valid
 * now (against the injected clock, so tests and `--at` can move time), and issued for the name
 * (RFC 6125 via `tls.checkServerIdentity`; RFC 8461 §4.2 for MX hosts, §3.3 for the policy host).
 */
import tls, { type DetailedPeerCertificate, type TLSSocket } from 'node:tls';

export interface CertificateVerdict {
  trusted: boolean;
  /** OpenSSL's reason when not trusted (e.g. UNABLE_TO_VERIFY_LEAF_SIGNATURE, SELF_SIGNED_CERT_IN_CHAIN). */
  trustError?: string;
  expired: boolean;
  notYetValid: boolean;
  nameMatches: boolean;
  nameError?: string;
  subject?: string;
  altNames?: string;
  issuer?: string;
  validFrom?: string;
  validTo?: string;
  daysLeft?: number;
  /** DER of the leaf and the rest of the chain as sent, for TLSA matching. */
  chainDer: Buffer[];
}

// Clock-based errors are judged against the injected clock instead, and the name separately
// (node:https reports a name mismatch as the authorization error too).
const NOT_TRUST_ERRORS = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERR_TLS_CERT_ALTNAME_INVALID']);

export function judgeCertificate(socket: TLSSocket, host: string, nowMs: number): CertificateVerdict {
  const cert = socket.getPeerCertificate(true) as DetailedPeerCertificate;
  if (!cert || !cert.raw) {
    return { trusted: false, trustError: 'no certificate', expired: false, notYetValid: false, nameMatches: false, chainDer: [] };
  }
  const chainDer: Buffer[] = [];
  const seen = new Set<string>();
  for (let c: DetailedPeerCertificate | undefined = cert; c?.raw && !seen.has(c.fingerprint256); c = c.issuerCertificate) {
    seen.add(c.fingerprint256);
    chainDer.push(c.raw);
  }
  const authError = socket.authorizationError ? String((socket.authorizationError as unknown as { code?: string }).code ?? socket.authorizationError) : undefined;
  const trustError = authError && !NOT_TRUST_ERRORS.has(authError) ? authError : undefined;
  const from = Date.parse(cert.valid_from);
  const to = Date.parse(cert.valid_to);
  const nameErr = tls.checkServerIdentity(host, cert);
  return {
    trusted: !trustError,
    trustError,
    expired: nowMs > to,
    notYetValid: nowMs < from,
    nameMatches: !nameErr,
    nameError: nameErr?.message,
    subject: cert.subject?.CN,
    altNames: cert.subjectaltname,
    issuer: cert.issuer?.CN,
    validFrom: new Date(from).toISOString(),
    validTo: new Date(to).toISOString(),
    daysLeft: Math.floor((to - nowMs) / 86_400_000),
    chainDer,
  };
}

/** One line about a certificate for a step's detail. */
export function describeCertificate(v: CertificateVerdict): string {
  return `subject ${v.subject ?? '?'}${v.altNames ? ` (${v.altNames})` : ''}, issuer ${v.issuer ?? '?'}, valid until ${v.validTo ?? '?'}`;
}
