import { readJsonFile, writeJsonAtomically } from '../json-file.js';
import type { ScopeDevices } from './auth-chain.js';
import {
  LeafDeviceInputError,
  parseNewLeafDevice,
  storedLeafDevice,
  type LeafDevice,
} from './leaf-device-spec.js';
import { Serial } from '../serial.js';

export type { LeafDevice } from './leaf-device-spec.js';

/** What authentication needs of the registry. */
export interface LeafDeviceLookup {
  get(deviceId: string): LeafDevice | undefined;
}

/** The registered devices as the on-behalf-of scope decision sees them. */
export function scopeDevices(lookup: LeafDeviceLookup | undefined): ScopeDevices {
  return {
    parentOf: (deviceId) => lookup?.get(deviceId)?.parentId,
    isEdge: (deviceId) => lookup?.get(deviceId)?.edge === true,
  };
}

/** POST /devices for an id that is already registered. */
export class LeafDeviceExistsError extends Error {
  constructor(readonly deviceId: string) {
    super(`device ${deviceId} already exists`);
  }
}

/**
 * The leaf (downstream) devices registered with this gateway, kept in `<homedir>/hub/devices.json`
 * (mode 0600: it holds their keys). The daemon owns the file: every change goes through here and
 * is on disk before it resolves; `reload()` reads the file again (after an edit by hand).
 */
export class LeafDeviceRegistry implements LeafDeviceLookup {
  private devices = new Map<string, LeafDevice>();
  /** Changes one at a time, each written before the next starts. */
  private readonly serial = new Serial();

  constructor(
    readonly file: string,
    private readonly edgeDeviceId: string,
    private readonly now: () => Date = () => new Date(),
  ) {}

  /**
   * Reads the file (again). Resolves to the ids that went away or whose credentials changed, so
   * that their connections can be closed; a broken file leaves the registry as it was.
   */
  reload(): Promise<string[]> {
    return this.serial.run(async () => {
      const loaded = await this.read();
      const changed = [...this.devices.values()]
        .filter((old) => {
          const now = loaded.get(old.deviceId);
          return !now || JSON.stringify(now.authentication) !== JSON.stringify(old.authentication);
        })
        .map((device) => device.deviceId);
      this.devices = loaded;
      return changed;
    });
  }

  get(deviceId: string): LeafDevice | undefined {
    return this.devices.get(deviceId);
  }

  /** Every device, by id. */
  list(): LeafDevice[] {
    return [...this.devices.values()].sort((a, b) =>
      a.deviceId < b.deviceId ? -1 : a.deviceId > b.deviceId ? 1 : 0,
    );
  }

  /**
   * Registers a device from a POST /devices body (see parseNewLeafDevice). Throws
   * LeafDeviceInputError for bad input, LeafDeviceExistsError when the id is taken.
   */
  add(request: unknown): Promise<LeafDevice> {
    return this.serial.run(async () => {
      const device = parseNewLeafDevice(request, this.edgeDeviceId, this.now());
      if (this.devices.has(device.deviceId)) throw new LeafDeviceExistsError(device.deviceId);
      if (device.parentId !== undefined && !this.devices.get(device.parentId)?.edge) {
        throw new LeafDeviceInputError(
          'parentId',
          `${device.parentId} is not an edge device registered here`,
        );
      }
      await this.save(new Map(this.devices).set(device.deviceId, device));
      return device;
    });
  }

  /** Unregisters a device; resolves to it, or to undefined when there was none. */
  remove(deviceId: string): Promise<LeafDevice | undefined> {
    return this.serial.run(async () => {
      const device = this.devices.get(deviceId);
      if (!device) return undefined;
      const next = new Map(this.devices);
      next.delete(deviceId);
      await this.save(next);
      return device;
    });
  }

  /** Writes `next`, then makes it current: a failed write changes nothing. */
  private async save(next: Map<string, LeafDevice>): Promise<void> {
    const devices = [...next.values()];
    await writeJsonAtomically(this.file, { devices });
    this.devices = next;
  }

  private async read(): Promise<Map<string, LeafDevice>> {
    const saved = await readJsonFile(this.file);
    const devices = new Map<string, LeafDevice>();
    if (saved === undefined) return devices;
    const entries = (saved as { devices?: unknown } | null)?.devices;
    if (!Array.isArray(entries)) throw new Error(`${this.file}: expected {"devices": [...]}`);
    entries.forEach((entry, index) => {
      let device: LeafDevice;
      try {
        device = storedLeafDevice(entry, this.edgeDeviceId);
      } catch (error) {
        if (!(error instanceof LeafDeviceInputError)) throw error;
        throw new Error(`${this.file}: devices[${index}].${error.message}`);
      }
      if (devices.has(device.deviceId)) {
        throw new Error(`${this.file}: devices[${index}]: device ${device.deviceId} is listed twice`);
      }
      devices.set(device.deviceId, device);
    });
    return devices;
  }
}
