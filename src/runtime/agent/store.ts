import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new Error(`${file}: ${(error as Error).message}`);
  }
}

/** Written to a temporary file and renamed, so a crash never leaves half a file behind. */
async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const temporary = `${file}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(temporary, JSON.stringify(value, null, 2) + '\n', { mode: 0o600 });
  await rename(temporary, file);
}

/**
 * What the agent keeps across daemon restarts, under <homedir>/agent: the last accepted
 * deployment (it may hold registry credentials, hence mode 0600) and module generation ids.
 */
export class AgentStore {
  private generationIds: Record<string, string> | undefined;
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
    this.generationIds ??=
      ((await readJson(this.identitiesFile)) as Record<string, string> | undefined) ?? {};
    if (!this.generationIds[module]) {
      this.generationIds[module] = create();
      const snapshot = { ...this.generationIds };
      this.identityWrites = this.identityWrites
        .catch(() => undefined)
        .then(() => writeJsonAtomically(this.identitiesFile, snapshot));
      await this.identityWrites;
    }
    return this.generationIds[module];
  }

  async identities(): Promise<Record<string, string>> {
    this.generationIds ??=
      ((await readJson(this.identitiesFile)) as Record<string, string> | undefined) ?? {};
    return { ...this.generationIds };
  }
}
