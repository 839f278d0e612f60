import { X509Certificate } from 'node:crypto';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

import { writeFileAtomically, type FileWriteError } from '../../files/atomic-write.js';
import type { FileReadError } from '../../files/bounded-read.js';
import type { EdgeCa } from './edge-ca.js';
import { CertificateError, fileProblem } from './errors.js';
import {
  generateEcKeyPair,
  keyMatchesCertificate,
  parsePrivateKeyPem,
  privateKeyPem,
  signingKeyFrom,
} from './keys.js';
import { parseCertificates, readPemText, toPem, validityOf } from './pem.js';
import { renewAt } from './renewal.js';
import { createCertificate } from './x509.js';

/** Where the quickstart CA's certificates live, relative to `homedir`. */
export const QUICKSTART_CERTS_DIR = path.join('hsm', 'certs');
/** How the device CA's files are named; `iotedge check` takes any `device_ca_alias*.cert.pem`. */
export const QUICKSTART_DEVICE_CA_PREFIX = 'device_ca_alias';

/**
 * The quickstart CA: a self-signed root and a device CA under `<homedir>/hsm`, where `iotedge check`
 * looks for `device_ca_alias*.cert.pem`. The root's key is never written: a new device CA always
 * comes with a new root.
 */
export function quickstartPaths(homedir: string): { root: string; deviceCa: string; deviceCaKey: string } {
  const certs = path.join(homedir, QUICKSTART_CERTS_DIR);
  return {
    root: path.join(certs, 'edge_owner_ca.cert.pem'),
    deviceCa: path.join(certs, `${QUICKSTART_DEVICE_CA_PREFIX}.cert.pem`),
    deviceCaKey: path.join(homedir, 'hsm', 'cert_keys', `${QUICKSTART_DEVICE_CA_PREFIX}.key.pem`),
  };
}

export interface QuickstartOptions {
  now: Date;
  lifetimeDays: number;
}

/** Regenerated once 90% of the lifetime has passed, so leaves issued from it are never very short. */
const CA_RENEW_FRACTION = 0.9;
const BACKDATE_MS = 5 * 60 * 1000;
const DAY_MS = 24 * 60 * 60 * 1000;

export async function ensureQuickstartCa(homedir: string, options: QuickstartOptions): Promise<EdgeCa> {
  const paths = quickstartPaths(homedir);
  return (await reuse(paths, options.now)) ?? generate(paths, options);
}

type Paths = ReturnType<typeof quickstartPaths>;

/** The stored CA if it is complete, consistent and not near expiry; undefined means generate anew. */
async function reuse(paths: Paths, now: Date): Promise<EdgeCa | undefined> {
  const texts = await Promise.all([paths.root, paths.deviceCa, paths.deviceCaKey].map(readIfPresent));
  if (texts.some((text) => text === undefined)) return undefined;
  const [rootText, deviceCaText, keyText] = texts as string[];
  try {
    const [root] = parseCertificates(rootText);
    const [deviceCa] = parseCertificates(deviceCaText);
    const privateKey = parsePrivateKeyPem(keyText);
    const { notBefore, notAfter } = validityOf(deviceCa);
    const fresh = now >= notBefore && now < renewAt(notBefore, notAfter, CA_RENEW_FRACTION);
    const consistent =
      deviceCa.ca &&
      deviceCa.checkIssued(root) &&
      deviceCa.verify(root.publicKey) &&
      keyMatchesCertificate(privateKey, deviceCa.publicKey);
    if (!fresh || !consistent) return undefined;
    return edgeCa(paths, root, deviceCa, await signingKeyFrom(privateKey));
  } catch {
    // Files the daemon wrote but cannot use (cut short, edited) are replaced.
    return undefined;
  }
}

async function generate(paths: Paths, options: QuickstartOptions): Promise<EdgeCa> {
  const notBefore = new Date(options.now.getTime() - BACKDATE_MS);
  const notAfter = new Date(options.now.getTime() + options.lifetimeDays * DAY_MS);
  const rootKeys = await generateEcKeyPair();
  const rootPem = await createCertificate({
    commonName: 'iotedge-ts Edge Owner CA',
    organization: 'iotedge-ts quickstart',
    publicKey: rootKeys.pair.publicKey,
    signingKey: rootKeys.signing,
    notBefore,
    notAfter,
    profile: 'ca',
    pathLength: 1,
  });
  const deviceKeys = await generateEcKeyPair();
  const deviceCaPem = await createCertificate({
    commonName: 'iotedge-ts Device CA',
    organization: 'iotedge-ts quickstart',
    publicKey: deviceKeys.pair.publicKey,
    signingKey: rootKeys.signing,
    issuerPem: rootPem,
    notBefore,
    notAfter,
    profile: 'ca',
    pathLength: 0,
  });
  await makeDirectory(path.dirname(paths.deviceCa), 0o755);
  await makeDirectory(path.dirname(paths.deviceCaKey), 0o700);
  // The key goes first: a crash part-way leaves a mismatch that the next start replaces.
  await writeAtomically(paths.deviceCaKey, privateKeyPem(deviceKeys.pair.privateKey), 0o600);
  await writeAtomically(paths.deviceCa, deviceCaPem, 0o644);
  await writeAtomically(paths.root, rootPem, 0o644);
  return edgeCa(paths, new X509Certificate(rootPem), new X509Certificate(deviceCaPem), {
    key: deviceKeys.pair.privateKey,
    algorithm: deviceKeys.signing.algorithm,
  });
}

function edgeCa(
  paths: Paths,
  root: X509Certificate,
  deviceCa: X509Certificate,
  signingKey: EdgeCa['signingKey'],
): EdgeCa {
  const { notBefore, notAfter } = validityOf(deviceCa);
  return {
    source: 'quickstart',
    certPath: paths.deviceCa,
    certPem: toPem(deviceCa),
    chainPem: toPem(deviceCa),
    trustBundlePem: toPem(root),
    signingKey,
    notBefore,
    notAfter,
  };
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readPemText(file);
  } catch (error) {
    const { code, reason } = error as FileReadError;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new CertificateError('unreadable', fileProblem(undefined, file, reason), file);
  }
}

async function makeDirectory(dir: string, mode: number): Promise<void> {
  try {
    await mkdir(dir, { recursive: true, mode });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new CertificateError(
      'write-failed',
      fileProblem(undefined, dir, `cannot be created (${code})`),
      dir,
    );
  }
}

async function writeAtomically(file: string, text: string, mode: number): Promise<void> {
  try {
    await writeFileAtomically(file, text, mode, { exactMode: true });
  } catch (error) {
    const code = (error as FileWriteError).code ?? 'error';
    throw new CertificateError(
      'write-failed',
      fileProblem(undefined, file, `cannot be written (${code})`),
      file,
    );
  }
}
