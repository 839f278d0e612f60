// @peculiar/x509 resolves its services through tsyringe, which needs the Reflect metadata polyfill
// loaded first. This is the only module that imports @peculiar/x509.
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { randomBytes, webcrypto } from 'node:crypto';

import type { CryptoKey, SigningKey } from './keys.js';

x509.cryptoProvider.set(webcrypto);

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

const { KeyUsageFlags: Usage } = x509;

/** Creates and signs a certificate; returns its PEM. */
export async function createCertificate(request: CertificateRequest): Promise<string> {
  const subject: x509.JsonName = [{ CN: [request.commonName] }];
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
    extensions: await extensions(request, issuer),
  });
  return cert.toString('pem').replace(/\n?$/, '\n');
}

async function extensions(
  request: CertificateRequest,
  issuer?: x509.X509Certificate,
): Promise<x509.Extension[]> {
  const list: x509.Extension[] = [];
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
  const names: x509.JsonGeneralName[] = [
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
