import { setTimeout as sleep } from 'node:timers/promises';

import type { DpsProvisioning } from '../config/settings.js';
import { reconnectDelayMs, type BackoffOptions } from '../hub/upstream/backoff.js';
import type { DeviceIdentity } from '../identity/device-identity.js';
import {
  backupFile,
  readProvisioningBackup,
  writeProvisioningBackup,
  type ProvisioningBackup,
} from './backup.js';
import { dpsCredentials } from './dps-credentials.js';
import { dpsEndpoint } from './dps-endpoint.js';
import { describeDpsFailure } from './dps-errors.js';
import { registerWithDps, type DpsAssignment, type DpsRegistration } from './dps-register.js';

/** What `iotedge system status` shows of provisioning. */
export type ProvisioningState =
  | { status: 'provisioning'; attempts: number; lastError?: string; nextAttemptAt?: string }
  | {
      status: 'provisioned';
      source: 'dps' | 'cache';
      deviceId: string;
      iothubHostname: string;
      lastError?: string;
    };

export interface ProvisionerOptions {
  provisioning: DpsProvisioning;
  homedir: string;
  /** CAs (PEM) trusted besides the OS's: certificates.trusted_ca_certs. */
  trustedCaPem?: string;
  log(line: string): void;
  backoff?: BackoffOptions;
  /** One registration; the SDK's by default (tests of the policy give their own). */
  register?: (registration: DpsRegistration) => Promise<DpsAssignment>;
}

/** The identity DPS (or the cache of its last answer) gave, and whether it differs from the cached one. */
export interface Provisioned {
  identity: DeviceIdentity;
  source: 'dps' | 'cache';
  /** The assignment differs from the one cached before (a new hub or device id). */
  changed: boolean;
  previous?: ProvisioningBackup;
}

export const DPS_BACKOFF: BackoffOptions = { initialMs: 1_000, maxMs: 60_000 };

/**
 * Provisioning through DPS as IoT Edge 1.1 does it: at start, register (or, with
 * `always_reprovision_on_startup: false`, take the cached assignment when there is one); a failed
 * registration falls back to the cached assignment; without one, keep trying with backoff. Every
 * successful registration is cached under the homedir.
 */
export class DpsProvisioner {
  private current: ProvisioningState = { status: 'provisioning', attempts: 0 };
  private readonly file: string;

  constructor(private readonly options: ProvisionerOptions) {
    this.file = backupFile(options.homedir);
  }

  get state(): ProvisioningState {
    return this.current;
  }

  /** The startup decision; undefined when the device has no assignment yet (use untilProvisioned). */
  async startup(): Promise<Provisioned | undefined> {
    const previous = await this.cached();
    if (previous && !this.options.provisioning.always_reprovision_on_startup) {
      this.options.log(
        `provisioning: using the cached assignment (device ${previous.deviceId} on ${previous.hubName}); always_reprovision_on_startup is false`,
      );
      return this.fromCache(previous);
    }
    try {
      return await this.register(previous);
    } catch (error) {
      if (!previous) {
        this.failed(error as Error);
        return undefined;
      }
      this.options.log(
        `provisioning: ${(error as Error).message}; running with the cached assignment (device ${previous.deviceId} on ${previous.hubName})`,
      );
      return this.fromCache(previous, (error as Error).message);
    }
  }

  /**
   * After a failed startup: registers again until it succeeds or `signal` aborts (then rejects),
   * waiting longer after each failure.
   */
  async untilProvisioned(signal: AbortSignal): Promise<Provisioned> {
    for (;;) {
      await sleep(this.nextDelayMs, undefined, { signal });
      try {
        return await this.register(await this.cached());
      } catch (error) {
        this.failed(error as Error);
      }
    }
  }

  private failures = 0;
  private nextDelayMs = 0;

  /** Records a failed attempt and when the next one is due. */
  private failed(error: Error): void {
    this.nextDelayMs = reconnectDelayMs(this.failures, Math.random, this.options.backoff ?? DPS_BACKOFF);
    this.failures += 1;
    this.current = {
      status: 'provisioning',
      attempts: this.failures,
      lastError: error.message,
      nextAttemptAt: new Date(Date.now() + this.nextDelayMs).toISOString(),
    };
    this.options.log(
      `provisioning: ${error.message}; trying again in ${Math.round(this.nextDelayMs / 1000)} s`,
    );
  }

  /** One registration now (`iotedge system reprovision`); rejects with the reason it failed. */
  async reprovision(): Promise<Provisioned> {
    return this.register(await this.cached());
  }

  private async register(previous: ProvisioningBackup | undefined): Promise<Provisioned> {
    const { provisioning } = this.options;
    const endpoint = dpsEndpoint(provisioning.global_endpoint);
    const { registrationId, credentials } = await dpsCredentials(provisioning.attestation);
    const registration: DpsRegistration = {
      endpoint,
      scopeId: provisioning.scope_id,
      registrationId,
      credentials,
      transport: provisioning.transport ?? 'http',
      ...(this.options.trustedCaPem === undefined ? {} : { trustedCaPem: this.options.trustedCaPem }),
    };
    let assignment: DpsAssignment;
    try {
      assignment = await (this.options.register ?? registerWithDps)(registration);
    } catch (error) {
      const failure = describeDpsFailure(error, { endpoint, scopeId: provisioning.scope_id, registrationId });
      throw new Error(failure.message, { cause: error });
    }
    const backup: ProvisioningBackup = {
      hubName: assignment.assignedHub,
      deviceId: assignment.deviceId,
      registrationId,
    };
    await writeProvisioningBackup(this.file, backup);
    const changed =
      previous !== undefined &&
      (previous.hubName !== backup.hubName || previous.deviceId !== backup.deviceId);
    this.options.log(
      `provisioning: DPS assigned device ${backup.deviceId} on ${backup.hubName}${changed ? ` (was device ${previous.deviceId} on ${previous.hubName})` : ''}`,
    );
    this.current = {
      status: 'provisioned',
      source: 'dps',
      deviceId: backup.deviceId,
      iothubHostname: backup.hubName,
    };
    return {
      identity: this.identityOf(backup, credentials.kind === 'symmetric_key' ? credentials.key : undefined),
      source: 'dps',
      changed,
      ...(previous ? { previous } : {}),
    };
  }

  private async fromCache(backup: ProvisioningBackup, lastError?: string): Promise<Provisioned> {
    const { credentials } = await dpsCredentials(this.options.provisioning.attestation);
    this.current = {
      status: 'provisioned',
      source: 'cache',
      deviceId: backup.deviceId,
      iothubHostname: backup.hubName,
      ...(lastError === undefined ? {} : { lastError }),
    };
    return {
      identity: this.identityOf(backup, credentials.kind === 'symmetric_key' ? credentials.key : undefined),
      source: 'cache',
      changed: false,
    };
  }

  private identityOf(backup: ProvisioningBackup, deviceKey: string | undefined): DeviceIdentity {
    return {
      deviceId: backup.deviceId,
      iothubHostname: backup.hubName,
      ...(deviceKey === undefined ? {} : { deviceKey }),
    };
  }

  /** The cached assignment; a missing file is none, a damaged one is logged and ignored. */
  private async cached(): Promise<ProvisioningBackup | undefined> {
    try {
      return await readProvisioningBackup(this.file);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') {
        this.options.log(`provisioning: ignoring the cached assignment: ${(error as Error).message}`);
      }
      return undefined;
    }
  }
}
