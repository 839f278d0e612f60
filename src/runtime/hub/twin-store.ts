import { writeJsonAtomically, readJsonFile } from '../json-file.js';
import { GroupCommit } from '../group-commit.js';
import {
  applyReportedPatch,
  asTwinDocument,
  emptyTwin,
  replaceDesired,
  withoutMetadata,
  type TwinDocument,
} from './twin/twin-document.js';
import { diffPatch, type TwinObject } from './twin/twin-json.js';
import { twinSectionSizeError, type TwinPatchError } from './twin/reported-validation.js';

export type { TwinDocument };

export type JsonObject = TwinObject;

/** A reported patch waiting for the write that makes it durable. */
interface PendingPatch {
  id: string;
  patch: JsonObject;
  /** The reported version it made, once applied. */
  version?: number;
  /** Why it was not applied: it would make the reported properties too large. */
  refused?: TwinPatchError;
}

/** After a failed save that no change repeats, how long until it is tried again. */
const RETRY_MS = 5_000;
/** Changes nobody waits for (desired properties, what clients were told) are saved together, this late. */
const DEBOUNCE_MS = 200;

/**
 * The twins of the identities in the hub's scope, kept by the hub (there is no upstream yet):
 * desired properties from the deployment, reported properties from the clients, and for each
 * identity the desired properties it was last told about, so that a client that was away hears
 * what it missed. Saved to one file, atomically, so all of it survives a restart.
 *
 * A reported patch is acknowledged only once it is on disk: patchReported resolves after the
 * write that carries it, and a failed write (a full disk) rejects it and leaves the twin as it
 * was (the patch is not applied). Patches arriving during a write share the next one. Desired
 * properties and what clients were told are not acknowledged to anyone: they are saved a little
 * later, many changes in one write, and a failed write of them is logged and tried again.
 */
export class TwinStore {
  private twins = new Map<string, TwinDocument>();
  private notified = new Map<string, TwinObject & { $version: number }>();
  private pending: PendingPatch[] = [];
  private readonly commits: GroupCommit;
  private saving: NodeJS.Timeout | undefined;

  constructor(
    private readonly file?: string,
    log: (line: string) => void = () => undefined,
  ) {
    this.commits = new GroupCommit(() => this.commit(), {
      retryMs: RETRY_MS,
      onError: (error) => log(`hub: twins not saved: ${error.message}; reported patches fail until they are`),
      onRecovered: (failures) => log(`hub: twins saved again after ${failures} failed writes`),
    });
  }

  async load(): Promise<void> {
    if (!this.file) return;
    const saved = (await readJsonFile(this.file)) as
      | { twins?: Record<string, unknown>; notified?: Record<string, TwinObject & { $version: number }> }
      | undefined;
    this.twins = new Map(
      Object.entries(saved?.twins ?? {}).flatMap(([id, value]) => {
        const twin = asTwinDocument(value);
        return twin ? [[id, twin] as const] : [];
      }),
    );
    this.notified = new Map(Object.entries(saved?.notified ?? {}));
  }

  /**
   * What `id` has not been told about its desired properties yet (a patch with nulls for removed
   * properties, and the version), or undefined when it is up to date; marks it told.
   */
  desiredToNotify(id: string): { patch: JsonObject; version: number } | undefined {
    const desired = this.get(id).desired;
    const last = this.notified.get(id);
    if (last?.$version === desired.$version) return undefined;
    this.notified.set(id, desired);
    this.scheduleSave();
    const patch = diffPatch(withoutMetadata(last ?? {}), withoutMetadata(desired));
    return Object.keys(patch).length === 0 ? undefined : { patch, version: desired.$version };
  }

  /** A client just read its whole twin: it knows the current desired properties. */
  markNotified(id: string): void {
    const desired = this.get(id).desired;
    if (this.notified.get(id)?.$version === desired.$version) return;
    this.notified.set(id, desired);
    this.scheduleSave();
  }

  get(id: string): TwinDocument {
    let twin = this.twins.get(id);
    if (!twin) this.twins.set(id, (twin = emptyTwin()));
    return twin;
  }

  /** Replaces desired properties; returns the patch to notify with its version, or undefined if unchanged. */
  setDesired(id: string, desired: JsonObject): { patch: JsonObject; version: number } | undefined {
    const replaced = replaceDesired(this.get(id), desired);
    if (!replaced.patch) return undefined;
    this.twins.set(id, replaced.twin);
    this.scheduleSave();
    const { $version, ...patch } = replaced.patch;
    return { patch, version: $version };
  }

  /**
   * A deployment for another edge device (a child): `{deviceId}/{name}` gets `desired[name]`
   * wholesale, and every other twin under `{deviceId}/` that has desired properties gets them
   * cleared (its module left the deployment). Returns the ids whose desired properties changed.
   */
  replaceDeviceDesired(deviceId: string, desired: Record<string, JsonObject>): string[] {
    const prefix = `${deviceId}/`;
    const next = new Map(Object.entries(desired).map(([name, properties]) => [prefix + name, properties]));
    for (const [id, twin] of this.twins) {
      if (id.startsWith(prefix) && !next.has(id) && Object.keys(withoutMetadata(twin.desired)).length > 0)
        next.set(id, {});
    }
    return [...next].flatMap(([id, properties]) => (this.setDesired(id, properties) ? [id] : []));
  }

  /** Drops the twin of a device and those of its modules (`{deviceId}/…`): it was unregistered. */
  removeDevice(deviceId: string): void {
    const prefix = `${deviceId}/`;
    for (const id of [...this.twins.keys(), ...this.notified.keys()]) {
      if (id !== deviceId && !id.startsWith(prefix)) continue;
      this.twins.delete(id);
      this.notified.delete(id);
    }
    this.scheduleSave();
  }

  /** Resolves once every change so far is on disk; rejects with the error of a failed write. */
  save(): Promise<void> {
    return this.commits.run();
  }

  /**
   * Merges a validated reported patch; resolves with the new reported version once it is saved,
   * rejects (the twin unchanged) when the write failed, or with a TwinPatchError when the reported
   * properties would grow past IoT Hub's size limit.
   */
  async patchReported(id: string, patch: JsonObject): Promise<number> {
    const pending: PendingPatch = { id, patch };
    this.pending.push(pending);
    await this.commits.run();
    if (pending.refused) throw pending.refused;
    return pending.version!;
  }

  /** Resolves once every change so far has been tried on disk; never rejects (failures are logged). */
  async flush(): Promise<void> {
    if (this.saving) void this.commits.run().catch(() => undefined);
    await this.commits.flush();
  }

  private scheduleSave(): void {
    if (!this.file || this.saving) return;
    this.saving = setTimeout(() => void this.commits.run().catch(() => undefined), DEBOUNCE_MS);
  }

  /**
   * One write: the reported patches waiting so far applied over the current twins, saved, and
   * only then made current. The desired side is taken as it is when the write ends, so a
   * deployment applied meanwhile is not undone.
   */
  private async commit(): Promise<void> {
    // this write carries every change made so far
    clearTimeout(this.saving);
    this.saving = undefined;
    const batch = this.pending;
    this.pending = [];
    const reported = new Map<string, TwinDocument>();
    for (const entry of batch) {
      const twin = applyReportedPatch(reported.get(entry.id) ?? this.get(entry.id), entry.patch);
      entry.refused = twinSectionSizeError('reported', twin.reported);
      if (entry.refused) continue;
      reported.set(entry.id, twin);
      entry.version = twin.reported.$version;
    }
    if (this.file) {
      const twins = Object.fromEntries(this.twins);
      for (const [id, twin] of reported)
        twins[id] = { desired: this.get(id).desired, reported: twin.reported };
      await writeJsonAtomically(this.file, { twins, notified: Object.fromEntries(this.notified) });
    }
    for (const [id, twin] of reported)
      this.twins.set(id, { desired: this.get(id).desired, reported: twin.reported });
  }
}
