import { MiB } from './bounded-read.js';

/**
 * How large a file named from outside (config.yaml, a setting, a command line) may be, by what it
 * holds: far above any real one, far below what would exhaust the memory of a small device.
 */
export const FILE_LIMITS = {
  /** config.yaml */
  config: 1 * MiB,
  /** a PEM certificate, chain, trust bundle or private key */
  pem: 4 * MiB,
  /** a deployment manifest: as much as POST /deployment accepts */
  manifest: 4 * MiB,
  /** a small JSON settings file (Docker's daemon.json, the provisioning backup) */
  settings: 1 * MiB,
} as const;
