import type { KeyObject } from 'node:crypto';

import { filePathFromSetting } from '../../config/file-uri.js';
import type { EdgeCa } from './edge-ca.js';
import { CertificateError, fileProblem } from './errors.js';
import { keyMatchesCertificate, parsePrivateKeyPem, signingKeyFrom, type SigningKey } from './keys.js';
import { readCertificateFile, readSettingFile, toPem, validityOf } from './pem.js';

/** The three `certificates` settings as written in config.yaml (paths or `file://` URIs). */
export interface ConfiguredCaSettings {
  deviceCaCert: string;
  deviceCaPk: string;
  trustedCaCerts: string;
}

const CERT = 'certificates.device_ca_cert';
const KEY = 'certificates.device_ca_pk';
const TRUSTED = 'certificates.trusted_ca_certs';

/** Loads and checks the device CA named in config.yaml; every error names the setting and file. */
export async function loadConfiguredCa(settings: ConfiguredCaSettings, now: Date): Promise<EdgeCa> {
  const certPath = settingPath(settings.deviceCaCert, CERT);
  const keyPath = settingPath(settings.deviceCaPk, KEY);

  const chain = await readCertificateFile(certPath, CERT);
  const deviceCa = chain[0];
  if (!deviceCa.ca) {
    throw new CertificateError(
      'invalid',
      fileProblem(CERT, certPath, 'not a CA certificate (no CA:TRUE)'),
      certPath,
    );
  }
  const { notBefore, notAfter } = validityOf(deviceCa);
  if (notAfter.getTime() <= now.getTime()) {
    throw new CertificateError(
      'expired',
      fileProblem(CERT, certPath, `expired at ${notAfter.toISOString()}`),
      certPath,
    );
  }
  if (notBefore.getTime() > now.getTime()) {
    const problem = `not valid before ${notBefore.toISOString()}`;
    throw new CertificateError('invalid', fileProblem(CERT, certPath, problem), certPath);
  }

  const signingKey = await loadKey(keyPath, (privateKey) =>
    keyMatchesCertificate(privateKey, deviceCa.publicKey),
  );
  const trustedPem = await readTrustedCaCerts(settings.trustedCaCerts);
  return {
    source: 'configured',
    certPath,
    certPem: toPem(deviceCa),
    chainPem: chain.map(toPem).join(''),
    trustBundlePem: trustedPem,
    signingKey,
    notBefore,
    notAfter,
  };
}

async function loadKey(keyPath: string, matches: (key: KeyObject) => boolean): Promise<SigningKey> {
  const text = await readSettingFile(keyPath, KEY);
  let privateKey: KeyObject;
  try {
    privateKey = parsePrivateKeyPem(text);
  } catch (error) {
    throw new CertificateError('invalid', fileProblem(KEY, keyPath, (error as Error).message), keyPath);
  }
  if (!matches(privateKey)) {
    const problem = `does not belong to the certificate in ${CERT}`;
    throw new CertificateError('mismatch', fileProblem(KEY, keyPath, problem), keyPath);
  }
  try {
    return await signingKeyFrom(privateKey);
  } catch (error) {
    throw new CertificateError('unsupported', fileProblem(KEY, keyPath, (error as Error).message), keyPath);
  }
}

function settingPath(value: string, setting: string): string {
  try {
    return filePathFromSetting(value, setting);
  } catch (error) {
    throw new CertificateError('unsupported', (error as Error).message);
  }
}

/** The certificates of `certificates.trusted_ca_certs`, PEM; errors name the setting and file. */
export async function readTrustedCaCerts(setting: string): Promise<string> {
  const trusted = await readCertificateFile(settingPath(setting, TRUSTED), TRUSTED);
  return trusted.map(toPem).join('');
}
