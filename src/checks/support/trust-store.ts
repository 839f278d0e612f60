import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';

import { pemCertificateBlocks, readPemText } from '../../runtime/identity/certificates/pem.js';

/**
 * Where Linux distributions keep the system CA bundle (Debian/Ubuntu, RHEL/Fedora, openSUSE, Alpine).
 * OpenSSL's own SSL_CERT_FILE / SSL_CERT_DIR overrides win, as they do for native_tls in the real tool.
 */
const BUNDLE_FILES = [
  '/etc/ssl/certs/ca-certificates.crt',
  '/etc/pki/tls/certs/ca-bundle.crt',
  '/etc/ssl/ca-bundle.pem',
  '/etc/ssl/cert.pem',
];
const CERT_DIRS = ['/etc/ssl/certs'];

let systemStore: Promise<string[]> | undefined;

/**
 * The certificates a TLS client on this host should trust: the OS trust store (or Node's bundled
 * Mozilla roots when the OS has none, e.g. in a slim container) followed by the PEM files in `extraCaFiles`.
 * An unreadable extra file is an error naming the file; the OS store is read once per process.
 */
export async function loadTrustStore(extraCaFiles: string[]): Promise<string[]> {
  systemStore ??= loadSystemStore(process.env);
  const extra = await readCaFiles(extraCaFiles);
  return [...(await systemStore), ...extra];
}

/** The PEM certificates in each file, in order. A file without any certificate is an error. */
export async function readCaFiles(files: string[]): Promise<string[]> {
  const certificates: string[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readPemText(file);
    } catch (error) {
      throw new Error(`Could not read CA certificate file ${file}`, { cause: error });
    }
    const found = pemCertificateBlocks(text);
    if (found.length === 0) throw new Error(`CA certificate file ${file} contains no PEM certificate`);
    certificates.push(...found);
  }
  return certificates;
}

async function loadSystemStore(env: NodeJS.ProcessEnv): Promise<string[]> {
  const files = env.SSL_CERT_FILE ? [env.SSL_CERT_FILE] : BUNDLE_FILES;
  for (const file of files) {
    const certificates = await readPemQuietly(file);
    if (certificates.length > 0) return certificates;
  }
  const dirs = env.SSL_CERT_DIR ? env.SSL_CERT_DIR.split(':').filter(Boolean) : CERT_DIRS;
  const fromDirs: string[] = [];
  for (const dir of dirs) fromDirs.push(...(await readPemDirectory(dir)));
  if (fromDirs.length > 0) return dedupe(fromDirs);
  return [...rootCertificates];
}

async function readPemQuietly(file: string): Promise<string[]> {
  try {
    return pemCertificateBlocks(await readPemText(file));
  } catch {
    return [];
  }
}

async function readPemDirectory(dir: string): Promise<string[]> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const certificates: string[] = [];
  for (const name of names.sort()) {
    if (!/\.(pem|crt|\d+)$/.test(name)) continue;
    certificates.push(...(await readPemQuietly(join(dir, name))));
  }
  return certificates;
}

/** A hashed-symlink directory lists each certificate twice (name.pem and hash.0). */
function dedupe(certificates: string[]): string[] {
  return [...new Set(certificates)];
}
