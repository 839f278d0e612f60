import type { TLSSocket } from 'node:tls';

/** The DER certificate a client presented in its TLS handshake, if it presented one. */
export function peerCertificate(connection: unknown): Buffer | undefined {
  const certificate = (connection as Partial<TLSSocket>).getPeerCertificate?.();
  return certificate?.raw && certificate.raw.length > 0 ? certificate.raw : undefined;
}
