import { generateKeyPairSync, randomBytes } from 'node:crypto';

import forge from 'node-forge';

/** A certificate and its private key, PEM-encoded. */
export interface KeyedCertificate {
  cert: string;
  key: string;
}

/** Certificates for TLS tests against 127.0.0.1 / localhost. */
export interface TestPki {
  /** The test CA; trust it to accept `server`, `expired` (apart from its dates) and `wrongHost`. */
  ca: KeyedCertificate;
  /** Valid for DNS:localhost, IP:127.0.0.1 and IP:::1, issued by `ca`. */
  server: KeyedCertificate;
  /** Valid names and dates, but self-signed. */
  selfSigned: KeyedCertificate;
  /** Issued by `ca` for the right names, expired yesterday. */
  expired: KeyedCertificate;
  /** Issued by `ca`, valid now, for wrong.example.net only. */
  wrongHost: KeyedCertificate;
}

const DAY = 24 * 60 * 60 * 1000;
const LOOPBACK_NAMES = [
  { type: 2, value: 'localhost' },
  { type: 7, ip: '127.0.0.1' },
  { type: 7, ip: '::1' },
];

interface Issuer {
  attributes: forge.pki.CertificateField[];
  key: forge.pki.rsa.PrivateKey;
}

interface CertificateSpec {
  commonName: string;
  altNames: object[];
  notBefore: Date;
  notAfter: Date;
  isCa: boolean;
  /** Signs with this issuer; self-signed when absent. */
  issuer?: Issuer;
}

/** Native RSA key generation (forge's pure-JS one takes seconds), converted for forge to sign with. */
function newKeyPair(): {
  privateKey: forge.pki.rsa.PrivateKey;
  publicKey: forge.pki.rsa.PublicKey;
  pem: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return {
    privateKey: forge.pki.privateKeyFromPem(privateKey),
    publicKey: forge.pki.publicKeyFromPem(publicKey),
    pem: privateKey,
  };
}

function issue(spec: CertificateSpec): KeyedCertificate & { issuer: Issuer } {
  const keys = newKeyPair();
  const cert = forge.pki.createCertificate();
  cert.publicKey = keys.publicKey;
  // A positive serial: clear the top bit of a random 16-byte number.
  cert.serialNumber = `0${randomBytes(16).toString('hex').slice(1)}`;
  cert.validity.notBefore = spec.notBefore;
  cert.validity.notAfter = spec.notAfter;
  const attributes = [
    { name: 'commonName', value: spec.commonName },
    { name: 'organizationName', value: 'iotedge-ts tests' },
  ];
  cert.setSubject(attributes);
  cert.setIssuer(spec.issuer?.attributes ?? attributes);
  const extensions: object[] = [{ name: 'basicConstraints', cA: spec.isCa, critical: spec.isCa }];
  if (spec.isCa) {
    extensions.push({ name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true });
  } else {
    extensions.push(
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
    );
  }
  if (spec.altNames.length > 0) extensions.push({ name: 'subjectAltName', altNames: spec.altNames });
  extensions.push({ name: 'subjectKeyIdentifier' });
  cert.setExtensions(extensions);
  cert.sign(spec.issuer?.key ?? keys.privateKey, forge.md.sha256.create());
  return {
    cert: forge.pki.certificateToPem(cert),
    key: keys.pem,
    issuer: { attributes, key: keys.privateKey },
  };
}

let cached: TestPki | undefined;

/** Generates the test PKI once per process. */
export function testPki(): TestPki {
  if (cached) return cached;
  const now = Date.now();
  const current = { notBefore: new Date(now - DAY), notAfter: new Date(now + 30 * DAY) };
  const ca = issue({ commonName: 'iotedge-ts test CA', altNames: [], isCa: true, ...current });
  const leaf = (commonName: string, altNames: object[], dates = current): KeyedCertificate => {
    const { cert, key } = issue({ commonName, altNames, isCa: false, issuer: ca.issuer, ...dates });
    return { cert, key };
  };
  const selfSigned = issue({ commonName: 'localhost', altNames: LOOPBACK_NAMES, isCa: false, ...current });
  cached = {
    ca: { cert: ca.cert, key: ca.key },
    server: leaf('localhost', LOOPBACK_NAMES),
    selfSigned: { cert: selfSigned.cert, key: selfSigned.key },
    expired: leaf('localhost', LOOPBACK_NAMES, {
      notBefore: new Date(now - 10 * DAY),
      notAfter: new Date(now - DAY),
    }),
    wrongHost: leaf('wrong.example.net', [{ type: 2, value: 'wrong.example.net' }]),
  };
  return cached;
}
