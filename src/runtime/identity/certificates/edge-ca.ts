import type { Settings } from '../../config/settings.js';
import { loadConfiguredCa, readTrustedCaCerts } from './configured-ca.js';
import { CertificateError } from './errors.js';
import type { SigningKey } from './keys.js';
import { ensureQuickstartCa } from './quickstart-ca.js';

/** The CA that issues the hub's server certificate and module certificates. Holds no key text. */
export interface EdgeCa {
  /** `quickstart` when the daemon generated it because config.yaml names no device CA. */
  source: 'quickstart' | 'configured';
  /** The device CA certificate file. */
  certPath: string;
  /** The device CA certificate, PEM. */
  certPem: string;
  /** What follows a leaf in the chain it presents: the device CA, then any intermediates. */
  chainPem: string;
  /** What clients should trust: the root CA(s) and `certificates.trusted_ca_certs`. */
  trustBundlePem: string;
  signingKey: SigningKey;
  /** Validity of the device CA certificate; issued certificates never outlast it. */
  notBefore: Date;
  notAfter: Date;
}

export interface EdgeCaOptions {
  now?: Date;
}

const CA_SETTINGS = ['device_ca_cert', 'device_ca_pk', 'trusted_ca_certs'] as const;
export const DEFAULT_CA_LIFETIME_DAYS = 90;

/**
 * The configured device CA when `certificates` names one; otherwise the quickstart CA under the
 * homedir, generated on first use and regenerated near its expiry.
 */
export async function loadEdgeCa(
  settings: Pick<Settings, 'homedir' | 'certificates'>,
  options: EdgeCaOptions = {},
): Promise<EdgeCa> {
  const now = options.now ?? new Date();
  const certificates = settings.certificates;
  const missing = CA_SETTINGS.filter((name) => (certificates?.[name] ?? '') === '');
  const trustedOnly = missing.length === 2 && !missing.includes('trusted_ca_certs');
  if (missing.length === CA_SETTINGS.length || trustedOnly) {
    const lifetimeDays = certificates?.auto_generated_ca_lifetime_days ?? DEFAULT_CA_LIFETIME_DAYS;
    const quickstart = await ensureQuickstartCa(settings.homedir, { now, lifetimeDays });
    if (!trustedOnly) return quickstart;
    // the trust bundle also holds certificates.trusted_ca_certs (e.g. a parent edge device's root CA)
    const trusted = await readTrustedCaCerts(certificates?.trusted_ca_certs as string);
    return { ...quickstart, trustBundlePem: quickstart.trustBundlePem + trusted };
  }
  if (missing.length > 0 || certificates === undefined) {
    const names = (list: readonly string[]) => list.map((name) => `certificates.${name}`).join(', ');
    throw new CertificateError(
      'incomplete',
      `${names(CA_SETTINGS)} must be set together; missing: ${names(missing)}`,
    );
  }
  return loadConfiguredCa(
    {
      deviceCaCert: certificates.device_ca_cert as string,
      deviceCaPk: certificates.device_ca_pk as string,
      trustedCaCerts: certificates.trusted_ca_certs as string,
    },
    now,
  );
}
