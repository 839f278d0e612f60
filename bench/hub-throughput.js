#!/usr/bin/env node
// Module → route → module over MQTT QoS 1 (256-byte messages) through the Edge Hub embedded in
// iotedged, side by side in one run with Mosquitto relaying the same load from the same load
// generator (one process, mqtt.js 4.3.8 as the Azure IoT SDK uses it). Two scenarios: the most
// messages a window of in-flight messages gets through, and a fixed offered rate (latency).
//
// Usage: npm run build && node bench/hub-throughput.js [--seconds 3] [--rounds 5] [--window 16]
//          [--rate 5000]                        (writes bench/results/hub-throughput.{json,md})
// Needs Debian's mosquitto (apt-get install -y mosquitto). Experiments, which print and write no
// results: --profile <dir> runs the hub alone under `node --cpu-prof` and prints where its time
// went; --hub-only; --no-optimize-for-size; --iotedged-flags="--trace-gc ...". --tcp adds
// Mosquitto's plain TCP listener as a reference row.
// The window of 16 is IoT Hub's limit on a client's QoS 1 publishes in flight.
import { spawn, spawnSync } from 'node:child_process';
import { Buffer } from 'node:buffer';
import { mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { clearTimeout } from 'node:timers';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

import { hubPorts, manifest, nodeModule } from '../dist/test/helpers/daemon.js';
import { connectAmqpPair } from './amqp-pair.js';
import { cpuSeconds, syscalls } from '../dist/test/helpers/proc-stats.js';
import {
  BenchDaemon,
  freePort,
  hubMqttPort,
  moduleCredentials,
  profileSummary,
  until,
} from './hub-modules.js';
import { loadAverage, machine, resultsFile, writeMarkdownKeepingFindings } from './lib.js';

const require = createRequire(import.meta.url);
const mqtt = require('mqtt');

const { values: flags } = parseArgs({
  options: {
    seconds: { type: 'string', default: '3' },
    rounds: { type: 'string', default: '5' },
    window: { type: 'string', default: '16' },
    rate: { type: 'string', default: '5000' },
    profile: { type: 'string' },
    // experiments (they print, and write no results): more node flags for iotedged, e.g.
    // --iotedged-flags=--trace-gc; the hub without the daemon's --optimize-for-size
    'iotedged-flags': { type: 'string', default: '' },
    'no-optimize-for-size': { type: 'boolean', default: false },
    // the hub alone, no results written (as with --profile)
    'hub-only': { type: 'boolean', default: false },
    // Mosquitto's plain TCP listener too, for reference
    tcp: { type: 'boolean', default: false },
  },
});
const SECONDS = Number(flags.seconds);
const ROUNDS = Number(flags.rounds);
const WINDOW = Number(flags.window);
const RATE = Number(flags.rate);
const WARMUP_MS = 1000;
const PAYLOAD_BYTES = 256;
/** Mosquitto's limit on QoS 1 messages in flight to one subscriber, set to the hub's input window. */
const MOSQUITTO_INFLIGHT = 64;
const ROUTE =
  'FROM /messages/modules/sender/outputs/out1 INTO BrokeredEndpoint("/modules/receiver/inputs/in1")';
const LOAD_BEFORE = loadAverage();
const AMQP_SUBJECT = 'Edge Hub AMQP (iotedged, TLS)';
const AMQP_ROUTE =
  'FROM /messages/modules/amqpsender/outputs/out1 INTO BrokeredEndpoint("/modules/amqpreceiver/inputs/in1")';

/** The hub's MQTT port and, for each module, its MQTT connect options (SAS token from its workload socket). */
async function deployHub(daemon) {
  const document = manifest({
    receiver: nodeModule('sleeper.js', ['600000']),
    sender: nodeModule('sleeper.js', ['600000'], { startupOrder: 1 }),
    // the AMQP pair's own identities: one connection per identity, as IoT Hub has it
    amqpreceiver: nodeModule('sleeper.js', ['600000']),
    amqpsender: nodeModule('sleeper.js', ['600000']),
  });
  document.modulesContent.$edgeHub['properties.desired'].routes = { bench: ROUTE, benchAmqp: AMQP_ROUTE };
  // the AMQP head too, on a port of its own: the same route serves modules over either protocol
  const amqpPort = await freePort();
  document.modulesContent.$edgeAgent['properties.desired'].systemModules.edgeHub.settings.createOptions =
    hubPorts(0, 0, undefined, amqpPort);
  const deployed = await daemon.request('POST', '/deployment', document);
  if (deployed.status !== 200) throw new Error(`deployment failed: ${deployed.body}`);
  const port = await hubMqttPort(daemon);
  const { ca, deviceId, options } = await moduleCredentials(daemon, [
    'sender',
    'receiver',
    'amqpsender',
    'amqpreceiver',
  ]);
  return {
    port,
    amqpPort,
    ca,
    deviceId,
    sender: options.sender,
    receiver: options.receiver,
    amqpSender: options.amqpsender,
    amqpReceiver: options.amqpreceiver,
    serverCert: path.join(daemon.homedir, 'hub', 'server.cert.pem'),
    serverKey: path.join(daemon.homedir, 'hub', 'server.key.pem'),
  };
}

/** Mosquitto on loopback: a TLS listener with the hub's own certificate and key, and a plain one. */
async function startMosquitto(dir, hub) {
  mkdirSync(dir, { recursive: true });
  const ports = { tls: await freePort(), tcp: await freePort() };
  const cafile = path.join(dir, 'trust-bundle.pem');
  writeFileSync(cafile, hub.ca);
  const conf = path.join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      // run as root, mosquitto would switch to its own user, who cannot read the key
      'user root',
      'persistence false',
      'allow_anonymous true',
      `max_inflight_messages ${MOSQUITTO_INFLIGHT}`,
      'log_dest stderr',
      'log_type error',
      'log_type warning',
      `listener ${ports.tls} 127.0.0.1`,
      `certfile ${hub.serverCert}`,
      `keyfile ${hub.serverKey}`,
      `cafile ${cafile}`,
      `listener ${ports.tcp} 127.0.0.1`,
      '',
    ].join('\n'),
  );
  const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  interrupted.children.add(child);
  let output = '';
  child.stderr.on('data', (chunk) => (output += chunk));
  const spawned = await new Promise((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!spawned) throw new Error('mosquitto is not installed (apt-get install -y mosquitto)');
  const version = spawnSync('mosquitto', ['-h'], { encoding: 'utf8' }).stdout.split('\n')[0].trim();
  await until(
    () =>
      new Promise((resolve, reject) => {
        if (child.exitCode !== null) return resolve(new Error(`mosquitto exited: ${output}`));
        const socket = net.connect(ports.tls, '127.0.0.1', () => {
          socket.destroy();
          resolve(true);
        });
        socket.on('error', reject);
      }),
    'mosquitto to listen',
  ).then((value) => {
    if (value instanceof Error) throw value;
  });
  return { child, ports, version };
}

/** A connected publisher and subscriber for one broker. */
async function connectPair(subject) {
  const connect = (options) =>
    new Promise((resolve, reject) => {
      const client = mqtt.connect({
        host: '127.0.0.1',
        keepalive: 180,
        reconnectPeriod: 0,
        protocolVersion: 4,
        clean: false,
        ...subject.connect,
        ...options,
      });
      client.once('connect', () => {
        // the load generator's own sockets never wait on Nagle's algorithm (the brokers' sockets
        // keep their defaults): latency measures the broker, not the generator
        client.stream.setNoDelay(true);
        resolve(client);
      });
      client.once('error', reject);
      client.once('close', () => reject(new Error(`${subject.name}: connection closed`)));
    });
  const publisher = await connect(subject.sender);
  const subscriber = await connect(subject.receiver);
  await new Promise((resolve, reject) =>
    subscriber.subscribe(subject.subscribe, { qos: 1 }, (error, granted) =>
      error || granted[0]?.qos !== 1 ? reject(error ?? new Error(`${subject.name}: not granted`)) : resolve(),
    ),
  );
  const tlsOf = (client) =>
    typeof client.stream.getProtocol === 'function'
      ? `${client.stream.getProtocol()} ${client.stream.getCipher().name}`
      : 'none (plain TCP)';
  return { publisher, subscriber, tls: tlsOf(publisher) };
}

function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

let runId = 0;

/**
 * One measurement: warm-up, then `seconds` counted. `mode` is { window } (keep that many messages
 * between publish and receipt) or { rate } (publish at that many msg/s whatever comes back).
 * Latency: receipt − publish time, both from this process's clock, carried in the payload.
 */
async function measure(pair, subject, mode, seconds) {
  const run = ++runId;
  // a typed array, grown by doubling: the generator's own GC pauses would show in its latencies
  let latencies = new Float64Array(20_000 * seconds);
  let counted = 0;
  let sent = 0;
  let countedReceived = 0;
  let inFlight = 0;
  let sending = true;
  let counting = false;
  let onDrained;
  const onMessage = (_topic, payload) => {
    if (payload.length !== PAYLOAD_BYTES || payload.readUInt32LE(0) !== run) return;
    const latency = performance.now() - payload.readDoubleLE(8);
    inFlight--;
    if (counting) {
      countedReceived++;
      if (counted === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[counted++] = latency;
    }
    if (mode.window !== undefined && sending) pump();
    if (!sending && inFlight === 0) onDrained?.();
  };
  pair.subscriber.on('message', onMessage);
  const send = () => {
    const payload = Buffer.allocUnsafe(PAYLOAD_BYTES).fill(0x61, 16);
    payload.writeUInt32LE(run, 0);
    payload.writeUInt32LE(sent, 4);
    payload.writeDoubleLE(performance.now(), 8);
    sent++;
    inFlight++;
    pair.publisher.publish(subject.publishTopic, payload, { qos: 1 });
  };
  const pump = () => {
    while (sending && inFlight < mode.window) send();
  };
  let timer;
  const start = performance.now();
  if (mode.window !== undefined) {
    pump();
  } else {
    const tick = () => {
      if (!sending) return;
      const due = Math.floor(((performance.now() - start) * mode.rate) / 1000);
      while (sent < due) send();
      timer = setTimeout(tick, 1);
    };
    tick();
  }
  await sleep(WARMUP_MS);
  const before = {
    at: performance.now(),
    sent,
    broker: cpuSeconds(subject.pid),
    syscalls: syscalls(subject.pid),
    generator: process.cpuUsage(),
  };
  counting = true;
  await sleep(seconds * 1000);
  counting = false;
  const elapsed = (performance.now() - before.at) / 1000;
  const brokerCpu = cpuSeconds(subject.pid);
  const after = syscalls(subject.pid);
  const generatorUsage = process.cpuUsage(before.generator);
  const sentCounted = sent - before.sent;
  sending = false;
  clearTimeout(timer);
  if (inFlight > 0) {
    await Promise.race([new Promise((resolve) => (onDrained = resolve)), sleep(10_000)]);
  }
  pair.subscriber.off('message', onMessage);
  return {
    elapsed,
    received: countedReceived,
    offered: sentCounted,
    lost: inFlight,
    latencies: latencies.subarray(0, counted),
    brokerUser: brokerCpu.user - before.broker.user,
    brokerSystem: brokerCpu.system - before.broker.system,
    brokerReads: after.reads - before.syscalls.reads,
    brokerWrites: after.writes - before.syscalls.writes,
    generatorCpu: (generatorUsage.user + generatorUsage.system) / 1e6,
  };
}

/** The figures of one round. */
function figures(sample) {
  const { elapsed, received } = sample;
  const latencies = Float64Array.from(sample.latencies).sort();
  const round = (value, digits) => Number(value.toFixed(digits));
  const brokerCpu = sample.brokerUser + sample.brokerSystem;
  return {
    msg_per_s: Math.round(received / elapsed),
    offered_msg_per_s: Math.round(sample.offered / elapsed),
    p50_ms: round(percentile(latencies, 50), 3),
    p99_ms: round(percentile(latencies, 99), 3),
    p999_ms: round(percentile(latencies, 99.9), 3),
    max_ms: round(latencies[latencies.length - 1] ?? NaN, 3),
    messages: received,
    lost: sample.lost,
    broker_cpu_percent: round((100 * brokerCpu) / elapsed, 1),
    broker_cpu_us_per_msg: round((1e6 * brokerCpu) / received, 1),
    broker_kernel_cpu_us_per_msg: round((1e6 * sample.brokerSystem) / received, 1),
    broker_read_syscalls_per_msg: round(sample.brokerReads / received, 2),
    broker_write_syscalls_per_msg: round(sample.brokerWrites / received, 2),
    generator_cpu_percent: round((100 * sample.generatorCpu) / elapsed, 1),
  };
}

/**
 * A broker's row: the median round of each figure (other work on the machine spoils a round now and
 * then, and a pooled p99 would carry it), messages and losses summed, and each round's msg/s and p99.
 */
function summarize(subject, samples) {
  const rounds = samples.map(figures);
  const median = (key) => [...rounds.map((r) => r[key])].sort((a, b) => a - b)[Math.floor(rounds.length / 2)];
  const row = { subject: subject.name };
  for (const key of Object.keys(rounds[0])) row[key] = median(key);
  row.messages = rounds.reduce((sum, r) => sum + r.messages, 0);
  row.lost = rounds.reduce((sum, r) => sum + r.lost, 0);
  row.rounds_msg_per_s = rounds.map((r) => r.msg_per_s);
  row.rounds_p99_ms = rounds.map((r) => r.p99_ms);
  return row;
}

function fmt(value) {
  return Number.isFinite(value) ? String(value) : '–';
}

function markdown(result) {
  const m = result.machine;
  const p = result.parameters;
  const table = (rows) =>
    [
      '| broker | msg/s | offered msg/s | p50 ms | p99 ms | p99.9 ms | max ms | broker CPU % | ' +
        'broker CPU µs/msg (of which kernel) | ' +
        'broker read / write syscalls per msg | load generator CPU % |',
      '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
      ...rows.map(
        (r) =>
          `| ${r.subject} | ${r.msg_per_s} | ${r.offered_msg_per_s} | ${fmt(r.p50_ms)} | ${fmt(r.p99_ms)} | ` +
          `${fmt(r.p999_ms)} | ${fmt(r.max_ms)} | ${r.broker_cpu_percent} | ${r.broker_cpu_us_per_msg} ` +
          `(${r.broker_kernel_cpu_us_per_msg}) | ` +
          `${r.broker_read_syscalls_per_msg} / ${r.broker_write_syscalls_per_msg} | ${r.generator_cpu_percent} |`,
      ),
    ].join('\n');
  const r = result.ratios;
  const t = result.targets;
  return (
    `# Edge Hub MQTT throughput and latency vs Mosquitto\n\n` +
    `${result.date}. Run with \`npm run build && node bench/hub-throughput.js\` ` +
    `(options: \`--seconds ${p.seconds} --rounds ${p.rounds} --window ${p.window} --rate ${p.rate}\`, ` +
    '`--profile <dir>` to profile iotedged instead).\n\n' +
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, Node ${m.node}, ${m.platform}; ${result.mosquitto_version}; ` +
    `load average ${result.load_average.before} before the run, ${result.load_average.after} after.\n\n` +
    `Module \`sender\` → route → module \`receiver\`, MQTT 3.1.1 QoS 1 both ways, ${p.payload_bytes}-byte ` +
    'messages, one load generator process (mqtt.js 4.3.8, as the Azure IoT SDK) holding both ' +
    'connections; latency = receipt − publish on its clock. The hub is iotedged (its Edge Hub ' +
    'is TLS-only, SAS tokens from the workload API, the route ' +
    `\`${ROUTE}\`). Mosquitto relays the same load on a plain topic, over TLS with the hub's own ` +
    `server certificate and key (\`max_inflight_messages ${MOSQUITTO_INFLIGHT}\`, the hub's input window)` +
    (result.scenarios.max_throughput.length > 2 ? ', and over plain TCP for reference (`--tcp`)' : '') +
    '; both brokers keep Nagle on their sockets (their defaults), the load generator turns it off on its own. ' +
    'Everything on one machine and loopback: the brokers share ' +
    `the ${m.cores} cores with the load generator. TLS negotiated: ${Object.entries(result.tls)
      .map(([name, text]) => `${name}: ${text}`)
      .join('; ')}.\n\n` +
    `Rounds interleave the brokers (${p.rounds} rounds × ${p.seconds} s counted per broker and scenario, ` +
    `after ${p.warmup_ms} ms of warm-up each time); each figure is the median round's (JSON: every round's ` +
    'msg/s and p99).\n\n' +
    `## Maximum throughput: ${p.window} messages in flight end to end\n\n${table(result.scenarios.max_throughput)}\n\n` +
    `## Fixed offered rate: ${p.rate} msg/s\n\n${table(result.scenarios.fixed_rate)}\n\n` +
    '## Ratios and targets\n\n' +
    `- Throughput, hub / Mosquitto TLS: **${r.throughput_hub_to_mosquitto_tls}** ` +
    `(target ≥ 0.5: ${t.throughput_met ? 'met' : 'NOT met'})` +
    (r.throughput_hub_to_mosquitto_tcp ? `; hub / Mosquitto TCP: ${r.throughput_hub_to_mosquitto_tcp}` : '') +
    '.\n' +
    `- Broker CPU per message, hub / Mosquitto TLS: ${r.cpu_per_msg_hub_to_mosquitto_tls} at full load, ` +
    `${r.cpu_per_msg_hub_to_mosquitto_tls_at_rate} at ${p.rate} msg/s.\n` +
    `- p99 at ${p.rate} msg/s: hub ${result.scenarios.fixed_rate[0].p99_ms} ms, Mosquitto TLS ` +
    `${result.scenarios.fixed_rate[1].p99_ms} ms (hub / Mosquitto TLS ${r.p99_at_rate_hub_to_mosquitto_tls}); ` +
    `target ≤ 10 ms: ${t.p99_met ? 'met' : 'NOT met'}.\n` +
    (r.throughput_hub_amqp_to_hub_mqtt !== undefined
      ? `- AMQP head (its own module pair on a route of the same shape; the load generator's AMQP side is rhea, the ` +
        `library of the SDK's Amqp transport, one link each way, credit 64): throughput ` +
        `hub AMQP / hub MQTT **${r.throughput_hub_amqp_to_hub_mqtt}**, hub AMQP / Mosquitto TLS ` +
        `${r.throughput_hub_amqp_to_mosquitto_tls}; CPU per message AMQP / MQTT ` +
        `${r.cpu_per_msg_hub_amqp_to_hub_mqtt}; p99 at ${p.rate} msg/s AMQP / MQTT ` +
        `${r.p99_at_rate_hub_amqp_to_hub_mqtt}.\n`
      : '') +
    (result.scenarios.max_throughput[1].generator_cpu_percent >= 90
      ? `- With Mosquitto TLS at full load the load generator used ` +
        `${result.scenarios.max_throughput[1].generator_cpu_percent}% CPU and Mosquitto ` +
        `${result.scenarios.max_throughput[1].broker_cpu_percent}%: that msg/s is the generator's ceiling, ` +
        "not Mosquitto's, so the throughput ratio flatters the hub; CPU per message compares the brokers.\n"
      : '')
  );
}

// ------------------------------------------------------------------------------------------------

/** Ratios, targets, and the results files. */
function report(subjects, pairs, rows, mosquittoVersion, write) {
  const [hubMax, mosqMax] = rows.max_throughput;
  const [hubRate, mosqRate] = rows.fixed_rate;
  const named = (list, name) => list.find((row) => row.subject === name);
  const tcpMax = named(rows.max_throughput, 'Mosquitto (plain TCP)');
  const amqpMax = named(rows.max_throughput, AMQP_SUBJECT);
  const amqpRate = named(rows.fixed_rate, AMQP_SUBJECT);
  const ratio = (a, b) => Number((a / b).toFixed(2));
  const result = {
    date: new Date().toISOString(),
    machine: machine(),
    mosquitto_version: mosquittoVersion,
    // other work on the machine shows in the tails: the 1-minute load average before and after
    load_average: { before: LOAD_BEFORE, after: loadAverage() },
    parameters: {
      payload_bytes: PAYLOAD_BYTES,
      qos: 1,
      window: WINDOW,
      rate: RATE,
      seconds: SECONDS,
      rounds: ROUNDS,
      warmup_ms: WARMUP_MS,
      mosquitto_max_inflight_messages: MOSQUITTO_INFLIGHT,
      route: ROUTE,
    },
    tls: Object.fromEntries(subjects.map((subject, index) => [subject.name, pairs[index].tls])),
    scenarios: rows,
    ratios: {
      throughput_hub_to_mosquitto_tls: ratio(hubMax.msg_per_s, mosqMax.msg_per_s),
      ...(tcpMax ? { throughput_hub_to_mosquitto_tcp: ratio(hubMax.msg_per_s, tcpMax.msg_per_s) } : {}),
      cpu_per_msg_hub_to_mosquitto_tls: ratio(hubMax.broker_cpu_us_per_msg, mosqMax.broker_cpu_us_per_msg),
      cpu_per_msg_hub_to_mosquitto_tls_at_rate: ratio(
        hubRate.broker_cpu_us_per_msg,
        mosqRate.broker_cpu_us_per_msg,
      ),
      p99_at_rate_hub_to_mosquitto_tls: ratio(hubRate.p99_ms, mosqRate.p99_ms),
      ...(amqpMax && amqpRate
        ? {
            throughput_hub_amqp_to_hub_mqtt: ratio(amqpMax.msg_per_s, hubMax.msg_per_s),
            throughput_hub_amqp_to_mosquitto_tls: ratio(amqpMax.msg_per_s, mosqMax.msg_per_s),
            cpu_per_msg_hub_amqp_to_hub_mqtt: ratio(
              amqpMax.broker_cpu_us_per_msg,
              hubMax.broker_cpu_us_per_msg,
            ),
            p99_at_rate_hub_amqp_to_hub_mqtt: ratio(amqpRate.p99_ms, hubRate.p99_ms),
          }
        : {}),
    },
    targets: {
      throughput_ratio_min: 0.5,
      p99_ms_max_at_rate: 10,
      throughput_met: hubMax.msg_per_s >= 0.5 * mosqMax.msg_per_s,
      p99_met: hubRate.p99_ms <= 10 && hubRate.msg_per_s >= 0.98 * RATE,
    },
  };
  console.log(result.ratios, result.targets);
  if (!write) return;
  writeFileSync(resultsFile('hub-throughput.json'), JSON.stringify(result, null, 2) + '\n');
  writeMarkdownKeepingFindings(resultsFile('hub-throughput.md'), markdown(result));
}

const profileDir = flags.profile ? path.resolve(flags.profile) : undefined;
const hubOnly = flags['hub-only'] || profileDir !== undefined;
const experiment = hubOnly || flags['iotedged-flags'] !== '' || flags['no-optimize-for-size'];

/** A preload for iotedged that drops the --optimize-for-size it sets for itself (heap-tuning.ts). */
function withoutOptimizeForSize(dir) {
  const file = path.join(dir, 'no-optimize-for-size.mjs');
  writeFileSync(
    file,
    "import v8 from 'node:v8';\nconst set = v8.setFlagsFromString;\n" +
      "v8.setFlagsFromString = (flag) => (flag === '--optimize-for-size' ? undefined : set(flag));\n",
  );
  return `--import=${file}`;
}

/** Processes to stop, and the daemon's directory to remove, if the bench is interrupted. */
const interrupted = { children: new Set(), dirs: new Set() };
/** Stops what is still running; resolves once it has exited (iotedged stops its modules on SIGTERM). */
function stopEverything() {
  const running = [...interrupted.children].filter(
    (child) => child.exitCode === null && child.signalCode === null,
  );
  const exited = running.map((child) => new Promise((resolve) => child.once('exit', resolve)));
  for (const child of running) child.kill('SIGTERM');
  // a daemon still running needs its homedir to stop its modules: the directory goes only after it
  if (running.length === 0) for (const dir of interrupted.dirs) rmSync(dir, { recursive: true, force: true });
  return Promise.all(exited);
}
for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    Promise.race([stopEverything(), sleep(10_000)])
      .then(stopEverything)
      .finally(() => process.exit(130));
  });
}
// an uncaught error skips the finally of main(); this still signals what runs
process.once('exit', stopEverything);

async function main() {
  const daemon = new BenchDaemon();
  daemon.nodeFlags = [
    ...flags['iotedged-flags'].split(' ').filter(Boolean),
    ...(flags['no-optimize-for-size'] ? [withoutOptimizeForSize(daemon.dir)] : []),
    ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []),
  ];
  let mosquitto;
  const pairs = [];
  interrupted.dirs.add(daemon.dir);
  try {
    await daemon.start();
    interrupted.children.add(daemon.process);
    const hub = await deployHub(daemon);
    // profiling measures the hub alone, so that its profile holds only its own busy time
    if (!hubOnly) mosquitto = await startMosquitto(path.join(daemon.dir, 'mosquitto'), hub);
    const tlsConnect = { protocol: 'mqtts', ca: hub.ca, servername: 'localhost' };
    const mosquittoClient = (module) => ({ clientId: `${hub.deviceId}/${module}` });
    const subjects = [
      {
        name: 'Edge Hub (iotedged, TLS)',
        pid: daemon.process.pid,
        connect: { ...tlsConnect, port: hub.port },
        sender: hub.sender,
        receiver: hub.receiver,
        publishTopic: `devices/${hub.deviceId}/modules/sender/messages/events/%24.on=out1/`,
        subscribe: `devices/${hub.deviceId}/modules/receiver/#`,
      },
    ];
    if (mosquitto) {
      subjects.push({
        name: 'Mosquitto (TLS)',
        pid: mosquitto.child.pid,
        connect: { ...tlsConnect, port: mosquitto.ports.tls },
        sender: mosquittoClient('sender'),
        receiver: mosquittoClient('receiver'),
        publishTopic: 'bench/out1',
        subscribe: 'bench/#',
      });
    }
    if (mosquitto && flags.tcp) {
      subjects.push({
        name: 'Mosquitto (plain TCP)',
        pid: mosquitto.child.pid,
        connect: { protocol: 'mqtt', port: mosquitto.ports.tcp },
        sender: mosquittoClient('tcp-sender'),
        receiver: mosquittoClient('tcp-receiver'),
        publishTopic: 'bench/tcp/out1',
        subscribe: 'bench/tcp/#',
      });
    }
    // the hub's AMQP head, the same modules and route, the SDK's AMQP library as load generator
    subjects.push({
      name: AMQP_SUBJECT,
      pid: daemon.process.pid,
      amqp: {
        port: hub.amqpPort,
        caFile: path.join(daemon.homedir, 'hsm', 'certs', 'edge_owner_ca.cert.pem'),
        deviceId: hub.deviceId,
        sender: hub.amqpSender,
        receiver: hub.amqpReceiver,
      },
    });
    for (const subject of subjects)
      pairs.push(await (subject.amqp ? connectAmqpPair(subject.amqp) : connectPair(subject)));
    const scenarios = [
      { key: 'max_throughput', mode: { window: WINDOW } },
      { key: 'fixed_rate', mode: { rate: RATE } },
    ];
    // one untimed pass first: the hub's JIT warms up, connections settle
    for (const [index, subject] of subjects.entries())
      await measure(pairs[index], subject, { window: WINDOW }, 2);
    const samples = Object.fromEntries(scenarios.map((s) => [s.key, subjects.map(() => [])]));
    for (let round = 0; round < ROUNDS; round++) {
      for (const scenario of scenarios) {
        // alternate which broker goes first, so that drift hits all alike
        const order = subjects.map((_, index) => index);
        if (round % 2 === 1) order.reverse();
        for (const index of order) {
          const sample = await measure(pairs[index], subjects[index], scenario.mode, SECONDS);
          samples[scenario.key][index].push(sample);
          console.log(
            `round ${round + 1} ${scenario.key} ${subjects[index].name}: ` +
              `${Math.round(sample.received / sample.elapsed)} msg/s`,
          );
        }
      }
    }
    const rows = Object.fromEntries(
      scenarios.map((s) => [
        s.key,
        subjects.map((subject, index) => summarize(subject, samples[s.key][index])),
      ]),
    );
    for (const scenario of scenarios) {
      console.log(`\n${scenario.key}`);
      console.table(rows[scenario.key]);
    }
    if (!hubOnly) report(subjects, pairs, rows, mosquitto.version, !experiment);
  } finally {
    for (const pair of pairs) {
      pair.publisher.end(true);
      pair.subscriber.end(true);
    }
    // Mosquitto, even when it failed to start listening
    for (const child of interrupted.children) if (child !== daemon.process) child.kill('SIGTERM');
    if (process.env.DEBUG_DAEMON) console.log(daemon.output);
    await daemon.cleanup();
  }

  if (profileDir) {
    const profiles = readdirSync(profileDir)
      .filter((file) => file.endsWith('.cpuprofile'))
      .map((file) => path.join(profileDir, file));
    // this run's daemon wrote the newest (module processes do not inherit the flag)
    const newest = profiles.sort((a, b) => statSync(b).mtimeMs - statSync(a).mtimeMs)[0];
    if (newest) console.log(`\n${newest}\n${profileSummary(newest)}`);
  }
}

await main();
