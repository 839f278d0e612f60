import os from 'node:os';

import { TestDaemon } from '../daemon.js';
import { ModuleCredentials, connect, hubEndpoint, type MqttClient } from '../mqtt-client.js';
import { memory } from '../proc-stats.js';
import { metricSum, scrapeMetrics } from './hub-metrics.js';
import { MemorySampler } from './memory-sampler.js';
import { perMinute, rssTrend, warmupSeconds, type RssTrend, type SoakSample } from './rss-trend.js';
import {
  RECEIVER,
  SENDER,
  SOAK_ROUTES,
  UPSTREAM_TTL_SECS,
  goesUpstream,
  metricsPort,
  soakManifest,
} from './soak-deployment.js';
import { PAYLOAD_BYTES, Traffic, type MethodCaller } from './traffic.js';

/** The server certificate's name and the SAS audience host. */
const HOSTNAME = 'localhost';

export interface SoakOptions {
  minutes: number;
  /** Telemetry messages a second; 1,000 by default. */
  rate?: number;
  /** How often the daemon is sampled; 10 s by default (reports show one sample a minute). */
  sampleSeconds?: number;
  /** Progress lines (one a sample); silent by default. */
  log?: (line: string) => void;
}

export interface SoakResult {
  date: string;
  parameters: {
    minutes: number;
    rate: number;
    payload_bytes: number;
    qos: 1;
    routes: typeof SOAK_ROUTES;
    upstream_ttl_secs: number;
    twin_patch_every_s: number;
    method_every_s: number;
    sample_seconds: number;
  };
  load_average: { before: number; after: number };
  duration_s: number;
  messages: {
    sent: number;
    acknowledged_by_hub: number;
    publish_errors: number;
    max_unacknowledged: number;
    expected_at_receiver: number;
    received: number;
    lost: number;
    first_lost: number[];
    duplicates: number;
    strangers: number;
    /** $upstream's accounting: routed there = held now + expired by TTL; `unaccounted` should be 0. */
    upstream: { routed: number; held: number; expired: number; unaccounted: number };
  };
  twin: { patches: number; accepted: number; failed: number; unanswered: number };
  methods: { calls: number; ok: number; failed: number; last_failure: string };
  disconnects: string[];
  daemon: {
    alive: boolean;
    exit_code: number | null;
    cpu_seconds: number;
    cpu_percent: number;
    peak_rss_mb: number;
  };
  generator_cpu_percent: number;
  rss: RssTrend;
  samples: SoakSample[];
  per_minute: SoakSample[];
}

const TWIN_EVERY_MS = 1000;
const METHOD_EVERY_MS = 5000;
const DRAIN_MS = 60_000;

/**
 * A soak: a real iotedged with the soak's deployment, `minutes` of load through its hub (see
 * Traffic), the daemon's memory and CPU sampled all along; then every message accounted for and
 * the daemon asked whether it is still alive. Stops and removes the daemon whatever happens.
 */
export async function runSoak(options: SoakOptions): Promise<SoakResult> {
  const rate = options.rate ?? 1000;
  const sampleSeconds = options.sampleSeconds ?? 10;
  const log = options.log ?? (() => undefined);
  const loadBefore = os.loadavg()[0]!;
  const daemon = new TestDaemon({}, [], HOSTNAME);
  const clients: MqttClient[] = [];
  let sampler: MemorySampler | undefined;
  let traffic: Traffic | undefined;
  try {
    await daemon.start();
    const deployed = await daemon.request('POST', '/deployment', soakManifest());
    if (deployed.status !== 200) throw new Error(`deployment failed: ${deployed.status} ${deployed.body}`);
    const hub = await hubEndpoint(daemon, [SENDER, RECEIVER], HOSTNAME);
    const port = await metricsPort(daemon);
    const credentials = new ModuleCredentials(daemon, HOSTNAME);
    // the tokens outlive the run: the hub closes a connection when its token expires
    const expiry = Math.floor(Date.now() / 1000) + options.minutes * 60 + 3600;
    for (const module of [SENDER, RECEIVER]) {
      const fields = {
        ...credentials.connectFields(module),
        password: credentials.token(module, { expiry }),
      };
      clients.push(await connect(hub, { ...fields, clean: false, keepalive: 60 }));
    }
    const callMethod: MethodCaller = async (methodName, payload) => {
      const response = await daemon.request('POST', '/methods', { target: RECEIVER, methodName, payload });
      if (response.status !== 200) throw new Error(`POST /methods: ${response.status} ${response.body}`);
      return JSON.parse(response.body) as { status: number; payload: unknown };
    };
    traffic = new Traffic(clients[0]!, clients[1]!, callMethod, {
      rate,
      twinEveryMs: TWIN_EVERY_MS,
      methodEveryMs: METHOD_EVERY_MS,
    });
    await traffic.prepare();

    const pid = daemon.process!.pid!;
    const load = traffic;
    sampler = new MemorySampler(pid, port, traffic, (sample) =>
      log(
        `${(sample.t_s / 60).toFixed(1)} min: RSS ${sample.rss_mb} MB (anonymous ${sample.rss_anon_mb}), ` +
          `sent ${sample.sent}, received ${sample.received}, upstream holds ${sample.upstream_held}, ` +
          `max latency ${sample.max_latency_ms} ms` +
          (load.disconnects.length ? `, disconnected: ${load.disconnects.join(', ')}` : ''),
      ),
    );
    const generatorBefore = process.cpuUsage();
    traffic.start();
    await sampler.start(sampleSeconds * 1000);
    const deadline = Date.now() + options.minutes * 60_000;
    while (Date.now() < deadline && daemon.process!.exitCode === null && traffic.disconnects.length === 0)
      await new Promise((resolve) => setTimeout(resolve, 1000));
    traffic.stop();
    const durationS = traffic.elapsedMs / 1000;
    const generatorUsage = process.cpuUsage(generatorBefore);
    await sampler.sample();
    sampler.stop();
    const cpuSeconds = sampler.cpuSeconds;
    await traffic.drain(DRAIN_MS);

    const alive = daemon.process!.exitCode === null && (await answers(daemon));
    const upstream = alive
      ? await upstreamAccount(port, traffic)
      : { routed: 0, held: 0, expired: 0, unaccounted: 0 };
    const peakRss = alive ? memory(pid).peakRss : Number.NaN;
    traffic.finish();
    const samples = sampler.samples;
    return {
      date: new Date().toISOString(),
      parameters: {
        minutes: options.minutes,
        rate,
        payload_bytes: PAYLOAD_BYTES,
        qos: 1,
        routes: SOAK_ROUTES,
        upstream_ttl_secs: UPSTREAM_TTL_SECS,
        twin_patch_every_s: TWIN_EVERY_MS / 1000,
        method_every_s: METHOD_EVERY_MS / 1000,
        sample_seconds: sampleSeconds,
      },
      load_average: { before: round(loadBefore), after: round(os.loadavg()[0]!) },
      duration_s: round(durationS, 1),
      messages: {
        sent: traffic.sent,
        acknowledged_by_hub: traffic.acknowledged,
        publish_errors: traffic.publishErrors,
        max_unacknowledged: traffic.maxUnacknowledged,
        expected_at_receiver: traffic.expectedAtReceiver,
        received: traffic.received.unique,
        lost: traffic.lost,
        first_lost: traffic.firstLost,
        duplicates: traffic.received.duplicates,
        strangers: traffic.strangers + traffic.received.foreign,
        upstream,
      },
      twin: {
        patches: traffic.twin.sent,
        accepted: traffic.twin.accepted,
        failed: traffic.twin.failed,
        unanswered: traffic.twinUnanswered,
      },
      methods: {
        calls: traffic.methods.calls,
        ok: traffic.methods.ok,
        failed: traffic.methods.failed,
        last_failure: traffic.methods.lastFailure,
      },
      disconnects: traffic.disconnects,
      daemon: {
        alive,
        exit_code: daemon.process!.exitCode,
        cpu_seconds: round(cpuSeconds, 1),
        cpu_percent: round((100 * cpuSeconds) / durationS, 1),
        peak_rss_mb: round(peakRss / 1e6),
      },
      generator_cpu_percent: round(
        (100 * (generatorUsage.user + generatorUsage.system)) / 1e6 / durationS,
        1,
      ),
      rss: rssTrend(samples, warmupSeconds(durationS)),
      samples,
      per_minute: perMinute(samples),
    };
  } finally {
    sampler?.stop();
    traffic?.stop();
    traffic?.finish();
    for (const client of clients) client.end(true);
    if (process.env.DEBUG_DAEMON) console.log(daemon.output);
    await daemon.cleanup();
  }
}

const round = (value: number, digits = 2) => Number(value.toFixed(digits));

/** Whether the daemon's management API still answers. */
async function answers(daemon: TestDaemon): Promise<boolean> {
  const response = await daemon.request('GET', '/modules').catch(() => undefined);
  return response?.status === 200;
}

/**
 * `$upstream`'s books from the hub's metrics: alerts acknowledged plus twin changes accepted went
 * there; each is still held or was dropped at its TTL. Twin change notifications expire with a
 * sender label of their own, so every ttl_expiry drop counts.
 */
async function upstreamAccount(port: number, traffic: Traffic) {
  const text = await scrapeMetrics(port);
  let routed = traffic.twin.accepted;
  for (let sequence = 0; sequence < traffic.sent; sequence++) if (goesUpstream(sequence)) routed++;
  const held = metricSum(text, 'edgehub_queue_length', { endpoint: '$upstream' });
  const expired = metricSum(text, 'edgehub_messages_dropped_total', { reason: 'ttl_expiry' });
  return { routed, held, expired, unaccounted: routed - held - expired };
}
