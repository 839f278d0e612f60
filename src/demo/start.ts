import { lookup } from 'node:dns/promises';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { hostname as machineHostname } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  demoConfigText,
  demoDeployment,
  demoLayout,
  demoPorts,
  isLoopback,
  type DemoLayout,
} from './demo-layout.js';

/** The repository (or installed package) root: two levels above dist/src/demo. */
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const CONFIG_TEMPLATE = path.join(ROOT, 'contrib/config/config.yaml');
const DEPLOYMENT_TEMPLATE = path.join(ROOT, 'contrib/config/deployment.json');

/**
 * The host name modules reach the hub by: the machine's own name when it resolves to a loopback
 * address (the hub listens there, and `iotedge check` finds the name it expects), else `localhost`.
 */
async function gateway(): Promise<{ hostname: string; address: string }> {
  const name = machineHostname();
  try {
    const { address } = await lookup(name, { family: 4 });
    if (isLoopback(address)) return { hostname: name, address };
  } catch {
    // the machine's name does not resolve: localhost it is
  }
  return { hostname: 'localhost', address: '127.0.0.1' };
}

/** Writes the demo's deployment from the template (at start, and on SIGHUP before the daemon reads it). */
function writeDeployment(layout: DemoLayout, bindHost: string): void {
  const template: unknown = JSON.parse(readFileSync(DEPLOYMENT_TEMPLATE, 'utf8'));
  const deployment = demoDeployment(template, layout, ROOT, bindHost);
  writeFileSync(path.join(layout.dir, 'deployment.json'), `${JSON.stringify(deployment, null, 2)}\n`);
}

async function start(): Promise<number> {
  let layout: DemoLayout;
  try {
    layout = demoLayout(process.argv.slice(2), process.env);
  } catch (error) {
    console.error(`npm start: ${(error as Error).message}`);
    return 2;
  }
  const { hostname, address } = await gateway();
  mkdirSync(layout.dir, { recursive: true });
  const configFile = path.join(layout.dir, 'config.yaml');
  writeFileSync(configFile, demoConfigText(readFileSync(CONFIG_TEMPLATE, 'utf8'), layout, hostname));
  writeDeployment(layout, address);
  process.on('SIGHUP', () => writeDeployment(layout, address));
  const ports = demoPorts(layout.portBase);
  const host = `unix://${layout.dir}/mgmt.sock`;
  console.error(
    [
      `demo: state in ${layout.dir}, hub on ${hostname} (${address}) MQTT ${ports.mqtt}, HTTPS ${ports.https}`,
      `demo: watch the messages with:  node bin/run.js -H ${host} monitor`,
      `demo: check the configuration:  node bin/run.js check -c ${configFile}`,
    ].join('\n'),
  );
  const { main } = await import('../runtime/daemon/main.js');
  return main(['-c', configFile]);
}

process.exit(await start());
