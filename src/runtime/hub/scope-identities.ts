import { readJsonFile, writeJsonAtomically } from '../json-file.js';
import type { ScopeIdentityLookup } from './identities.js';
import { LeafDeviceInputError, storedLeafDevice, type LeafDevice } from './leaf-device-spec.js';
import { RefreshThrottle } from './refresh-throttle.js';

export interface ScopeIdentitiesOptions {
  /** `<homedir>/hub/scope-identities.json`, mode 0600 (it holds keys). */
  file: string;
  /** This (child) edge device. */
  deviceId: string;
  /** Asks the parent for the identities in this device's scope. */
  fetch(): Promise<{ devices: LeafDevice[]; skipped: string[] }>;
  /** Between periodic refreshes. */
  periodMs: number;
  /** Least time between two refreshes asked for by unknown clients. */
  minIntervalMs: number;
  log(line: string): void;
  now?: () => number;
}

/**
 * The identities of a child edge device's scope, learnt from its parent and cached durably: the
 * parent is asked at start, every `periodMs`, and when a client no registration knows connects or
 * the parent refuses an identity this device connects on behalf of (both throttled). A device no longer listed, or listed with new credentials, is dropped (or replaced)
 * at the next successful refresh and its connection closed; while the parent cannot be asked the
 * cached identities answer, and the failure is logged once per outage.
 */
export class ScopeIdentities implements ScopeIdentityLookup {
  private devices = new Map<string, LeafDevice>();
  private inFlight: Promise<void> | undefined;
  private readonly throttle: RefreshThrottle;
  private timer: NodeJS.Timeout | undefined;
  /** Whether the last refresh failed (the outage is logged once). */
  private failing = false;
  private stopped = false;
  /** Called with the ids whose connections must end (removed upstream, or new credentials). */
  onChanged: (deviceIds: string[]) => void = () => undefined;

  constructor(private readonly options: ScopeIdentitiesOptions) {
    this.throttle = new RefreshThrottle(options.minIntervalMs);
  }

  get size(): number {
    return this.devices.size;
  }

  get(deviceId: string): LeafDevice | undefined {
    return this.devices.get(deviceId);
  }

  list(): LeafDevice[] {
    return [...this.devices.values()];
  }

  /** Reads the cache file; a missing one is an empty cache, a broken one is logged and ignored. */
  async load(): Promise<void> {
    const { file, deviceId, log } = this.options;
    try {
      const saved = await readJsonFile(file);
      if (saved === undefined) return;
      const entries = (saved as { devices?: unknown } | null)?.devices;
      if (!Array.isArray(entries)) throw new Error(`${file}: expected {"devices": [...]}`);
      const devices = new Map<string, LeafDevice>();
      entries.forEach((entry, index) => {
        try {
          const device = storedLeafDevice(entry, deviceId);
          devices.set(device.deviceId, device);
        } catch (error) {
          if (!(error instanceof LeafDeviceInputError)) throw error;
          throw new Error(`${file}: devices[${index}].${error.message}`);
        }
      });
      this.devices = devices;
    } catch (error) {
      log(`hub: device scope: the cache cannot be read, it starts empty: ${(error as Error).message}`);
    }
  }

  /** Refreshes now, then every `periodMs`. */
  start(): void {
    void this.refresh('at start');
    this.timer = setInterval(() => void this.refresh(), this.options.periodMs);
    this.timer.unref();
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  refreshForUnknown(deviceId: string): Promise<void> {
    return this.refreshThrottled(`for unknown client ${deviceId}`);
  }

  /**
   * The parent refused an identity this device connected on behalf of: it may have been removed
   * there, which a refresh learns (its local connection then ends) well before the periodic one.
   */
  refreshForRefused(identityId: string): Promise<void> {
    return this.refreshThrottled(`the parent refused ${identityId}`);
  }

  /**
   * A refresh asked for by an event, at most one every `minIntervalMs`. Only these count towards
   * the throttle: one at start or a periodic one does not hold back the first unknown client after
   * it (an edge device registered above meanwhile, whose hub asks for its scope or connects at once).
   */
  private refreshThrottled(why: string): Promise<void> {
    if (this.inFlight) return this.inFlight;
    if (!this.throttle.mayStart(this.now())) return Promise.resolve();
    this.throttle.started(this.now());
    return this.refresh(why);
  }

  /** One refresh at a time: a caller during one shares it. Never rejects. */
  refresh(why = 'periodic'): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.inFlight ??= this.refreshNow(why).finally(() => {
      this.inFlight = undefined;
      this.throttle.finished();
    });
    return this.inFlight;
  }

  private now(): number {
    return this.options.now?.() ?? Date.now();
  }

  private async refreshNow(why: string): Promise<void> {
    const { log } = this.options;
    let fetched;
    try {
      fetched = await this.options.fetch();
    } catch (error) {
      if (!this.failing)
        log(
          `hub: device scope: cannot refresh from the parent (${(error as Error).message}); the ${this.devices.size} cached identities answer until it can`,
        );
      this.failing = true;
      return;
    }
    if (this.stopped) return;
    const next = new Map(fetched.devices.map((device) => [device.deviceId, device]));
    const changed = [...this.devices.values()]
      .filter((old) => {
        const now = next.get(old.deviceId);
        return !now || JSON.stringify(now.authentication) !== JSON.stringify(old.authentication);
      })
      .map((device) => device.deviceId);
    const added = [...next.keys()].filter((id) => !this.devices.has(id));
    try {
      if (changed.length > 0 || added.length > 0 || this.failing)
        await writeJsonAtomically(this.options.file, { devices: [...next.values()] });
    } catch (error) {
      log(`hub: device scope: cannot save the cache: ${(error as Error).message}`);
    }
    this.devices = next;
    if (this.failing || changed.length > 0 || added.length > 0) {
      const skipped = fetched.skipped.length > 0 ? `; left out: ${fetched.skipped.join(', ')}` : '';
      log(
        `hub: device scope (${why}): ${next.size} identities from the parent${added.length ? `, new: ${added.join(', ')}` : ''}${changed.length ? `, removed or changed: ${changed.join(', ')}` : ''}${skipped}`,
      );
    }
    this.failing = false;
    if (changed.length > 0) this.onChanged(changed);
  }
}
