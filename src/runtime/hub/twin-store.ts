import { JsonFileWriter, readJsonFile } from '../json-file.js';
import {
  applyReportedPatch,
  asTwinDocument,
  emptyTwin,
  replaceDesired,
  withoutMetadata,
  type TwinDocument,
} from './twin/twin-document.js';
import { diffPatch, type TwinObject } from './twin/twin-json.js';

export type { TwinDocument };

export type JsonObject = TwinObject;

/**
 * The twins of the identities in the hub's scope, kept by the hub (there is no upstream yet):
 * desired properties from the deployment, reported properties from the clients, and for each
 * identity the desired properties it was last told about, so that a client that was away hears
 * what it missed. Saved to one file (atomically, debounced) so all of it survives a restart.
 */
export class TwinStore {
  private twins = new Map<string, TwinDocument>();
  private notified = new Map<string, TwinObject & { $version: number }>();
  private saving: NodeJS.Timeout | undefined;
  private readonly writer?: JsonFileWriter;

  constructor(file?: string) {
    if (file) this.writer = new JsonFileWriter(file);
  }

  async load(): Promise<void> {
    if (!this.writer) return;
    const saved = (await readJsonFile(this.writer.file)) as
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
    this.notified.set(id, this.get(id).desired);
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

  /** Merges a validated reported patch; returns the new reported version. */
  patchReported(id: string, patch: JsonObject): number {
    const twin = applyReportedPatch(this.get(id), patch);
    this.twins.set(id, twin);
    this.scheduleSave();
    return twin.reported.$version;
  }

  async flush(): Promise<void> {
    if (this.saving) {
      clearTimeout(this.saving);
      this.saving = undefined;
      this.save();
    }
    await this.writer?.flush();
  }

  private scheduleSave(): void {
    if (!this.writer || this.saving) return;
    this.saving = setTimeout(() => {
      this.saving = undefined;
      this.save();
    }, 200);
  }

  private save(): void {
    this.writer?.save({ twins: Object.fromEntries(this.twins), notified: Object.fromEntries(this.notified) });
  }
}
