import type { Settings } from '../../runtime/config/settings.js';
import {
  expiryStatus,
  formatUtc,
  readCertificateSetting,
  serializeCertificateInfo,
  type CertificateInfo,
} from '../support/certificates.js';
import {
  errorChain,
  failed,
  ignored,
  ok,
  warning,
  type CheckDefinition,
  type CheckResult,
} from '../types.js';

export type ProvisioningMode = 'dps-x509' | 'dps-other' | 'manual-x509' | 'manual-other' | 'external';

/** Below this many days left the identity certificate raises a warning. */
export const IDENTITY_CERT_WARN_DAYS = 7;

interface IdentityCertificate {
  name: string;
  value: string;
  setting: string;
}

/** How the device is provisioned and, for X.509 identities, which certificate proves it. */
export function identityCertificate(settings: Settings): {
  mode: ProvisioningMode;
  cert?: IdentityCertificate;
} {
  const provisioning = settings.provisioning;
  switch (provisioning.source) {
    case 'dps': {
      const attestation = provisioning.attestation;
      if (attestation.method !== 'x509') return { mode: 'dps-other' };
      return {
        mode: 'dps-x509',
        cert: {
          name: 'DPS identity certificate',
          value: attestation.identity_cert,
          setting: 'provisioning.attestation.identity_cert',
        },
      };
    }
    case 'manual': {
      const authentication = provisioning.authentication;
      if (authentication?.method !== 'x509') return { mode: 'manual-other' };
      return {
        mode: 'manual-x509',
        cert: {
          name: 'Manual authentication identity certificate',
          value: authentication.identity_cert,
          setting: 'provisioning.authentication.identity_cert',
        },
      };
    }
    case 'external':
      return { mode: 'external' };
  }
}

/** The result for the identity certificate `cert` (its first certificate) read from `path` at `now`. */
export function identityCertificateResult(
  name: string,
  path: string,
  cert: CertificateInfo,
  now: Date,
  additionalInfo: Record<string, unknown>,
): CheckResult {
  const status = expiryStatus(cert, now, { warnWithinDays: IDENTITY_CERT_WARN_DAYS });
  switch (status.state) {
    case 'not-yet-valid':
      return failed(
        `${name} at ${path} has not-before time ${formatUtc(cert.notBefore)} which is in the future`,
        undefined,
        additionalInfo,
      );
    case 'expired':
      return failed(`${name} at ${path} expired at ${formatUtc(cert.notAfter)}`, undefined, additionalInfo);
    case 'expiring':
      return warning(
        `${name} at ${path} will expire soon (${formatUtc(cert.notAfter)}, in ${status.daysLeft} days)`,
        undefined,
        additionalInfo,
      );
    case 'valid':
      return ok(additionalInfo);
  }
}

export function createIdentityCertificateExpiryCheck(clock: () => Date = () => new Date()): CheckDefinition {
  return {
    id: 'identity-certificate-expiry',
    needs: ['settings'],
    run: async (ctx) => {
      const { mode, cert } = identityCertificate(ctx.fact('settings'));
      const info: Record<string, unknown> = { provisioning_mode: mode, certificate_info: null };
      if (cert === undefined) return ignored(info);
      let read: Awaited<ReturnType<typeof readCertificateSetting>>;
      try {
        read = await readCertificateSetting(cert.value, cert.setting, ctx.signal);
      } catch (error) {
        const [message, ...causes] = errorChain(error);
        return failed(message, causes, info);
      }
      const first = read.certificates[0];
      info.certificate_info = serializeCertificateInfo(cert.name, read.path, first);
      return identityCertificateResult(cert.name, read.path, first, clock(), info);
    },
  };
}

export const identityCertificateExpiryCheck = createIdentityCertificateExpiryCheck();
