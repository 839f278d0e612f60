// The only module that uses @peculiar/x509. It is loaded on the first certificate created (with
// the Reflect metadata polyfill its tsyringe needs first): together they cost some 20 MiB, which
// a daemon that reuses its certificates never pays.
import { randomBytes, webcrypto } from 'node:crypto';

import type { CryptoKey, SigningKey } from './keys.js';

type X509 = typeof import('@peculiar/x509');
let library: Promise<X509> | undefined;

function load(): Promise<X509> {
  library ??= import('reflect-metadata').then(async () => {
    const x509 = await import('@peculiar/x509');
    x509.cryptoProvider.set(webcrypto);
    return x509;
  });
  return library;
}

export type CertificateProfile = 'ca' | 'server' | 'client';

export interface CertificateRequest {
  commonName: string;
  organization?: string;
  publicKey: CryptoKey;
  notBefore: Date;
  notAfter: Date;
  profile: CertificateProfile;
  /** For a CA: how many intermediate CAs may follow it. */
  pathLength?: number;
  dnsNames?: readonly string[];
  ipAddresses?: readonly string[];
  uris?: readonly string[];
  /** PEM of the issuing CA certificate; absent for a self-signed certificate. */
  issuerPem?: string;
  /** The issuer's key, or the certificate's own private key when self-signed. */
  signingKey: SigningKey;
}

/** Creates and signs a certificate; returns its PEM. */
export async function createCertificate(request: CertificateRequest): Promise<string> {
  const x509 = await load();
  const subject: import('@peculiar/x509').JsonName = [{ CN: [request.commonName] }];
  if (request.organization !== undefined) subject.push({ O: [request.organization] });
  const issuer = request.issuerPem === undefined ? undefined : new x509.X509Certificate(request.issuerPem);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: issuer?.subjectName ?? subject,
    notBefore: request.notBefore,
    notAfter: request.notAfter,
    publicKey: request.publicKey,
    signingKey: request.signingKey.key,
    signingAlgorithm: request.signingKey.algorithm,
    extensions: await extensions(x509, request, issuer),
  });
  return cert.toString('pem').replace(/\n?$/, '\n');
}

async function extensions(
  x509: X509,
  request: CertificateRequest,
  issuer?: InstanceType<X509['X509Certificate']>,
): Promise<InstanceType<X509['Extension']>[]> {
  const { KeyUsageFlags: Usage } = x509;
  const list: InstanceType<X509['Extension']>[] = [];
  if (request.profile === 'ca') {
    list.push(
      new x509.BasicConstraintsExtension(true, request.pathLength, true),
      new x509.KeyUsagesExtension(Usage.keyCertSign | Usage.cRLSign | Usage.digitalSignature, true),
    );
  } else {
    list.push(
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(Usage.digitalSignature | Usage.keyEncipherment | Usage.keyAgreement, true),
      new x509.ExtendedKeyUsageExtension([
        request.profile === 'server' ? x509.ExtendedKeyUsage.serverAuth : x509.ExtendedKeyUsage.clientAuth,
      ]),
    );
  }
  const names: import('@peculiar/x509').JsonGeneralName[] = [
    ...(request.dnsNames ?? []).map((value) => ({ type: 'dns' as const, value })),
    ...(request.ipAddresses ?? []).map((value) => ({ type: 'ip' as const, value })),
    ...(request.uris ?? []).map((value) => ({ type: 'url' as const, value })),
  ];
  if (names.length > 0) list.push(new x509.SubjectAlternativeNameExtension(names));
  list.push(await x509.SubjectKeyIdentifierExtension.create(request.publicKey));
  // The authority key id must equal the issuer's subject key id, whichever way the issuer computed it.
  const issuerKeyId = issuer?.getExtension(x509.SubjectKeyIdentifierExtension)?.keyId;
  if (issuerKeyId !== undefined) list.push(new x509.AuthorityKeyIdentifierExtension(issuerKeyId));
  return list;
}

/** 16 random bytes, kept positive and without a leading zero byte. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] & 0x7f) | 0x01;
  return bytes.toString('hex');
}
