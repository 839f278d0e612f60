import path from 'node:path';

import { GroupCommit } from '../group-commit.js';
import { readJsonFile as readJson, writeJsonAtomically } from '../json-file.js';
import {
  LOCAL,
  readStored,
  storedForm,
  type DeploymentOrigin,
  type StoredDeployment,
} from './deployment-origin.js';

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
  /** Changes made since the last write that succeeded (a failed write leaves them to the next). */
  private unsaved = false;
  /** One write at a time; changes made while one runs share the write after it. */
  private readonly identityWrites = new GroupCommit(async () => {
    this.unsaved = false;
    try {
      await writeJsonAtomically(this.identitiesFile, Object.fromEntries(await this.loadIdentities()));
    } catch (error) {
      this.unsaved = true;
      throw error;
    }
  });

  constructor(private readonly directory: string) {}

  private get deploymentFile(): string {
    return path.join(this.directory, 'deployment.json');
  }

  private get identitiesFile(): string {
    return path.join(this.directory, 'identities.json');
  }

  async loadDeployment(): Promise<unknown> {
    return (await this.loadStored())?.document;
  }

  /** The last accepted deployment with where it came from (local or upstream, with its versions). */
  async loadStored(): Promise<StoredDeployment | undefined> {
    return readStored(await readJson(this.deploymentFile));
  }

  /** Resolves once the deployment is on disk; a failed write leaves the previous file. */
  saveDeployment(document: unknown, origin: DeploymentOrigin = LOCAL): Promise<void> {
    return writeJsonAtomically(this.deploymentFile, storedForm(document, origin));
  }

  /**
   * The module's generation id, created on first use; resolves once it is saved (an id whose
   * write failed is written again before it is handed out).
   */
  async generationId(module: string, create: () => string): Promise<string> {
    const ids = await this.loadIdentities();
    let id = ids.get(module);
    if (id === undefined) {
      id = create();
      ids.set(module, id);
      this.unsaved = true;
    }
    await this.saved();
    return id;
  }

  /** The module's generation id, if it has one (asked at every authentication: no copy). */
  async lookup(module: string): Promise<string | undefined> {
    return (await this.loadIdentities()).get(module);
  }

  /**
   * Keeps the identities of exactly `modules`: missing ones are created, those of modules no longer
   * deployed are forgotten, in one write whatever the number of modules. Resolves with the names
   * forgotten once the change is saved; rejects when it could not be.
   */
  async retain(modules: readonly string[], create: () => string): Promise<string[]> {
    const ids = await this.loadIdentities();
    const wanted = new Set(modules);
    const forgotten = [...ids.keys()].filter((name) => !wanted.has(name));
    for (const name of forgotten) ids.delete(name);
    for (const name of wanted) {
      if (ids.has(name)) continue;
      ids.set(name, create());
      this.unsaved = true;
    }
    if (forgotten.length > 0) this.unsaved = true;
    await this.saved();
    return forgotten;
  }

  async identities(): Promise<Record<string, string>> {
    return Object.fromEntries(await this.loadIdentities());
  }

  /**
   * Resolves once every id in memory is on disk: waits for the write under way, and writes again
   * what is not saved yet (or what a failed write left); rejects when that write fails.
   */
  private async saved(): Promise<void> {
    if (!this.unsaved) await this.identityWrites.idle();
    if (this.unsaved) await this.identityWrites.run();
  }

  /** Read once: concurrent first callers share one load, so none overwrites another's new id. */
  private loadIdentities(): Promise<Map<string, string>> {
    this.generationIds ??= readJson(this.identitiesFile).then(
      (saved) => new Map(Object.entries((saved as Record<string, string> | undefined) ?? {})),
    );
    return this.generationIds;
  }
}
