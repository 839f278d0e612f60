export type CertificateErrorCode =
  | 'unreadable'
  | 'not-pem'
  | 'invalid'
  | 'mismatch'
  | 'expired'
  | 'unsupported'
  | 'incomplete'
  | 'write-failed';

/**
 * A certificate or key that cannot be used. The message names the config.yaml setting and the file,
 * e.g. `certificates.device_ca_cert: /etc/ca.pem: not a PEM certificate`; it never holds key material
 * and is meant to be shown as is, without a stack trace.
 */
export class CertificateError extends Error {
  constructor(
    readonly code: CertificateErrorCode,
    message: string,
    readonly path?: string,
  ) {
    super(message);
    this.name = 'CertificateError';
  }
}

/** `certificates.device_ca_cert: /path: problem`, or `/path: problem` for files the daemon owns. */
export function fileProblem(setting: string | undefined, path: string, problem: string): string {
  return setting === undefined ? `${path}: ${problem}` : `${setting}: ${path}: ${problem}`;
}
