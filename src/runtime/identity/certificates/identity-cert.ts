import type { EdgeCa } from './edge-ca.js';
import { issueLeaf, type IssuedCertificate } from './leaf.js';

export interface ModuleIdentityCertificateOptions {
  iothubHostname: string;
  deviceId: string;
  moduleId: string;
  /** The workload API request's `expiration`; the longest allowed lifetime when absent. */
  expiration?: Date;
  now?: Date;
  maxLifetimeDays?: number;
}

export const DEFAULT_IDENTITY_CERT_LIFETIME_DAYS = 90;
const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * A module's client (identity) certificate for the workload API (as IoT Edge 1.1 has it):
 * CN = module id, SAN URI `azureiot://<hub>/devices/<device>/modules/<module>`, EKU clientAuth.
 */
export function issueModuleIdentityCertificate(
  ca: EdgeCa,
  options: ModuleIdentityCertificateOptions,
): Promise<IssuedCertificate> {
  const uri =
    `azureiot://${options.iothubHostname}/devices/${encodeURIComponent(options.deviceId)}` +
    `/modules/${encodeURIComponent(options.moduleId)}`;
  return issueLeaf(ca, {
    commonName: options.moduleId,
    profile: 'client',
    uris: [uri],
    now: options.now ?? new Date(),
    maxLifetimeMs: (options.maxLifetimeDays ?? DEFAULT_IDENTITY_CERT_LIFETIME_DAYS) * DAY_MS,
    expiration: options.expiration,
  });
}
