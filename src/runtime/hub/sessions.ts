import { JsonFileWriter, readJsonFile } from '../json-file.js';
import type { Subscription } from './connections.js';

/**
 * What clients with a persistent session (MQTT clean session 0) subscribed to, kept across their
 * reconnects and the hub's restarts: the SDK never subscribes again to twin responses or desired
 * updates after a reconnect, so a forgotten session leaves twin requests hanging.
 */
export class SessionStore {
  private sessions = new Map<string, Set<Subscription>>();
  private readonly writer?: JsonFileWriter;

  constructor(file?: string) {
    if (file) this.writer = new JsonFileWriter(file);
  }

  async load(): Promise<void> {
    if (!this.writer) return;
    const saved = (await readJsonFile(this.writer.file)) as Record<string, Subscription[]> | undefined;
    this.sessions = new Map(Object.entries(saved ?? {}).map(([id, kinds]) => [id, new Set(kinds)]));
  }

  /** The session of a connecting client: a clean session starts empty and is not kept. */
  open(clientId: string, clean: boolean): Set<Subscription> {
    if (clean) {
      if (this.sessions.delete(clientId)) this.save();
      return new Set();
    }
    let session = this.sessions.get(clientId);
    if (!session) this.sessions.set(clientId, (session = new Set()));
    return session;
  }

  /** A persistent session changed (its set was modified in place). */
  changed(clientId: string): void {
    if (this.sessions.has(clientId)) this.save();
  }

  flush(): Promise<void> {
    return this.writer?.flush() ?? Promise.resolve();
  }

  private save(): void {
    this.writer?.save(Object.fromEntries([...this.sessions].map(([id, set]) => [id, [...set]])));
  }
}
