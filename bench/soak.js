#!/usr/bin/env node
// Soak: a real iotedged carrying 1,000 msg/s QoS 1 through its routes (module → condition → module,
// and to $upstream) for an hour, with a reported patch every second and a direct method every five,
// while its RSS is sampled; then every message is accounted for. The figure that matters is the
// slope of RSS after the warm-up, in MB per hour: flat means nothing grows with traffic or time.
// The driver is shared with the CI test (test/soak/soak.test.ts, five minutes).
//
// Usage: npm run build && node bench/soak.js [--minutes 60] [--rate 1000] [--sample-seconds 10]
//          (writes bench/results/soak.{json,md}; --no-write only prints)
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { runSoak } from '../dist/test/helpers/soak/driver.js';
import { machine, resultsFile, writeMarkdownKeepingFindings } from './lib.js';

const { values: flags } = parseArgs({
  options: {
    minutes: { type: 'string', default: '60' },
    rate: { type: 'string', default: '1000' },
    'sample-seconds': { type: 'string', default: '10' },
    'no-write': { type: 'boolean', default: false },
  },
});

const fmt = (value) => (Number.isFinite(value) ? value.toLocaleString('en-US') : '–');
const signed = (value, digits = 1) => `${value >= 0 ? '+' : ''}${value.toFixed(digits)}`;

function markdown(result) {
  const m = result.machine;
  const p = result.parameters;
  const msg = result.messages;
  const up = msg.upstream;
  const minutes = (result.duration_s / 60).toFixed(1);
  const routes = Object.entries(p.routes)
    .map(([name, route]) => {
      const text = typeof route === 'string' ? route : route.route;
      const extra =
        typeof route === 'string' ? '' : ` (priority ${route.priority}, TTL ${route.timeToLiveSecs} s)`;
      return `- \`${name}\`: \`${text}\`${extra}`;
    })
    .join('\n');
  const rows = result.per_minute
    .map(
      (s) =>
        `| ${(s.t_s / 60).toFixed(1)} | ${s.rss_mb} | ${s.rss_anon_mb} | ${fmt(s.sent)} | ${fmt(s.received)} | ` +
        `${fmt(s.upstream_held)} | ${s.max_latency_ms} |`,
    )
    .join('\n');
  return (
    `# Soak: iotedged at ${fmt(p.rate)} msg/s for ${minutes} minutes\n\n` +
    `${result.date}. Run with \`npm run build && node bench/soak.js --minutes ${p.minutes}\` ` +
    '(the CI test test/soak/soak.test.ts runs the same driver for five minutes).\n\n' +
    `Machine: ${m.cpu}, ${m.cores} cores, ${m.memory_gib} GiB, Node ${m.node}, ${m.platform}; ` +
    `load average ${result.load_average.before} before the run, ${result.load_average.after} after ` +
    '(a machine shared with other work).\n\n' +
    '## Figures\n\n' +
    '| figure | value |\n|---|---:|\n' +
    `| duration | ${minutes} min |\n` +
    `| telemetry messages sent (QoS 1, ${p.payload_bytes} bytes) | ${fmt(msg.sent)} |\n` +
    `| acknowledged by the hub | ${fmt(msg.acknowledged_by_hub)} |\n` +
    `| expected at the receiver / received | ${fmt(msg.expected_at_receiver)} / ${fmt(msg.received)} |\n` +
    `| **lost** | **${fmt(msg.lost)}** |\n` +
    `| **duplicated** | **${fmt(msg.duplicates)}** |\n` +
    `| routed to \`$upstream\` / held at the end / expired by TTL / unaccounted | ${fmt(up.routed)} / ` +
    `${fmt(up.held)} / ${fmt(up.expired)} / **${fmt(up.unaccounted)}** |\n` +
    `| reported patches accepted / sent | ${fmt(result.twin.accepted)} / ${fmt(result.twin.patches)} |\n` +
    `| direct methods answered / called | ${fmt(result.methods.ok)} / ${fmt(result.methods.calls)} |\n` +
    `| connections dropped | ${result.disconnects.length} |\n` +
    `| daemon alive at the end | ${result.daemon.alive ? 'yes' : '**no**'} |\n` +
    `| **RSS slope** (after ${(result.rss.fitted_from_s / 60).toFixed(1)} min of warm-up, ${result.rss.fitted_samples} samples) | ` +
    `**${signed(result.rss.rss_mb_per_hour)} MB/hour** |\n` +
    `| anonymous RSS slope | ${signed(result.rss.rss_anon_mb_per_hour)} MB/hour |\n` +
    `| daemon peak RSS | ${result.daemon.peak_rss_mb} MB |\n` +
    `| daemon CPU | ${result.daemon.cpu_percent}% of a core (${result.daemon.cpu_seconds} s) |\n` +
    `| load generator CPU | ${result.generator_cpu_percent}% of a core |\n` +
    `| most messages awaiting the hub's PUBACK at once | ${fmt(msg.max_unacknowledged)} |\n\n` +
    '## What runs\n\n' +
    'One load generator process (mqtt.js 4.3.8, as the Azure IoT SDK uses it) connects over TLS as the ' +
    'modules `sender` and `receiver` of a real iotedged (their process modules only sleep). The sender ' +
    `publishes ${fmt(p.rate)} msg/s on its output \`out1\`, numbered, with the application property ` +
    '`kind`: `reading` (9 in 10), `alert` (1 in 10, also to `$upstream`), `debug` (1 in 100, no route: ' +
    'the hub drops it). The routes:\n\n' +
    `${routes}\n\n` +
    `Every ${p.twin_patch_every_s} s the sender patches its reported properties (routed as a twin change ` +
    `notification), every ${p.method_every_s} s \`POST /methods\` on the management API calls a method the ` +
    "receiver answers; the hub's Prometheus endpoint is scraped at each sample. `$upstream` has no " +
    'upstream yet: it holds messages until their TTL. Losses and duplicates are counted by sequence ' +
    "number at the receiver; `$upstream`'s books come from the hub's metrics (held + expired = routed).\n\n" +
    `RSS and its anonymous part (\`/proc/PID/status\` VmRSS, RssAnon; MB = 10^6 bytes) of the daemon ` +
    `process alone are sampled every ${p.sample_seconds} s; the slope is the least-squares line over the ` +
    'samples after the warm-up (the first 10% of the run, at least two minutes: V8 heap growth, JIT, ' +
    "`$upstream` filling to its TTL's plateau). A leak of 100 bytes per message would be +360 MB/hour.\n\n" +
    '## One sample a minute\n\n' +
    '| minute | RSS MB | anonymous MB | sent | received | `$upstream` holds | max latency ms |\n' +
    '|---:|---:|---:|---:|---:|---:|---:|\n' +
    `${rows}\n` +
    (msg.first_lost.length ? `\nFirst lost sequence numbers: ${msg.first_lost.join(', ')}.\n` : '') +
    (result.disconnects.length ? `\nConnections dropped: ${result.disconnects.join('; ')}.\n` : '') +
    (result.methods.last_failure ? `\nLast method failure: ${result.methods.last_failure}.\n` : '')
  );
}

const result = await runSoak({
  minutes: Number(flags.minutes),
  rate: Number(flags.rate),
  sampleSeconds: Number(flags['sample-seconds']),
  log: (line) => console.log(line),
});
const report = { ...result, machine: machine() };
const { samples, per_minute: _perMinute, ...summary } = report;
console.log(JSON.stringify({ ...summary, samples: samples.length }, null, 2));
if (!flags['no-write']) {
  writeFileSync(resultsFile('soak.json'), JSON.stringify(report, null, 2) + '\n');
  writeMarkdownKeepingFindings(resultsFile('soak.md'), markdown(report));
}
