import type { DeployResult } from './agent.js';
import {
  holdsDeployment,
  isNewUpstream,
  upstreamManifest,
  versionsOf,
  type DeploymentOrigin,
  type UpstreamVersions,
} from './deployment-origin.js';

type Desired = Record<string, unknown>;

/**
 * How long the two twins' desired properties must stay unchanged before they are deployed: after a
 * connection both are read at once, and a deployment made of a new one and a stale other is avoided.
 */
const SETTLE_MS = 300;

/** What the agent offers the upstream source. */
export interface UpstreamDeployTarget {
  readonly origin: DeploymentOrigin;
  deploy(document: unknown, source: UpstreamVersions): Promise<DeployResult>;
}

/**
 * The agent's deployments from upstream: the desired properties of this device's `$edgeAgent` and
 * `$edgeHub` twins, as the upstream link hears them (whole on every connection, then as patched),
 * composed into a manifest and deployed when their versions are new (see deployment-origin.ts for
 * the rule between local and upstream deployments). One deployment at a time; a change heard during
 * one is deployed after it.
 */
export class UpstreamDeployments {
  private agentDesired: Desired | undefined;
  private hubDesired: Desired | undefined;
  private lastTried: UpstreamVersions | undefined;
  private queue: Promise<void> = Promise.resolve();
  private toldEmpty = false;
  private settling: NodeJS.Timeout | undefined;

  constructor(
    private readonly agent: UpstreamDeployTarget,
    private readonly log: (line: string) => void,
    /** Called after each upstream deployment was applied or rejected (the reported properties changed). */
    private readonly onDeployed: () => void = () => undefined,
  ) {}

  edgeAgentDesired(desired: Desired): void {
    this.agentDesired = desired;
    this.offerSoon();
  }

  edgeHubDesired(desired: Desired): void {
    this.hubDesired = desired;
    this.offerSoon();
  }

  close(): void {
    clearTimeout(this.settling);
  }

  private offerSoon(): void {
    clearTimeout(this.settling);
    this.settling = setTimeout(() => this.offer(), SETTLE_MS);
    this.settling.unref();
  }

  /** Resolves once the deployments heard so far are done. */
  settled(): Promise<void> {
    return this.queue;
  }

  private offer(): void {
    const agentDesired = this.agentDesired;
    const hubDesired = this.hubDesired;
    if (agentDesired === undefined || hubDesired === undefined) return;
    if (!holdsDeployment(agentDesired)) {
      if (!this.toldEmpty) this.log('agent: upstream holds no deployment for this device yet');
      this.toldEmpty = true;
      return;
    }
    const versions = versionsOf(agentDesired, hubDesired);
    if (!isNewUpstream(versions, this.agent.origin.upstream, this.lastTried)) return;
    this.lastTried = versions;
    const manifest = upstreamManifest(agentDesired, hubDesired);
    this.queue = this.queue.then(async () => {
      try {
        const result = await this.agent.deploy(manifest, versions);
        this.log(
          `agent: upstream deployment (edgeAgent desired version ${versions.edgeAgent}, edgeHub ${versions.edgeHub}) ${result.code === 200 ? 'applied' : `rejected (${result.code})`}`,
        );
      } catch (error) {
        this.log(`agent: upstream deployment failed: ${(error as Error).message}`);
      }
      this.onDeployed();
    });
  }
}
