import { X509Certificate } from 'node:crypto';
import { FileReadError, readBoundedText } from '../../files/bounded-read.js';
import { FILE_LIMITS } from '../../files/file-limits.js';

import { CertificateError, fileProblem } from './errors.js';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * The text of a certificate (or key) file: a regular file of at most 4 MiB, else a FileReadError
 * that says what is wrong. Node built-ins and relative imports only: the diagnostics image reads CA
 * files through this module.
 */
export function readPemText(path: string, signal?: AbortSignal): Promise<string> {
  return readBoundedText(path, { maxBytes: FILE_LIMITS.pem, signal });
}

/** The `CERTIFICATE` blocks of a PEM text, each ending in a newline; other blocks are skipped unread. */
export function pemCertificateBlocks(text: string): string[] {
  return (text.match(PEM_CERTIFICATE) ?? []).map((block) => `${block}\n`);
}

/** Parses every certificate of a PEM text; throws a short message (`not a PEM certificate`, …). */
export function parseCertificates(text: string): X509Certificate[] {
  const blocks = pemCertificateBlocks(text);
  if (blocks.length === 0) throw new Error('not a PEM certificate');
  return blocks.map((block, index) => {
    try {
      return new X509Certificate(block);
    } catch {
      throw new Error(
        blocks.length === 1
          ? 'malformed PEM certificate'
          : `certificate ${index + 1} of ${blocks.length} is malformed`,
      );
    }
  });
}

export interface Validity {
  notBefore: Date;
  notAfter: Date;
}

/** Node 20's X509Certificate gives validity as text only (`Jan  1 00:00:00 2024 GMT`). */
export function validityOf(cert: X509Certificate): Validity {
  return { notBefore: new Date(cert.validFrom), notAfter: new Date(cert.validTo) };
}

export function toPem(cert: X509Certificate): string {
  return cert.toString().replace(/\n?$/, '\n');
}

/**
 * Reads a certificate or key file named by `setting`: a regular file of at most 4 MiB. Errors name
 * the setting and path and say what is wrong ("no such file", "is a FIFO (named pipe), not a
 * regular file", ...), never the content.
 */
export async function readSettingFile(path: string, setting: string | undefined): Promise<string> {
  try {
    return await readPemText(path);
  } catch (error) {
    let problem = 'cannot be read';
    if (error instanceof FileReadError) problem = error.code === 'ENOENT' ? 'no such file' : error.reason;
    throw new CertificateError('unreadable', fileProblem(setting, path, problem), path);
  }
}

/** Reads and parses a PEM certificate file, with errors like `setting: /path: not a PEM certificate`. */
export async function readCertificateFile(
  path: string,
  setting: string | undefined,
): Promise<X509Certificate[]> {
  const text = await readSettingFile(path, setting);
  try {
    return parseCertificates(text);
  } catch (error) {
    throw new CertificateError('not-pem', fileProblem(setting, path, (error as Error).message), path);
  }
}
