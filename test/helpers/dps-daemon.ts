import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { TestDaemon } from './daemon.js';
import type { LocalDps } from './dps-server.js';

export interface DpsDaemonOptions {
  /** `provisioning.attestation` lines, indented by four spaces. */
  attestation: string[];
  /** The DPS endpoint's port (the local DPS's by default: a closed one for an unreachable DPS). */
  port?: number;
  transport?: 'http' | 'mqtt';
  alwaysReprovisionOnStartup?: boolean;
  dynamicReprovisioning?: boolean;
  scopeId?: string;
  /** PEM certificates the daemon trusts (certificates.trusted_ca_certs): the local DPS's CA at least. */
  trustedCas: string[];
  /** More top-level config.yaml lines. */
  extraYaml?: string[];
  hostname?: string;
}

/** A daemon (not started) that provisions through the local DPS, with a short retry backoff. */
export function dpsDaemon(dps: LocalDps, options: DpsDaemonOptions): TestDaemon {
  const daemon = new TestDaemon({}, options.extraYaml ?? [], options.hostname ?? 'localhost');
  const trusted = path.join(daemon.dir, 'trusted-cas.pem');
  writeFileSync(trusted, options.trustedCas.join(''));
  const provisioning = [
    'provisioning:',
    '  source: dps',
    `  global_endpoint: https://localhost:${options.port ?? dps.port}`,
    `  scope_id: ${options.scopeId ?? dps.scopeId}`,
    ...(options.transport ? [`  transport: ${options.transport}`] : []),
    ...(options.alwaysReprovisionOnStartup === false ? ['  always_reprovision_on_startup: false'] : []),
    ...(options.dynamicReprovisioning ? ['  dynamic_reprovisioning: true'] : []),
    '  attestation:',
    ...options.attestation,
    '',
  ].join('\n');
  const text = readFileSync(daemon.configFile, 'utf8').replace(
    /^provisioning:\n {2}source: manual\n {2}device_connection_string: ".*"\n/,
    provisioning,
  );
  writeFileSync(daemon.configFile, `${text}\ncertificates:\n  trusted_ca_certs: ${trusted}\n`);
  daemon.env.IOTEDGE_DPS_BACKOFF_MAX_SECS = '1';
  // the management API comes up after the registration, on a machine that may be busy
  daemon.startTimeoutMs = 60_000;
  return daemon;
}

/** `iotedge system status --json`'s provisioning state. */
export function provisioningState(daemon: TestDaemon): Record<string, unknown> | undefined {
  const run = daemon.cli(['system', 'status', '--json']);
  if (run.code !== 0) throw new Error(`system status failed: ${run.stderr}`);
  return (JSON.parse(run.stdout) as { provisioning?: Record<string, unknown> }).provisioning;
}
