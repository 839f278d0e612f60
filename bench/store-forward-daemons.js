// Store and forward between two real iotedged on loopback: a child edge device whose `$upstream`
// fills while its parent is down, then drains to the parent once it starts.
//
// The child's hub gets the messages from a load generator (mqtt.js over TLS, as the Azure IoT SDK
// sends them) publishing as the child's module `sender`, `window` publishes waiting for their
// PUBACK; the child's route `FROM /messages/modules/sender/* INTO $upstream` puts each in the
// durable store (the child's default durability: committed and fdatasynced before the PUBACK).
// The parent is stopped all the while; then it starts, the child's upstream link connects and
// sends what it holds. By default the parent has no route for them: it authenticates, parses and
// routes each message, finds no route and acknowledges it, so the drain measures the link (the
// child's store read, the MQTT/TLS connection, the parent's hub) and not the parent's own store,
// whose appends the enqueue figure already measures on the child. `parentRoute: 'module'` routes
// them to a module input on the parent instead (its durable store too; the module does not read).
import { Buffer } from 'node:buffer';
import { createRequire } from 'node:module';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

import { hubPorts, manifest, nodeModule } from '../dist/test/helpers/daemon.js';
import { cpuSeconds, memory } from '../dist/test/helpers/proc-stats.js';
import { BenchDaemon, freePort, hubMqttPort, moduleCredentials, profileSummary } from './hub-modules.js';
import { cleanupSeconds, fileBytes } from './lib.js';

const require = createRequire(import.meta.url);
const mqtt = require('mqtt');

const CHILD_ID = 'child-1';
const PAYLOAD_BYTES = 256;
const SLEEPER = nodeModule('sleeper.js', ['600000']);

const cpuOf = (pid) => {
  const { user, system } = cpuSeconds(pid);
  return user + system;
};

/**
 * A deployment of `modules` and `routes`, the hub's MQTT on `mqttPort` (0: any port), its AMQP on
 * `amqpPort` when given, its edgeHub `UpstreamProtocol` when given.
 */
function deployment(modules, routes, mqttPort, { amqpPort, upstream } = {}) {
  const document = manifest(modules);
  const hub = document.modulesContent.$edgeAgent['properties.desired'].systemModules.edgeHub;
  hub.settings.createOptions = hubPorts(mqttPort, 0, undefined, amqpPort);
  if (upstream !== undefined) hub.env = { UpstreamProtocol: { value: upstream } };
  document.modulesContent.$edgeHub['properties.desired'].routes = routes;
  return document;
}

async function deploy(daemon, document) {
  const posted = await daemon.request('POST', '/deployment', document);
  if (posted.status !== 200) throw new Error(`deployment failed: ${posted.body}`);
}

/** Messages the daemon's `$upstream` holds, from its management API. */
async function upstreamHeld(daemon) {
  const { queues } = await daemon.json('GET', '/hub/queues');
  return queues.find((queue) => queue.endpoint === '$upstream')?.messages ?? 0;
}

/** Publishes `count` messages as `sender` with `window` waiting for their PUBACK; resolves at the last. */
function publishAll(client, topic, count, window) {
  return new Promise((resolve, reject) => {
    const body = Buffer.alloc(PAYLOAD_BYTES, 'x');
    let sent = 0;
    let acknowledged = 0;
    const onAck = (error) => {
      if (error) return reject(error);
      acknowledged += 1;
      if (acknowledged === count) resolve();
      else pump();
    };
    const pump = () => {
      while (sent < count && sent - acknowledged < window) {
        sent += 1;
        client.publish(topic, body, { qos: 1 }, onAck);
      }
    };
    client.once(
      'close',
      () => acknowledged < count && reject(new Error('the child hub closed the connection')),
    );
    pump();
  });
}

/**
 * Runs the scenario and returns its row. `profileDir`: the child runs under `node --cpu-prof`, and
 * the summary of its profile (the whole run) is printed.
 */
export async function runDaemons({
  messages,
  window,
  parentRoute = 'drop',
  upstream = 'Mqtt',
  profileDir,
  log = console.log,
}) {
  const parentPort = await freePort();
  // the parent's AMQP port, for a child whose edgeHub UpstreamProtocol is Amqp
  const parentAmqpPort = await freePort();
  const parent = new BenchDaemon();
  const child = new BenchDaemon([
    `parent_hostname: 127.0.0.1:${parentPort}`,
    'certificates:',
    `  trusted_ca_certs: ${path.join(parent.homedir, 'hsm/certs/edge_owner_ca.cert.pem')}`,
  ]);
  if (profileDir) child.nodeFlags = ['--cpu-prof', `--cpu-prof-dir=${profileDir}`];
  child.env.IOTEDGE_PARENT_AMQP_PORT = String(parentAmqpPort);
  const parentPorts = { amqpPort: parentAmqpPort };
  const parentDeployment =
    parentRoute === 'module'
      ? deployment(
          { sink: SLEEPER },
          { fromChild: `FROM /messages/* INTO BrokeredEndpoint("/modules/sink/inputs/in1")` },
          parentPort,
          parentPorts,
        )
      : deployment({}, {}, parentPort, parentPorts);
  let publisher;
  try {
    // the parent knows the child, then goes down
    await parent.start();
    await deploy(parent, parentDeployment);
    await hubMqttPort(parent);
    const added = parent.cli(['identity', 'add', CHILD_ID, '--edge', '--json']);
    if (added.code !== 0) throw new Error(`identity add: ${added.stderr}`);
    const { connectionString } = JSON.parse(added.stdout);
    await parent.signal('SIGTERM');

    // the child fills its $upstream while its parent is down
    writeFileSync(
      child.configFile,
      readFileSync(child.configFile, 'utf8').replace(
        /device_connection_string: ".*"/,
        `device_connection_string: "${connectionString}"`,
      ),
    );
    await child.start();
    await deploy(
      child,
      deployment({ sender: SLEEPER }, { up: 'FROM /messages/modules/sender/* INTO $upstream' }, 0, {
        upstream,
      }),
    );
    const childPort = await hubMqttPort(child);
    const { ca, options } = await moduleCredentials(child, ['sender']);
    publisher = await new Promise((resolve, reject) => {
      const client = mqtt.connect({
        protocol: 'mqtts',
        host: '127.0.0.1',
        port: childPort,
        ca,
        servername: 'localhost',
        keepalive: 180,
        reconnectPeriod: 0,
        protocolVersion: 4,
        clean: false,
        ...options.sender,
      });
      client.once('connect', () => {
        client.stream.setNoDelay(true);
        resolve(client);
      });
      client.once('error', reject);
    });
    const childPid = child.process.pid;
    const fillCpu0 = cpuOf(childPid);
    const generatorCpu0 = process.cpuUsage();
    const t0 = performance.now();
    await publishAll(
      publisher,
      `devices/${CHILD_ID}/modules/sender/messages/events/%24.on=out1/`,
      messages,
      window,
    );
    const fillSeconds = (performance.now() - t0) / 1000;
    const fillCpu = cpuOf(childPid) - fillCpu0;
    const generatorUsage = process.cpuUsage(generatorCpu0);
    publisher.end(true);
    publisher = undefined;
    const held = await upstreamHeld(child);
    const database = path.join(child.homedir, 'hub', 'messages.db');
    const filledBytes = fileBytes(database);
    log(`daemons: ${held} held by the child's $upstream after ${fillSeconds.toFixed(1)} s`);

    // the parent starts; the child's link connects (after its backoff) and drains
    const parentStarted = performance.now();
    await parent.start();
    const parentPid = parent.process.pid;
    const status = await parent.json('GET', '/deployment/status');
    if (status.systemModules?.edgeHub?.runtimeStatus !== 'running') await deploy(parent, parentDeployment);
    // samples of what the child holds, with both daemons' CPU time, every 100 ms
    let last = { at: performance.now(), held, child: cpuOf(childPid), parent: cpuOf(parentPid) };
    let lastFull = last;
    let first;
    for (;;) {
      const sample = {
        held: await upstreamHeld(child),
        at: performance.now(),
        child: cpuOf(childPid),
        parent: cpuOf(parentPid),
      };
      if (sample.held >= held) lastFull = sample;
      else first ??= lastFull;
      last = sample;
      if (sample.held === 0) break;
      if (first === undefined && sample.at - parentStarted > 180_000)
        throw new Error(`the child did not start draining within 3 minutes:\n${child.output.slice(-2000)}`);
      await sleep(100);
    }
    const drainSeconds = (last.at - first.at) / 1000;
    log(`daemons: drained ${held} in ${drainSeconds.toFixed(1)} s`);

    // the child's store deletes what was acknowledged and gives its pages back (watched by the
    // file's size: the hub holds its database exclusively, no second connection may read it)
    const cleanup = await cleanupSeconds(database);
    await sleep(2000);
    const afterCleanupBytes = fileBytes(database);
    const walAfterCleanup = statSync(`${database}-wal`, { throwIfNoEntry: false })?.size ?? 0;
    const childPeak = memory(childPid).peakRss;
    await child.signal('SIGTERM');
    const afterStopBytes = fileBytes(database);
    const row = {
      messages,
      parent_route: parentRoute,
      upstream,
      publish_window: window,
      held_after_fill: held,
      enqueue_msg_per_s: Math.round(messages / fillSeconds),
      enqueue_child_cpu_us_per_msg: Number(((fillCpu / messages) * 1e6).toFixed(1)),
      enqueue_generator_cpu_us_per_msg: Number(
        (((generatorUsage.user + generatorUsage.system) / 1e6 / messages) * 1e6).toFixed(1),
      ),
      reconnect_wait_s: Number(((first.at - parentStarted) / 1000).toFixed(1)),
      drain_msg_per_s: Math.round(held / drainSeconds),
      drain_child_cpu_us_per_msg: Number((((last.child - first.child) / held) * 1e6).toFixed(1)),
      drain_parent_cpu_us_per_msg: Number((((last.parent - first.parent) / held) * 1e6).toFixed(1)),
      child_peak_rss_mib: Math.round(childPeak / 2 ** 20),
      parent_peak_rss_mib: Math.round(memory(parentPid).peakRss / 2 ** 20),
      disk_bytes_filled: filledBytes,
      disk_bytes_per_msg: Math.round(filledBytes / messages),
      cleanup_seconds: Number(cleanup.toFixed(1)),
      disk_bytes_after_cleanup: afterCleanupBytes,
      wal_bytes_after_cleanup: walAfterCleanup,
      disk_bytes_after_stop: afterStopBytes,
    };
    return row;
  } finally {
    publisher?.end(true);
    for (const daemon of [child, parent]) {
      if (daemon.process && daemon.process.exitCode === null)
        await deploy(daemon, manifest({})).catch(() => undefined);
      await daemon.signal('SIGTERM').catch(() => undefined);
    }
    if (profileDir) {
      const profiles = readdirSync(profileDir).filter((file) => file.endsWith('.cpuprofile'));
      for (const file of profiles) log(`child ${file}:\n${profileSummary(path.join(profileDir, file))}`);
    }
    for (const daemon of [child, parent]) await daemon.cleanup().catch(() => undefined);
  }
}
