import { JsonFileWriter, readJsonFile } from '../json-file.js';
import type { Subscription } from './connections.js';

/** After a failed save that no change repeats, how long until it is tried again. */
const RETRY_MS = 5_000;

/**
 * What clients with a persistent session (MQTT clean session 0) subscribed to, kept across their
 * reconnects and the hub's restarts: the SDK never subscribes again to twin responses or desired
 * updates after a reconnect, so a forgotten session leaves twin requests hanging. A change
 * resolves once it is on disk and rejects when the write failed (the caller refuses what it was
 * asked); a failed write is logged once and tried again later.
 */
export class SessionStore {
  private sessions = new Map<string, Set<Subscription>>();
  private readonly writer?: JsonFileWriter;

  constructor(file?: string, log: (line: string) => void = () => undefined) {
    if (!file) return;
    this.writer = new JsonFileWriter(
      file,
      () => Object.fromEntries([...this.sessions].map(([id, set]) => [id, [...set]])),
      {
        retryMs: RETRY_MS,
        onError: (error) => log(`hub: sessions not saved: ${error.message}`),
        onRecovered: (failures) => log(`hub: sessions saved again after ${failures} failed writes`),
      },
    );
  }

  async load(): Promise<void> {
    if (!this.writer) return;
    const saved = (await readJsonFile(this.writer.file)) as Record<string, Subscription[]> | undefined;
    this.sessions = new Map(Object.entries(saved ?? {}).map(([id, kinds]) => [id, new Set(kinds)]));
  }

  /**
   * The session of a connecting client: a clean session starts empty and is not kept (a session
   * it replaces is forgotten; should that fail to reach the disk, the next clean connect or
   * change forgets it again).
   */
  open(clientId: string, clean: boolean): Set<Subscription> {
    if (clean) {
      if (this.sessions.delete(clientId)) void this.save().catch(() => undefined);
      return new Set();
    }
    let session = this.sessions.get(clientId);
    if (!session) this.sessions.set(clientId, (session = new Set()));
    return session;
  }

  /** A session changed (its set was modified in place): resolves once a persistent one is saved. */
  changed(clientId: string): Promise<void> {
    return this.sessions.has(clientId) ? this.save() : Promise.resolve();
  }

  /** Resolves once every change has been tried on disk; never rejects (failures are logged). */
  flush(): Promise<void> {
    return this.writer?.flush() ?? Promise.resolve();
  }

  private save(): Promise<void> {
    return this.writer?.save() ?? Promise.resolve();
  }
}
