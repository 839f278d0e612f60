import type { CheckInfo } from '../checks/catalog.js';
import { packageVersion } from '../version.js';

/** `iotedge version --json`. */
export function versionJson(): { name: 'iotedge'; version: string } {
  return { name: 'iotedge', version: packageVersion() };
}

/** `iotedge check-list --json`: every check in the order `check` runs them, aliases included. */
export function checkListJson(checks: readonly CheckInfo[]): {
  checks: { id: string; category: string; description: string; aliases: string[] }[];
} {
  return {
    checks: checks.map((check) => ({
      id: check.id,
      category: check.category,
      description: check.description,
      aliases: check.aliases ?? [],
    })),
  };
}
