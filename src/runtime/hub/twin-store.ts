import { JsonFileWriter, readJsonFile } from '../json-file.js';
import {
  applyReportedPatch,
  asTwinDocument,
  emptyTwin,
  replaceDesired,
  type TwinDocument,
} from './twin/twin-document.js';
import type { TwinObject } from './twin/twin-json.js';

export type { TwinDocument };

export type JsonObject = TwinObject;

/**
 * The twins of the identities in the hub's scope, kept by the hub (there is no upstream yet):
 * desired properties from the deployment, reported properties from the clients. Saved to one
 * file (atomically, debounced) so reported properties survive a restart.
 */
export class TwinStore {
  private twins = new Map<string, TwinDocument>();
  private saving: NodeJS.Timeout | undefined;
  private readonly writer?: JsonFileWriter;

  constructor(file?: string) {
    if (file) this.writer = new JsonFileWriter(file);
  }

  async load(): Promise<void> {
    if (!this.writer) return;
    const saved = (await readJsonFile(this.writer.file)) as Record<string, unknown> | undefined;
    this.twins = new Map(
      Object.entries(saved ?? {}).flatMap(([id, value]) => {
        const twin = asTwinDocument(value);
        return twin ? [[id, twin] as const] : [];
      }),
    );
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
    this.writer?.save(Object.fromEntries(this.twins));
  }
}
