import { deriveModuleKey } from '../identity/module-keys.js';
import { verifySasToken, type SasVerification } from '../identity/sas.js';
import type { ClientIdentity } from './connections.js';

export interface IdentityOptions {
  deviceId: string;
  iothubHostname: string;
  /** This device's hostname (config.yaml `hostname`): SAS audiences may name it instead of the hub. */
  edgeHostname: string;
  /** The device's symmetric key (base64) when provisioned with one. */
  deviceKey?: string;
  /** Generation ids of the modules the agent created identities for. */
  generationIds(): Promise<Record<string, string>>;
  now(): Date;
}

export type Authentication = { ok: true; identity: ClientIdentity } | { ok: false; reason: string };

/**
 * The identities the hub knows in its device scope: the edge device and its modules (keys derived
 * from the device key and each module's generation id, as the workload API signs). A module may
 * also present a token signed with the device key, as IoT Edge accepts.
 */
export class IdentityRegistry {
  constructor(private readonly options: IdentityOptions) {}

  get deviceId(): string {
    return this.options.deviceId;
  }

  get iothubHostname(): string {
    return this.options.iothubHostname;
  }

  async authenticateSas(
    deviceId: string,
    moduleId: string | undefined,
    token: string,
  ): Promise<Authentication> {
    const id = moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`;
    const deviceKey = this.options.deviceKey;
    if (deviceId !== this.options.deviceId || !deviceKey)
      return { ok: false, reason: `unknown identity ${id}` };
    const keys: string[] = [];
    if (moduleId !== undefined) {
      const generationId = (await this.options.generationIds())[moduleId];
      if (generationId === undefined) return { ok: false, reason: `unknown module identity ${id}` };
      keys.push(
        deriveModuleKey(deviceKey, moduleId, 'primary', generationId),
        deriveModuleKey(deviceKey, moduleId, 'secondary', generationId),
      );
    }
    keys.push(deviceKey);
    const verification: SasVerification = verifySasToken(token, {
      identity: { deviceId, moduleId },
      keys,
      hostnames: [this.options.iothubHostname, this.options.edgeHostname],
      now: this.options.now(),
    });
    if (!verification.ok) return { ok: false, reason: `${id}: ${verification.reason}` };
    return { ok: true, identity: { id, deviceId, moduleId } };
  }
}
