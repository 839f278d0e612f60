import { createHmac } from 'node:crypto';

/**
 * The device key of one registration in a DPS enrollment group with symmetric-key attestation,
 * as DPS documents it: HMAC-SHA256 of the registration id, keyed by the base64-decoded group key,
 * base64-encoded. Pure.
 */
export function deriveDeviceKey(groupKey: string, registrationId: string): string {
  return createHmac('sha256', Buffer.from(groupKey, 'base64'))
    .update(registrationId, 'utf8')
    .digest('base64');
}
