import { createPrivateKey, createPublicKey, KeyObject, webcrypto } from 'node:crypto';

export type CryptoKey = webcrypto.CryptoKey;
export type CryptoKeyPair = webcrypto.CryptoKeyPair;

/** A WebCrypto signing algorithm with its hash, as certificate signing needs it. */
export type SigningAlgorithm =
  { name: 'ECDSA'; namedCurve: string; hash: string } | { name: 'RSASSA-PKCS1-v1_5'; hash: string };

/** A CA's private key, imported for signing only (not extractable). */
export interface SigningKey {
  key: CryptoKey;
  algorithm: SigningAlgorithm;
}

const LEAF_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

const CURVES: Record<string, { namedCurve: string; hash: string }> = {
  prime256v1: { namedCurve: 'P-256', hash: 'SHA-256' },
  secp384r1: { namedCurve: 'P-384', hash: 'SHA-384' },
  secp521r1: { namedCurve: 'P-521', hash: 'SHA-512' },
};

/** A new ECDSA P-256 key pair; the private key is extractable so it can be handed out as PEM. */
export async function generateEcKeyPair(): Promise<{ pair: CryptoKeyPair; signing: SigningKey }> {
  const pair = await webcrypto.subtle.generateKey(LEAF_ALGORITHM, true, ['sign', 'verify']);
  return { pair, signing: { key: pair.privateKey, algorithm: { ...LEAF_ALGORITHM } } };
}

/** PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`). */
export function privateKeyPem(key: CryptoKey): string {
  return KeyObject.from(key).export({ type: 'pkcs8', format: 'pem' }).toString();
}

/**
 * Parses a PEM private key (PKCS#8, SEC1 or PKCS#1). Throws a message safe to show: it describes the
 * problem and never includes the key text.
 */
export function parsePrivateKeyPem(pem: string): KeyObject {
  if (!pem.includes('-----BEGIN') || !pem.includes('PRIVATE KEY-----'))
    throw new Error('not a PEM private key');
  try {
    return createPrivateKey({ key: pem, format: 'pem' });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ERR_MISSING_PASSPHRASE') throw new Error('encrypted private keys are not supported');
    throw new Error('not a PEM private key');
  }
}

/** Imports a parsed private key for WebCrypto signing; EC (P-256/384/521) and RSA keys are supported. */
export async function signingKeyFrom(privateKey: KeyObject): Promise<SigningKey> {
  const der = privateKey.export({ type: 'pkcs8', format: 'der' });
  if (privateKey.asymmetricKeyType === 'ec') {
    const curve = CURVES[privateKey.asymmetricKeyDetails?.namedCurve ?? ''];
    if (curve === undefined) throw new Error('unsupported elliptic curve');
    const algorithm = { name: 'ECDSA' as const, ...curve };
    const key = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
    return { key, algorithm };
  }
  if (privateKey.asymmetricKeyType === 'rsa') {
    const algorithm = { name: 'RSASSA-PKCS1-v1_5' as const, hash: 'SHA-256' };
    const key = await webcrypto.subtle.importKey('pkcs8', der, algorithm, false, ['sign']);
    return { key, algorithm };
  }
  throw new Error(`unsupported key type ${privateKey.asymmetricKeyType ?? 'unknown'}`);
}

/** Whether the private key belongs to the certificate's public key. */
export function keyMatchesCertificate(privateKey: KeyObject, certificatePublicKey: KeyObject): boolean {
  const spki = (key: KeyObject) => key.export({ type: 'spki', format: 'der' });
  return spki(createPublicKey(privateKey)).equals(spki(certificatePublicKey));
}
