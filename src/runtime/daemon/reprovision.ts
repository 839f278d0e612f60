import type { Settings } from '../config/settings.js';
import { ApiError } from './management-types.js';
import type { DpsProvisioner, ProvisioningState } from '../provisioning/provisioner.js';

/** The answer to POST /device/reprovision. */
export interface ReprovisionAnswer {
  deviceId: string;
  iothubHostname: string;
  /** DPS assigned another hub or device id: the daemon restarts under it. */
  changed: boolean;
}

/** Provisioning through DPS as the management API sees it. */
export interface Reprovisioning {
  readonly state: ProvisioningState;
  reprovision(): Promise<ReprovisionAnswer>;
}

/**
 * A running daemon's reprovisioning: one registration at a time; when DPS assigns another hub or
 * device id, `onReassigned` restarts the daemon under it (as IoT Edge restarts after
 * reprovisioning).
 */
export class DpsReprovisioning implements Reprovisioning {
  private running: Promise<ReprovisionAnswer> | undefined;

  constructor(
    private readonly provisioner: DpsProvisioner,
    private readonly onReassigned: () => void,
  ) {}

  get state(): ProvisioningState {
    return this.provisioner.state;
  }

  reprovision(): Promise<ReprovisionAnswer> {
    this.running ??= this.provisioner
      .reprovision()
      .then((result) => {
        if (result.changed) setImmediate(this.onReassigned);
        return {
          deviceId: result.identity.deviceId,
          iothubHostname: result.identity.iothubHostname,
          changed: result.changed,
        };
      })
      .finally(() => (this.running = undefined));
    return this.running;
  }
}

/** POST /device/reprovision: 400 unless the device provisions through DPS; 502 naming why DPS failed. */
export async function reprovisionThrough(
  provisioning: Reprovisioning | undefined,
  settings: Pick<Settings, 'provisioning'>,
): Promise<ReprovisionAnswer> {
  if (!provisioning) {
    throw new ApiError(
      400,
      `reprovisioning needs provisioning.source dps in config.yaml; this device's source is ${settings.provisioning.source}`,
    );
  }
  try {
    return await provisioning.reprovision();
  } catch (error) {
    throw new ApiError(502, (error as Error).message);
  }
}
