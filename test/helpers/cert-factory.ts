import { generateKeyPairSync, randomBytes } from 'node:crypto';
import forge from 'node-forge';

/** A certificate made for a test, with its key so it can sign others. */
export interface TestCertificate {
  certPem: string;
  keyPem: string;
  cert: forge.pki.Certificate;
  key: forge.pki.rsa.PrivateKey;
}

export interface CertificateOptions {
  commonName: string;
  notBefore: Date;
  notAfter: Date;
  /** Signs the new certificate; omitted = self-signed. */
  issuer?: TestCertificate;
  /** Marks it as a CA (basicConstraints cA, keyCertSign). Defaults to true when self-signed. */
  isCa?: boolean;
}

// node:crypto generates RSA keys natively; forge's pure-JS generator takes seconds per key.
function newKeyPair(): {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  pem: string;
} {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
  const forgeKey = forge.pki.privateKeyFromPem(pem) as forge.pki.rsa.PrivateKey;
  return { privateKey: forgeKey, publicKey: forge.pki.rsa.setPublicKey(forgeKey.n, forgeKey.e), pem };
}

/** Any validity window, including ones already over or not yet begun. Times keep whole seconds. */
export function createCertificate(options: CertificateOptions): TestCertificate {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  // A leading 0x01 keeps the DER integer positive.
  cert.serialNumber = `01${randomBytes(8).toString('hex')}`;
  cert.validity.notBefore = options.notBefore;
  cert.validity.notAfter = options.notAfter;
  const subject = [{ name: 'commonName', value: options.commonName }];
  cert.setSubject(subject);
  cert.setIssuer(options.issuer ? options.issuer.cert.subject.attributes : subject);
  const isCa = options.isCa ?? options.issuer === undefined;
  cert.setExtensions([
    { name: 'basicConstraints', cA: isCa, critical: true },
    isCa
      ? { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true }
      : { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
  ]);
  cert.sign(options.issuer ? options.issuer.key : keys.privateKey, forge.md.sha256.create());
  return { certPem: forge.pki.certificateToPem(cert), keyPem: keys.pem, cert, key: keys.privateKey };
}

/** A self-signed CA certificate. */
export function createCa(commonName: string, notBefore: Date, notAfter: Date): TestCertificate {
  return createCertificate({ commonName, notBefore, notAfter, isCa: true });
}

/** A certificate issued by `issuer` (a leaf unless `isCa`). */
export function createLeaf(
  issuer: TestCertificate,
  commonName: string,
  notBefore: Date,
  notAfter: Date,
  isCa = false,
): TestCertificate {
  return createCertificate({ commonName, notBefore, notAfter, issuer, isCa });
}

/** Concatenated PEM text, as in a chain file or trust bundle. */
export function pemBundle(...certs: TestCertificate[]): string {
  return certs.map((cert) => cert.certPem).join('');
}
