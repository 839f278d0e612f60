import { X509Certificate } from 'node:crypto';

import { parseCertificates, validityOf } from './pem.js';

/** A certificate as PEM text (one or more blocks), DER bytes (e.g. a TLS peer's `raw`), or parsed. */
export type CertificateInput = string | Buffer | X509Certificate;

export interface Thumbprints {
  /** Uppercase hex without separators, as IoT Hub shows thumbprints. */
  sha256: string;
  sha1: string;
}

export function certificateThumbprints(cert: CertificateInput): Thumbprints {
  const [parsed] = toCertificates(cert);
  const hex = (fingerprint: string) => fingerprint.replaceAll(':', '').toUpperCase();
  return { sha256: hex(parsed.fingerprint256), sha1: hex(parsed.fingerprint) };
}

/**
 * Whether the certificate's SHA-256 or SHA-1 thumbprint is one of `expected` (an identity's primary
 * and secondary thumbprints), ignoring case, colons and spaces.
 */
export function matchesThumbprint(
  cert: CertificateInput,
  expected: readonly (string | undefined)[],
): boolean {
  const { sha256, sha1 } = certificateThumbprints(cert);
  return expected.some((value) => {
    const normalized = value?.replace(/[\s:]/g, '').toUpperCase();
    return normalized !== undefined && normalized !== '' && (normalized === sha256 || normalized === sha1);
  });
}

export interface ClientChainOptions {
  now: Date;
  /** When set, the leaf's CN must equal it (CA-signed device certificates name the device). */
  commonName?: string;
}

/** `reason` names certificates by subject only, so it is safe to log. */
export type ClientChainVerification = { ok: true } | { ok: false; reason: string };

const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const ANY_EXTENDED_KEY_USAGE = '2.5.29.37.0';
const MAX_INTERMEDIATES = 8;

/**
 * Checks a client's presented chain (leaf first, then any intermediates) against trusted CA
 * certificates: every link signed by the next, each issuer a CA, each certificate valid at `now`,
 * and the leaf usable for client authentication.
 */
export function verifyClientChain(
  presented: readonly CertificateInput[],
  trusted: readonly CertificateInput[],
  options: ClientChainOptions,
): ClientChainVerification {
  let chain: X509Certificate[];
  let anchors: X509Certificate[];
  try {
    chain = presented.flatMap(toCertificates);
    anchors = trusted.flatMap(toCertificates);
  } catch (error) {
    return { ok: false, reason: `unreadable certificate: ${(error as Error).message}` };
  }
  const [leaf, ...intermediates] = chain;
  if (leaf === undefined) return { ok: false, reason: 'no client certificate presented' };
  const leafProblem = checkLeaf(leaf, options);
  if (leafProblem !== undefined) return { ok: false, reason: leafProblem };

  let current = leaf;
  for (let depth = 0; depth <= MAX_INTERMEDIATES; depth += 1) {
    const expired = validityProblem(current, options.now);
    if (expired !== undefined) return { ok: false, reason: expired };
    if (anchors.some((anchor) => anchor.fingerprint256 === current.fingerprint256)) return { ok: true };
    const anchor = anchors.find((candidate) => issues(candidate, current));
    if (anchor !== undefined) {
      const anchorExpired = validityProblem(anchor, options.now);
      return anchorExpired === undefined ? { ok: true } : { ok: false, reason: anchorExpired };
    }
    const next = intermediates.find((candidate) => candidate !== current && issues(candidate, current));
    if (next === undefined) {
      return { ok: false, reason: `${describe(current)} is not issued by a trusted CA` };
    }
    current = next;
  }
  return { ok: false, reason: `the client chain is longer than ${MAX_INTERMEDIATES} intermediates` };
}

function checkLeaf(leaf: X509Certificate, options: ClientChainOptions): string | undefined {
  if (leaf.ca) return `${describe(leaf)} is a CA certificate, not a client certificate`;
  const usages = leaf.keyUsage;
  if (
    usages !== undefined &&
    usages.length > 0 &&
    !usages.some((u) => u === CLIENT_AUTH || u === ANY_EXTENDED_KEY_USAGE)
  ) {
    return `${describe(leaf)} is not valid for client authentication`;
  }
  if (options.commonName !== undefined && commonName(leaf) !== options.commonName) {
    return `${describe(leaf)} does not name '${options.commonName}'`;
  }
  return undefined;
}

function issues(issuer: X509Certificate, cert: X509Certificate): boolean {
  return issuer.ca && cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
}

function validityProblem(cert: X509Certificate, now: Date): string | undefined {
  const { notBefore, notAfter } = validityOf(cert);
  if (now < notBefore) return `${describe(cert)} is not valid before ${notBefore.toISOString()}`;
  if (now > notAfter) return `${describe(cert)} expired at ${notAfter.toISOString()}`;
  return undefined;
}

function toCertificates(input: CertificateInput): X509Certificate[] {
  if (input instanceof X509Certificate) return [input];
  if (Buffer.isBuffer(input)) return [new X509Certificate(input)];
  return parseCertificates(input);
}

function commonName(cert: X509Certificate): string | undefined {
  const line = cert.subject.split('\n').find((part) => part.startsWith('CN='));
  return line?.slice('CN='.length);
}

function describe(cert: X509Certificate): string {
  return `certificate '${commonName(cert) ?? cert.subject.replaceAll('\n', ', ')}'`;
}
