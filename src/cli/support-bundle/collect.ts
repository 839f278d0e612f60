import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { CheckReports } from '../../checks/report.js';
import type { Settings } from '../../runtime/config/settings.js';
import { daemonLogDir } from '../../runtime/daemon/daemon-log.js';
import { decodeFrames } from '../../runtime/daemon/log-frames.js';
import type { ModuleDetails } from '../../runtime/daemon/management-types.js';
import { manualConnectionString } from '../../runtime/identity/device-identity.js';
import { readLogs } from '../../runtime/modules/process/log-reader.js';
import type { LogLine } from '../../runtime/modules/types.js';
import { collectAdditionalInfo } from '../../runtime/system-info.js';
import type { LogsQuery, ManagementClient } from '../management-client.js';
import { DaemonUnreachableError } from '../management-errors.js';
import { Inspector } from './inspector.js';
import { bundledModules, ENTRY, inspectEntry, moduleLogEntry } from './layout.js';
import { connectionStringKey, Redactor, secretValuesIn } from './redaction.js';

/** Where a bundle's entries go: each is redacted before it is handed over. */
export type EntrySink = (name: string, text: string) => Promise<void>;

export interface BundleSources {
  client: ManagementClient;
  /** config.yaml as loaded, or why it could not be. */
  config: { settings: Settings } | { error: string };
  /** Unix seconds. */
  since: number;
  until?: number;
  edgeRuntimeOnly: boolean;
  cliVersion: string;
  /** Runs the checks (in-process) and renders their reports. */
  checks(): Promise<CheckReports>;
  /** A progress line for the operator (stderr, unless quiet). */
  progress(line: string): void;
}

export interface BundleOutcome {
  entries: string[];
  /** What could not be collected: entry or part, and why. */
  problems: string[];
  /** Set when the daemon did not answer: the bundle holds what the CLI collects alone. */
  daemonUnreachable?: string;
}

const LOG_FILES_KEPT = 3;

/** The text of log lines as `iotedge logs -t` prints them. */
async function linesText(lines: AsyncIterable<LogLine>): Promise<string> {
  let text = '';
  for await (const line of lines) text += `${line.time.toISOString()} ${line.text}\n`;
  return text;
}

async function framesText(body: AsyncIterable<Buffer>): Promise<string> {
  const parts: Buffer[] = [];
  for await (const frame of decodeFrames(body)) parts.push(frame.payload);
  return Buffer.concat(parts).toString('utf8');
}

const reason = (error: unknown) => (error instanceof Error ? error.message : String(error));

/** The secrets config.yaml holds: the device key, a DPS symmetric or group key, the agent image's registry password. */
function configSecrets(settings: Settings): string[] {
  const found: string[] = [];
  const { provisioning } = settings;
  const connectionString = manualConnectionString(settings);
  const deviceKey = connectionString === undefined ? undefined : connectionStringKey(connectionString);
  if (deviceKey) found.push(deviceKey);
  if (provisioning.source === 'dps' && provisioning.attestation.method === 'symmetric_key') {
    const { symmetric_key: deviceKey, group_key: groupKey } = provisioning.attestation;
    for (const key of [deviceKey, groupKey]) if (key) found.push(key);
  }
  if (settings.agent.config.auth?.password) found.push(settings.agent.config.auth.password);
  return found;
}

/**
 * Collects a support bundle's entries into `sink`, each redacted. Every part is collected on its
 * own: one that fails is named in errors.txt and the rest goes on. Without the daemon, the bundle
 * holds the check reports, the host's information, the daemon's log read from its files, the
 * version and, when the runtime is Docker and its engine answers, the module containers' inspect
 * data read from the engine.
 */
export async function collectBundle(sources: BundleSources, sink: EntrySink): Promise<BundleOutcome> {
  const { client, progress } = sources;
  const settings = 'settings' in sources.config ? sources.config.settings : undefined;
  const outcome: BundleOutcome = { entries: [], problems: [] };
  if ('error' in sources.config) outcome.problems.push(`config.yaml: ${sources.config.error}`);

  let modules: ModuleDetails[] | undefined;
  try {
    modules = (await client.listModules()).modules;
  } catch (error) {
    if (!(error instanceof DaemonUnreachableError)) throw error;
    outcome.daemonUnreachable = error.message;
    outcome.problems.push(`${error.message}: the daemon's views and the module logs are missing`);
  }

  const secrets = [...secretValuesIn(modules ?? []), ...(settings ? configSecrets(settings) : [])];
  if (settings) {
    // the running deployment names every module env secret and registry password
    const deployment = await readFile(path.join(settings.homedir, 'agent', 'deployment.json'), 'utf8').catch(
      () => undefined,
    );
    if (deployment !== undefined) {
      try {
        secrets.push(...secretValuesIn(JSON.parse(deployment)));
      } catch {
        // a damaged file: the patterns still apply
      }
    }
  }
  const redactor = new Redactor(secrets);

  const put = async (name: string, text: string) => {
    await sink(name, redactor.text(text));
    outcome.entries.push(name);
  };
  const putJson = async (name: string, value: unknown) => {
    await sink(name, redactor.json(value));
    outcome.entries.push(name);
  };
  /** Runs one part; a failure is recorded, never thrown. */
  const part = async (what: string, work: () => Promise<void>) => {
    try {
      await work();
    } catch (error) {
      outcome.problems.push(`${what}: ${reason(error)}`);
    }
  };
  /** inspect/<module>.json, or inspect/<module>_err.json saying why it could not be had. */
  const putInspect = async (name: string, inspect: () => Promise<unknown>) => {
    try {
      await putJson(inspectEntry(name), await inspect());
    } catch (error) {
      outcome.problems.push(`inspect ${name}: ${reason(error)}`);
      await putJson(inspectEntry(name, true), { module: name, error: reason(error) });
    }
  };

  progress('Running the checks');
  await part('check', async () => {
    const reports = await sources.checks();
    await put(ENTRY.checkText, reports.text);
    await put(ENTRY.checkJson, reports.json);
  });

  progress('Collecting system information');
  await part('host information', async () =>
    putJson(ENTRY.host, await collectAdditionalInfo({ iotedged_version: undefined })),
  );

  let daemonVersion: string | undefined;
  if (modules) {
    await putJson(ENTRY.modules, { modules });
    await part('systeminfo', async () => {
      const info = await client.systemInfo();
      daemonVersion = String(info.version);
      await putJson(ENTRY.systemInfo, info);
    });
    await part('system resources', async () =>
      putJson(ENTRY.systemResources, await client.systemResources()),
    );
    progress('Collecting the deployment status');
    await part('deployment status', async () =>
      putJson(ENTRY.agentStatus, await client.deploymentStatusWithSource('$edgeAgent')),
    );
    await part('edgeHub reported properties', async () =>
      putJson(ENTRY.hubReported, await client.deploymentStatus('$edgeHub')),
    );
    await part('hub status', async () => putJson(ENTRY.hubStatus, await client.hubStatus()));
  }
  await putJson(ENTRY.version, {
    iotedge: sources.cliVersion,
    iotedged: daemonVersion ?? null,
    node: process.version,
  });

  const query: LogsQuery = {
    follow: false,
    tail: 'all',
    since: sources.since,
    until: sources.until,
    timestamps: true,
  };
  progress("Collecting the daemon's log");
  await part("the daemon's log", async () => {
    if (modules) return put(ENTRY.daemonLog, await framesText(await client.daemonLogs(query)));
    if (!settings) throw new Error('config.yaml could not be read, so neither could the log files');
    const lines = readLogs({
      dir: daemonLogDir(settings.homedir),
      files: LOG_FILES_KEPT,
      since: sources.since,
      ...(sources.until === undefined ? {} : { until: sources.until }),
    });
    await put(ENTRY.daemonLog, await linesText(lines));
  });

  const inspector = new Inspector(settings);
  if (modules) {
    for (const module of modules.filter((m) => bundledModules([m.name], sources.edgeRuntimeOnly).length)) {
      progress(`Collecting the logs and inspect data of ${module.name}`);
      await part(`logs of ${module.name}`, async () =>
        put(moduleLogEntry(module.name), await framesText(await client.moduleLogs(module.name, query))),
      );
      await putInspect(module.name, () => inspector.inspect(module));
    }
  } else {
    await part('inspect data', async () => {
      // Without the daemon the engine still knows the module containers (Docker being the runtime).
      if (settings && settings.agent.type !== 'docker')
        throw new Error(`missing without the daemon (config.yaml's agent type is ${settings.agent.type})`);
      progress('Collecting the inspect data of the module containers from the container engine');
      const names = bundledModules(await inspector.moduleContainers(), sources.edgeRuntimeOnly);
      for (const name of names)
        await putInspect(name, async () => ({ container: await inspector.container(name) }));
    });
  }

  if (outcome.problems.length > 0) await put(ENTRY.errors, outcome.problems.map((p) => `${p}\n`).join(''));
  return outcome;
}
