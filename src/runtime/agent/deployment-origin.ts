/**
 * Where the running deployment came from, and how an upstream deployment is told apart from one
 * already applied. Pure: no I/O.
 *
 * The rule between the two sources is "newest wins": a local deployment (`iotedge deploy`, or the
 * ConfigSource file) runs until the next change upstream; an upstream deployment is applied when its
 * desired versions differ from those of the last one applied from upstream, so a reconnection that
 * delivers the same desired properties again does not replace a newer local deployment.
 */

/** The desired `$version`s of the `$edgeAgent` and `$edgeHub` twins a deployment was made of. */
export interface UpstreamVersions {
  edgeAgent: number;
  edgeHub: number;
}

/**
 * Where the running deployment came from, and the versions of the last deployment applied from
 * upstream (this one's when it came from upstream; kept while a local deployment runs).
 */
export interface DeploymentOrigin {
  source: 'local' | 'upstream';
  upstream?: UpstreamVersions;
}

export const LOCAL: DeploymentOrigin = { source: 'local' };

/** The origin of a deployment just accepted from `source`, after one of origin `previous`. */
export function nextOrigin(previous: DeploymentOrigin, source: UpstreamVersions | 'local'): DeploymentOrigin {
  if (source !== 'local') return { source: 'upstream', upstream: source };
  return previous.upstream === undefined ? LOCAL : { source: 'local', upstream: previous.upstream };
}

type Desired = Record<string, unknown>;

/** The desired properties without the service's `$`-keys (`$version`, `$metadata`). */
function content(desired: Desired): Desired {
  return Object.fromEntries(Object.entries(desired).filter(([key]) => !key.startsWith('$')));
}

/** Whether `$edgeAgent`'s desired properties hold a deployment at all (a device never deployed to has none). */
export function holdsDeployment(agentDesired: Desired): boolean {
  return Object.keys(content(agentDesired)).length > 0;
}

/**
 * The manifest an upstream deployment makes: `$edgeAgent`'s desired properties (schemaVersion,
 * runtime, systemModules, modules) and `$edgeHub`'s (routes, storeAndForwardConfiguration), in the
 * shape a local deployment has, so both are validated and applied the same way.
 */
export function upstreamManifest(agentDesired: Desired, hubDesired: Desired): Record<string, unknown> {
  return {
    modulesContent: {
      $edgeAgent: { 'properties.desired': content(agentDesired) },
      $edgeHub: { 'properties.desired': content(hubDesired) },
    },
  };
}

/** The versions of an upstream deployment, read from its two twins' desired `$version`. */
export function versionsOf(agentDesired: Desired, hubDesired: Desired): UpstreamVersions {
  const version = (desired: Desired) => (typeof desired.$version === 'number' ? desired.$version : 0);
  return { edgeAgent: version(agentDesired), edgeHub: version(hubDesired) };
}

export const sameVersions = (a: UpstreamVersions | undefined, b: UpstreamVersions): boolean =>
  a !== undefined && a.edgeAgent === b.edgeAgent && a.edgeHub === b.edgeHub;

/**
 * Whether an upstream deployment with `versions` is to be applied: not when it is the one last
 * applied from upstream (kept across restarts) or the one last tried (a rejected one is not tried
 * again until it changes).
 */
export function isNewUpstream(
  versions: UpstreamVersions,
  lastApplied: UpstreamVersions | undefined,
  lastTried: UpstreamVersions | undefined,
): boolean {
  return !sameVersions(lastApplied, versions) && !sameVersions(lastTried, versions);
}

/** A stored deployment: the document, with its origin when it came from upstream. */
export interface StoredDeployment {
  document: unknown;
  origin: DeploymentOrigin;
}

/**
 * What deployment.json holds: the manifest itself on a device that never had an upstream deployment
 * (as it always was); else the manifest wrapped with its origin (`source`, `upstreamVersions`).
 */
export function storedForm(document: unknown, origin: DeploymentOrigin): unknown {
  if (origin.upstream === undefined) return document;
  return { source: origin.source, upstreamVersions: origin.upstream, deployment: document };
}

export function readStored(saved: unknown): StoredDeployment | undefined {
  if (saved === undefined) return undefined;
  if (typeof saved === 'object' && saved !== null && 'upstreamVersions' in saved && 'deployment' in saved) {
    const {
      source,
      upstreamVersions: versions,
      deployment,
    } = saved as {
      source?: unknown;
      upstreamVersions?: Partial<UpstreamVersions>;
      deployment?: unknown;
    };
    if (typeof versions?.edgeAgent === 'number' && typeof versions.edgeHub === 'number')
      return {
        document: deployment,
        origin: {
          source: source === 'upstream' ? 'upstream' : 'local',
          upstream: { edgeAgent: versions.edgeAgent, edgeHub: versions.edgeHub },
        },
      };
  }
  return { document: saved, origin: LOCAL };
}
