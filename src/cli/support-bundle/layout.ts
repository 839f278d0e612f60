/**
 * Where each part of a support bundle goes in the zip, as IoT Edge 1.1 lays it out (`check.json`,
 * `logs/<module>_log.txt`, `inspect/<module>.json`, `logs/iotedged.txt`), with this runtime's
 * additions (the check's text, the deployment status, the hub, system information, the version).
 */

export const ENTRY = {
  checkJson: 'check.json',
  checkText: 'check.txt',
  version: 'version.json',
  modules: 'modules.json',
  systemInfo: 'system/systeminfo.json',
  systemResources: 'system/resources.json',
  host: 'system/host.json',
  agentStatus: 'deployment/edgeAgent.json',
  hubReported: 'deployment/edgeHub.json',
  hubStatus: 'hub/status.json',
  daemonLog: 'logs/iotedged.txt',
  /** What could not be collected, and why (only when something could not be). */
  errors: 'errors.txt',
} as const;

/** The embedded modules, which `-e/--include-edge-runtime-only` keeps. */
const EDGE_RUNTIME = new Set(['edgeAgent', 'edgeHub']);

/** A module name as a file name: nothing that could leave its folder. */
const fileName = (name: string) => name.replace(/[/\\\0]/g, '_').replace(/^\.+$/, '_');

export const moduleLogEntry = (module: string) => `logs/${fileName(module)}_log.txt`;

/** `inspect/<module>.json`, or `inspect/<module>_err.json` holding why it could not be inspected. */
export const inspectEntry = (module: string, failed = false) =>
  `inspect/${fileName(module)}${failed ? '_err' : ''}.json`;

/** The modules whose logs and inspect data the bundle holds: all, or edgeAgent and edgeHub only. */
export function bundledModules(names: readonly string[], edgeRuntimeOnly: boolean): string[] {
  return names.filter((name) => !edgeRuntimeOnly || EDGE_RUNTIME.has(name));
}

/**
 * Every entry a bundle holds when everything could be collected: with the daemon answering, its
 * views and the modules' logs and inspect data; without it, what the CLI collects alone (the
 * check, the host's information, the daemon's own log from its files, the version, and the inspect
 * data of the module containers the engine has). `modules`: the daemon's modules, or without it the
 * module containers on the engine.
 */
export function expectedEntries(options: {
  modules: readonly string[];
  edgeRuntimeOnly: boolean;
  daemonReachable: boolean;
}): string[] {
  const always = [ENTRY.checkText, ENTRY.checkJson, ENTRY.version, ENTRY.host, ENTRY.daemonLog];
  const modules = bundledModules(options.modules, options.edgeRuntimeOnly);
  if (!options.daemonReachable)
    return [...always, ENTRY.errors, ...modules.map((name) => inspectEntry(name))].sort();
  return [
    ...always,
    ENTRY.modules,
    ENTRY.systemInfo,
    ENTRY.systemResources,
    ENTRY.agentStatus,
    ENTRY.hubReported,
    ENTRY.hubStatus,
    ...modules.map(moduleLogEntry),
    ...modules.map((name) => inspectEntry(name)),
  ].sort();
}
