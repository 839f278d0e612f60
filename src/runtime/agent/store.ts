import path from 'node:path';

import { readJsonFile as readJson, writeJsonAtomically } from '../json-file.js';

/**
 * What the agent keeps across daemon restarts, under <homedir>/agent: the last accepted
 * deployment (it may hold registry credentials, hence mode 0600) and module generation ids.
 *
 * A generation id is a module's identity: its keys derive from it. A module that leaves the
 * deployment loses its id at once (its credentials stop working); deployed again, it gets a new one,
 * as IoT Hub gives a recreated module identity a new generation id.
 */
export class AgentStore {
  private generationIds: Promise<Map<string, string>> | undefined;
  /** The write in progress, and the one queued behind it that will carry every change made meanwhile. */
  private writing: Promise<void> = Promise.resolve();
  private queued: Promise<void> | undefined;

  constructor(private readonly directory: string) {}

  private get deploymentFile(): string {
    return path.join(this.directory, 'deployment.json');
  }

  private get identitiesFile(): string {
    return path.join(this.directory, 'identities.json');
  }

  loadDeployment(): Promise<unknown> {
    return readJson(this.deploymentFile);
  }

  saveDeployment(document: unknown): Promise<void> {
    return writeJsonAtomically(this.deploymentFile, document);
  }

  /** The module's generation id, created on first use; resolves once it is saved. */
  async generationId(module: string, create: () => string): Promise<string> {
    const ids = await this.loadIdentities();
    let id = ids.get(module);
    if (id === undefined) {
      id = create();
      ids.set(module, id);
      await this.saveIdentities();
    }
    return id;
  }

  /** The module's generation id, if it has one (asked at every authentication: no copy). */
  async lookup(module: string): Promise<string | undefined> {
    return (await this.loadIdentities()).get(module);
  }

  /**
   * Keeps the identities of exactly `modules`: missing ones are created, those of modules no longer
   * deployed are forgotten, in one write whatever the number of modules. Resolves with the names
   * forgotten once the change is saved.
   */
  async retain(modules: readonly string[], create: () => string): Promise<string[]> {
    const ids = await this.loadIdentities();
    const wanted = new Set(modules);
    const forgotten = [...ids.keys()].filter((name) => !wanted.has(name));
    for (const name of forgotten) ids.delete(name);
    let created = false;
    for (const name of wanted) {
      if (ids.has(name)) continue;
      ids.set(name, create());
      created = true;
    }
    if (created || forgotten.length > 0) await this.saveIdentities();
    return forgotten;
  }

  async identities(): Promise<Record<string, string>> {
    return Object.fromEntries(await this.loadIdentities());
  }

  /** Read once: concurrent first callers share one load, so none overwrites another's new id. */
  private loadIdentities(): Promise<Map<string, string>> {
    this.generationIds ??= readJson(this.identitiesFile).then(
      (saved) => new Map(Object.entries((saved as Record<string, string> | undefined) ?? {})),
    );
    return this.generationIds;
  }

  /**
   * Saves the ids as they are when the write starts. Changes made while a write runs share the one
   * queued behind it, so n changes at once cost two writes, not n (each of n entries).
   */
  private saveIdentities(): Promise<void> {
    if (this.queued) return this.queued;
    const queued = this.writing
      .catch(() => undefined)
      .then(async () => {
        this.queued = undefined;
        await writeJsonAtomically(this.identitiesFile, Object.fromEntries(await this.loadIdentities()));
      });
    this.queued = queued;
    this.writing = queued;
    return queued;
  }
}
