import { JsonFileWriter, readJsonFile } from '../json-file.js';

export type JsonObject = Record<string, unknown>;

export interface TwinDocument {
  desired: JsonObject & { $version: number };
  reported: JsonObject & { $version: number };
}

const isObject = (value: unknown): value is JsonObject =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** JSON merge patch (RFC 7386): null deletes, objects merge, anything else replaces. */
export function mergePatch(target: JsonObject, patch: JsonObject): JsonObject {
  const result: JsonObject = { ...target };
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$version') continue;
    if (value === null) delete result[key];
    else if (isObject(value)) result[key] = mergePatch(isObject(result[key]) ? result[key] : {}, value);
    else result[key] = value;
  }
  return result;
}

/** The merge patch that turns `from` into `to` (metadata keys starting with `$` ignored). */
export function diffPatch(from: JsonObject, to: JsonObject): JsonObject {
  const patch: JsonObject = {};
  for (const key of Object.keys(from)) if (!key.startsWith('$') && !(key in to)) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    if (key.startsWith('$')) continue;
    const before = from[key];
    if (isObject(value) && isObject(before)) {
      const inner = diffPatch(before, value);
      if (Object.keys(inner).length > 0) patch[key] = inner;
    } else if (JSON.stringify(before) !== JSON.stringify(value)) patch[key] = value;
  }
  return patch;
}

const emptyTwin = (): TwinDocument => ({ desired: { $version: 1 }, reported: { $version: 1 } });

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
    const saved = (await readJsonFile(this.writer.file)) as Record<string, TwinDocument> | undefined;
    this.twins = new Map(Object.entries(saved ?? {}));
  }

  get(id: string): TwinDocument {
    let twin = this.twins.get(id);
    if (!twin) this.twins.set(id, (twin = emptyTwin()));
    return twin;
  }

  /** Replaces desired properties; returns the patch to notify with its version, or undefined if unchanged. */
  setDesired(id: string, desired: JsonObject): { patch: JsonObject; version: number } | undefined {
    const twin = this.get(id);
    const patch = diffPatch(twin.desired, desired);
    if (Object.keys(patch).length === 0) return undefined;
    const version = twin.desired.$version + 1;
    twin.desired = { ...mergePatch(twin.desired, patch), $version: version };
    this.scheduleSave();
    return { patch, version };
  }

  /** Merges a validated reported patch; returns the new reported version. */
  patchReported(id: string, patch: JsonObject): number {
    const twin = this.get(id);
    const version = twin.reported.$version + 1;
    twin.reported = { ...mergePatch(twin.reported, patch), $version: version };
    this.scheduleSave();
    return version;
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
