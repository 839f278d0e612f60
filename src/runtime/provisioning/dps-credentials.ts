import { X509Certificate } from 'node:crypto';

import { filePathFromSetting } from '../config/file-uri.js';
import type { DpsAttestation } from '../config/settings.js';
import { readSettingFile } from '../identity/certificates/pem.js';
import type { DpsCredentials } from './dps-register.js';
import { deriveDeviceKey } from './group-key.js';

/** Why the daemon cannot provision with this attestation at all (as opposed to a failed attempt). */
export class AttestationUnsupported extends Error {}

export const TPM_UNSUPPORTED =
  'provisioning.attestation.method tpm is not supported by this daemon: it has no TPM library ' +
  "(the SDK's TPM security client needs tss.js and a TPM or TPM simulator). " +
  'Enroll the device with symmetric_key or x509 attestation instead.';

/** The registration id and what proves it, read from config.yaml and the files it names. */
export async function dpsCredentials(
  attestation: DpsAttestation,
): Promise<{ registrationId: string; credentials: DpsCredentials }> {
  switch (attestation.method) {
    case 'tpm':
      throw new AttestationUnsupported(TPM_UNSUPPORTED);
    case 'symmetric_key': {
      const registrationId = attestation.registration_id;
      const key =
        attestation.group_key === undefined
          ? attestation.symmetric_key
          : deriveDeviceKey(attestation.group_key, registrationId);
      return { registrationId, credentials: { kind: 'symmetric_key', key } };
    }
    case 'x509': {
      const certSetting = 'provisioning.attestation.identity_cert';
      const keySetting = 'provisioning.attestation.identity_pk';
      const [cert, key] = await Promise.all([
        readSettingFile(filePathFromSetting(attestation.identity_cert, certSetting), certSetting),
        readSettingFile(filePathFromSetting(attestation.identity_pk, keySetting), keySetting),
      ]);
      return {
        registrationId: attestation.registration_id ?? commonNameOf(cert, certSetting),
        credentials: { kind: 'x509', cert, key },
      };
    }
  }
}

/** Without a registration_id, X.509 attestation registers as the certificate's common name (as IoT Edge does). */
function commonNameOf(pem: string, setting: string): string {
  let subject: string;
  try {
    subject = new X509Certificate(pem).subject;
  } catch (error) {
    throw new AttestationUnsupported(`${setting}: not a PEM certificate (${(error as Error).message})`);
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(subject)?.[1];
  if (!cn)
    throw new AttestationUnsupported(
      `${setting}: the certificate has no common name; set provisioning.attestation.registration_id`,
    );
  return cn;
}
