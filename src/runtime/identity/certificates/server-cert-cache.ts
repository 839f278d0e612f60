import { X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { writeFileAtomically } from '../../files/atomic-write.js';
import type { EdgeCa } from './edge-ca.js';
import { keyMatchesCertificate, parsePrivateKeyPem } from './keys.js';
import { pemCertificateBlocks, readPemText, validityOf } from './pem.js';
import { renewAt } from './renewal.js';
import type { HubServerCertificate } from './server-cert.js';

const CERT = 'server.cert.pem';
const KEY = 'server.key.pem';

/**
 * The hub's server certificate saved under `directory` by an earlier run, when it still suits:
 * issued by the current device CA, naming `hostname`, localhost and 127.0.0.1, and not yet due for
 * renewal. Reusing it spares the daemon a certificate library at every start.
 */
export async function loadServerCertificate(
  directory: string,
  ca: EdgeCa,
  hostname: string,
  now: Date,
): Promise<HubServerCertificate | undefined> {
  let chainPem: string;
  let privateKeyPem: string;
  try {
    [chainPem, privateKeyPem] = await Promise.all([
      readPemText(path.join(directory, CERT)),
      readPemText(path.join(directory, KEY)),
    ]);
  } catch {
    return undefined;
  }
  try {
    const [leafPem] = pemCertificateBlocks(chainPem);
    if (!leafPem) return undefined;
    const leaf = new X509Certificate(leafPem);
    const issuer = new X509Certificate(ca.certPem);
    if (!leaf.checkIssued(issuer) || !leaf.verify(issuer.publicKey)) return undefined;
    if (!keyMatchesCertificate(parsePrivateKeyPem(privateKeyPem), leaf.publicKey)) return undefined;
    if (!leaf.checkHost(hostname) || !leaf.checkHost('localhost') || !leaf.checkIP('127.0.0.1'))
      return undefined;
    const { notBefore, notAfter } = validityOf(leaf);
    const renewal = renewAt(notBefore, notAfter);
    if (now < notBefore || now >= renewal) return undefined;
    return {
      privateKeyPem,
      certificatePem: leafPem,
      chainPem,
      trustBundlePem: ca.trustBundlePem,
      notBefore,
      notAfter,
      renewAt: renewal,
    };
  } catch {
    return undefined;
  }
}

/** Saves the certificate (0644) and its key (0600) for the next start. */
export async function saveServerCertificate(
  directory: string,
  certificate: HubServerCertificate,
): Promise<void> {
  await mkdir(directory, { recursive: true, mode: 0o700 });
  await writeFileAtomically(path.join(directory, KEY), certificate.privateKeyPem, 0o600);
  await writeFileAtomically(path.join(directory, CERT), certificate.chainPem, 0o644);
}
