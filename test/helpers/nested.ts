import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

import { TestDaemon, hubPorts, manifest } from './daemon.js';

/** The parent's quickstart root CA, which a child trusts through `trusted_ca_certs`. */
export function rootCaOf(daemon: TestDaemon): string {
  return path.join(daemon.homedir, 'hsm/certs/edge_owner_ca.cert.pem');
}

/**
 * A child edge device of `parent` (not started): `parent_hostname` on the parent's MQTT port, the
 * parent's root CA trusted, the connection string `identity add --edge` printed on the parent, and a
 * 2 s upstream keepalive so that a stopped parent is noticed quickly.
 */
export function childDaemon(
  parent: TestDaemon,
  parentMqttPort: number,
  connectionString: string,
): TestDaemon {
  const child = new TestDaemon(
    {},
    [
      `parent_hostname: 127.0.0.1:${parentMqttPort}`,
      'certificates:',
      `  trusted_ca_certs: ${rootCaOf(parent)}`,
    ],
    'localhost',
  );
  writeFileSync(
    child.configFile,
    readFileSync(child.configFile, 'utf8').replace(
      /device_connection_string: ".*"/,
      `device_connection_string: "${connectionString}"`,
    ),
  );
  child.env.IOTEDGE_UPSTREAM_KEEPALIVE_SECS = '2';
  return child;
}

/** Ends the daemons (children first), each with an empty deployment so that its modules stop. */
export async function cleanupDaemons(...daemons: (TestDaemon | undefined)[]): Promise<void> {
  if (process.env.DEBUG_DAEMON) console.log(...daemons.map((daemon) => daemon?.output));
  for (const daemon of daemons) {
    if (!daemon) continue;
    await daemon.request('POST', '/deployment', manifest({})).catch(() => undefined);
    await daemon.cleanup();
  }
}

/** A deployment with the given modules and routes; the hub's MQTT on `mqttPort` (0: any). */
export function nestedDeployment(
  modules: Record<string, Record<string, unknown>>,
  routes: Record<string, string>,
  mqttPort = 0,
) {
  const document = manifest(modules);
  const agent = document.modulesContent.$edgeAgent['properties.desired'] as {
    systemModules: { edgeHub: { settings: { createOptions: string } } };
  };
  agent.systemModules.edgeHub.settings.createOptions = hubPorts(mqttPort, 0);
  document.modulesContent.$edgeHub['properties.desired'].routes = routes;
  return document;
}

/** The seqs in the recorder's file, in the order they arrived. */
export function recorded(file: string): number[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => Number(line.split(' ')[0]));
}
