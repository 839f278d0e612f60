import { X509Certificate } from 'node:crypto';

import type { EdgeCa } from './edge-ca.js';
import { CertificateError } from './errors.js';
import { generateEcKeyPair, privateKeyPem } from './keys.js';
import { validityOf } from './pem.js';
import { createCertificate } from './x509.js';

/** A certificate issued by the edge CA, with its new ECDSA P-256 key. */
export interface IssuedCertificate {
  /** PKCS#8 PEM. Secret: hand it only to the certificate's owner. */
  privateKeyPem: string;
  /** The leaf alone. */
  certificatePem: string;
  /** The leaf followed by the device CA and any intermediates: what a TLS peer presents. */
  chainPem: string;
  notBefore: Date;
  notAfter: Date;
}

export interface LeafRequest {
  commonName: string;
  profile: 'server' | 'client';
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  uris?: readonly string[];
  now: Date;
  /** The longest the certificate may last. */
  maxLifetimeMs: number;
  /** A requested expiry, shortened to `maxLifetimeMs` and to the CA's own expiry. */
  expiration?: Date;
}

/** Certificates start a little in the past so a peer whose clock lags still accepts them. */
const BACKDATE_MS = 5 * 60 * 1000;

/**
 * Issues a leaf certificate that never outlasts the CA: notAfter is the earliest of the requested
 * expiry, now + maxLifetimeMs and the CA's notAfter.
 */
export async function issueLeaf(ca: EdgeCa, request: LeafRequest): Promise<IssuedCertificate> {
  const now = request.now.getTime();
  if (request.commonName.trim() === '') throw new CertificateError('invalid', 'the common name is empty');
  if (ca.notAfter.getTime() <= now) {
    throw new CertificateError(
      'expired',
      `${ca.certPath}: the device CA certificate expired at ${ca.notAfter.toISOString()}; cannot issue certificates`,
      ca.certPath,
    );
  }
  if (request.expiration !== undefined && request.expiration.getTime() <= now) {
    throw new CertificateError('invalid', 'the requested expiration is not in the future');
  }
  // Certificate times hold whole seconds: round inwards so the window stays inside the CA's.
  const notBefore = ceilSecond(Math.max(now - BACKDATE_MS, ca.notBefore.getTime()));
  const notAfter = floorSecond(
    Math.min(request.expiration?.getTime() ?? Infinity, now + request.maxLifetimeMs, ca.notAfter.getTime()),
  );
  const { pair } = await generateEcKeyPair();
  const certificatePem = await createCertificate({
    commonName: request.commonName,
    publicKey: pair.publicKey,
    signingKey: ca.signingKey,
    issuerPem: ca.certPem,
    notBefore: new Date(notBefore),
    notAfter: new Date(notAfter),
    profile: request.profile,
    dnsNames: request.dnsNames,
    ipAddresses: request.ipAddresses,
    uris: request.uris,
  });
  return {
    privateKeyPem: privateKeyPem(pair.privateKey),
    certificatePem,
    chainPem: certificatePem + ca.chainPem,
    ...validityOf(new X509Certificate(certificatePem)),
  };
}

function ceilSecond(ms: number): number {
  return Math.ceil(ms / 1000) * 1000;
}

function floorSecond(ms: number): number {
  return Math.floor(ms / 1000) * 1000;
}
