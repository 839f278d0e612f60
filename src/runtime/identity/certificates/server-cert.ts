import { isIP } from 'node:net';

import type { EdgeCa } from './edge-ca.js';
import { issueLeaf, type IssuedCertificate } from './leaf.js';
import { renewAt } from './renewal.js';

export interface HubServerCertificate extends IssuedCertificate {
  /** PEM roots clients must trust to accept `chainPem`. */
  trustBundlePem: string;
  /** When the caller should issue a new one (80% of the lifetime). */
  renewAt: Date;
}

export interface HubServerCertificateOptions {
  /** config.yaml `hostname`; modules dial the hub by this name. */
  hostname: string;
  now?: Date;
  lifetimeDays?: number;
  /** More DNS names to accept, e.g. the hub's module name on a container network. */
  extraDnsNames?: readonly string[];
}

export const DEFAULT_SERVER_CERT_LIFETIME_DAYS = 30;
const DAY_MS = 24 * 60 * 60 * 1000;
/** X.520 upper bound for a common name. */
const MAX_COMMON_NAME = 64;

/**
 * The hub's TLS server certificate: CN = hostname; SAN DNS hostname and localhost, IP 127.0.0.1 and
 * ::1; extended key usage serverAuth.
 */
export async function issueHubServerCertificate(
  ca: EdgeCa,
  options: HubServerCertificateOptions,
): Promise<HubServerCertificate> {
  const hostname = options.hostname.toLowerCase();
  const hostIsIp = isIP(hostname) !== 0;
  const dnsNames = unique([...(hostIsIp ? [] : [hostname]), 'localhost', ...(options.extraDnsNames ?? [])]);
  const ipAddresses = unique([...(hostIsIp ? [hostname] : []), '127.0.0.1', '::1']);
  const issued = await issueLeaf(ca, {
    // Clients match the SAN, not the CN; a hostname too long for a CN would make issuing fail
    // (the real IoT Edge's long-hostname bug), so its first label stands in.
    commonName: hostname.length <= MAX_COMMON_NAME ? hostname : hostname.split('.')[0],
    profile: 'server',
    dnsNames,
    ipAddresses,
    now: options.now ?? new Date(),
    maxLifetimeMs: (options.lifetimeDays ?? DEFAULT_SERVER_CERT_LIFETIME_DAYS) * DAY_MS,
  });
  return {
    ...issued,
    trustBundlePem: ca.trustBundlePem,
    renewAt: renewAt(issued.notBefore, issued.notAfter),
  };
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
