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

/** Least time between two registrations that refusals by the upstream ask for. */
const REFUSAL_REPROVISION_INTERVAL_MS = 60_000;

/**
 * config.yaml's `dynamic_reprovisioning`, as IoT Edge 1.1 has it: when the upstream refuses this
 * device's own identity (the device was deleted, disabled or moved to another hub), register with
 * DPS again, at most once a minute; a new assignment restarts the daemon under it, the same one
 * leaves the link retrying with its backoff.
 */
export function reprovisionOnRefusal(
  provisioning: Reprovisioning,
  log: (line: string) => void,
  now: () => number = Date.now,
): (reason: string) => void {
  let last = Number.NEGATIVE_INFINITY;
  return (reason) => {
    if (now() - last < REFUSAL_REPROVISION_INTERVAL_MS) return;
    last = now();
    log(`dynamic reprovisioning: the upstream refused this device (${reason}); registering with DPS again`);
    provisioning.reprovision().then(
      (answer) =>
        log(
          answer.changed
            ? `dynamic reprovisioning: DPS assigned ${answer.deviceId} on ${answer.iothubHostname}; restarting under it`
            : `dynamic reprovisioning: DPS assigned the same hub and device id`,
        ),
      (error: Error) => log(`dynamic reprovisioning: ${error.message}`),
    );
  };
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
