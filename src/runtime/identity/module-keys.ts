import { createHmac, randomInt } from 'node:crypto';

import { decodeKey } from './sas.js';

/**
 * Module keys of a device provisioned with a symmetric key, as the 1.1 security daemon derives them
 * (as IoT Edge 1.1 has it): module key = HMAC-SHA256(device key, `<moduleId><keyId><generationId>`).
 * The agent registers the base64 of that key with IoT Hub; the workload API signs with it, so the
 * module never sees a key.
 */

export type ModuleKeyId = 'primary' | 'secondary';

/** The module's key, base64. `deviceKey` is the base64 key of the edge device. */
export function deriveModuleKey(
  deviceKey: string,
  moduleId: string,
  keyId: ModuleKeyId,
  generationId: string,
): string {
  return moduleKeyBytes(deviceKey, moduleId, keyId, generationId).toString('base64');
}

/** The workload API `sign` operation: HMAC-SHA256(module key, data), base64. */
export function workloadSign(
  deviceKey: string,
  moduleId: string,
  keyId: ModuleKeyId,
  generationId: string,
  data: Buffer,
): string {
  const key = moduleKeyBytes(deviceKey, moduleId, keyId, generationId);
  return createHmac('sha256', key).update(data).digest('base64');
}

function moduleKeyBytes(
  deviceKey: string,
  moduleId: string,
  keyId: ModuleKeyId,
  generationId: string,
): Buffer {
  return createHmac('sha256', decodeKey(deviceKey, 'device key'))
    .update(`${moduleId}${keyId}${generationId}`, 'utf8')
    .digest();
}

/** .NET ticks (100 ns since 0001-01-01) at the Unix epoch. */
const EPOCH_TICKS = 621_355_968_000_000_000n;

/**
 * A generation id in IoT Hub's form: decimal .NET ticks of the creation time, e.g. `637155427093658574`.
 * The sub-millisecond digits are random so two identities created in the same millisecond differ.
 */
export function newGenerationId(now: Date, random: (max: number) => number = randomInt): string {
  const ticks = EPOCH_TICKS + BigInt(now.getTime()) * 10_000n + BigInt(random(10_000));
  return ticks.toString();
}

/**
 * The generation id of an embedded Edge Hub's `$edgeHub` module identity. The agent does not deploy
 * that hub, so it has none of its own; with this fixed one a parent edge device derives the same
 * module key from the child's device key that the child signs its upstream tokens with.
 */
export const EMBEDDED_HUB_GENERATION_ID = '1';

/** The `$edgeHub` module key (base64) of an edge device whose device key is `deviceKey`. */
export function edgeHubModuleKey(deviceKey: string, keyId: ModuleKeyId = 'primary'): string {
  return deriveModuleKey(deviceKey, '$edgeHub', keyId, EMBEDDED_HUB_GENERATION_ID);
}
