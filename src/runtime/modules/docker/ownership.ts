import path from 'node:path';

import { workloadRoot } from '../../workload/socket-layout.js';
import { HOMEDIR_LABEL, OWNER_LABEL } from './labels.js';

/** What ownership is judged by, in both a container listing's summary and an inspect body. */
export interface OwnershipEvidence {
  labels?: Record<string, string> | null;
  /** Host paths of the container's mounts. */
  mountSources?: readonly (string | undefined)[];
}

/** The homedir as containers carry it in their homedir label. */
export const homedirLabelValue = (homedir: string): string => path.resolve(homedir);

/**
 * Whether a container belongs to the daemon with `homedir` (and owner label `owner`): it carries
 * that owner, and that homedir in its homedir label. A container made before the homedir label
 * existed (an upgraded daemon's, still running) is this daemon's when it binds a workload
 * directory under this homedir; one that binds none is no daemon's for sure, and is left alone.
 * Another daemon's containers on the same engine are never listed, stopped or removed.
 */
export function ownedBy(container: OwnershipEvidence, owner: string, homedir: string): boolean {
  const labels = container.labels ?? {};
  if (labels[OWNER_LABEL] !== owner) return false;
  const home = labels[HOMEDIR_LABEL];
  if (home !== undefined) return home === homedirLabelValue(homedir);
  const root = workloadRoot(homedirLabelValue(homedir)) + path.sep;
  return (container.mountSources ?? []).some((source) => source?.startsWith(root) === true);
}

/** The evidence of a listing summary or an inspect body (`Labels` sits under `Config` in the latter). */
export function ownershipEvidence(container: {
  Labels?: Record<string, string> | null;
  Config?: { Labels?: Record<string, string> | null };
  Mounts?: readonly { Source?: string }[] | null;
}): OwnershipEvidence {
  return {
    labels: container.Config?.Labels ?? container.Labels ?? {},
    mountSources: (container.Mounts ?? []).map((mount) => mount.Source),
  };
}
