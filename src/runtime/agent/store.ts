import path from 'node:path';

import { readJsonFile as readJson, writeJsonAtomically } from '../json-file.js';

/**
 * What the agent keeps across daemon restarts, under <homedir>/agent: the last accepted
 * deployment (it may hold registry credentials, hence mode 0600) and module generation ids.
 */
export class AgentStore {
  private generationIds: Promise<Record<string, string>> | undefined;
  /** Identity writes in order, so concurrent module creations cannot lose each other's ids. */
  private identityWrites: Promise<void> = Promise.resolve();

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

  /** The module's generation id, created on first use and kept until `forget`. */
  async generationId(module: string, create: () => string): Promise<string> {
    const generationIds = await this.loadIdentities();
    if (!generationIds[module]) {
      generationIds[module] = create();
      const snapshot = { ...generationIds };
      this.identityWrites = this.identityWrites
        .catch(() => undefined)
        .then(() => writeJsonAtomically(this.identitiesFile, snapshot));
      await this.identityWrites;
    }
    return generationIds[module];
  }

  async identities(): Promise<Record<string, string>> {
    return { ...(await this.loadIdentities()) };
  }

  /** Read once: concurrent first callers share one load, so none overwrites another's new id. */
  private loadIdentities(): Promise<Record<string, string>> {
    this.generationIds ??= readJson(this.identitiesFile).then(
      (saved) => (saved as Record<string, string> | undefined) ?? {},
    );
    return this.generationIds;
  }
}
