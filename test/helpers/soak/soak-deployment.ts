import { hubPorts, manifest, nodeModule, type TestDaemon } from '../daemon.js';
import { eventually } from '../daemon.js';

/** The two module identities the load generator connects as (their processes only sleep). */
export const SENDER = 'sender';
export const RECEIVER = 'receiver';
export const OUTPUT = 'out1';
export const INPUT = 'in1';
/** How long `$upstream` keeps a message: long enough to hold thousands, short enough to reach a plateau. */
export const UPSTREAM_TTL_SECS = 30;

/**
 * What the sender marks each message as, by its sequence number, which decides its routes:
 * `reading` (9 in 10) goes to the receiver; `alert` (1 in 10) to the receiver and to `$upstream`;
 * `debug` (1 in 100) matches no route and is dropped by the hub.
 */
export type MessageKind = 'reading' | 'alert' | 'debug';

export function kindOf(sequence: number): MessageKind {
  if (sequence % 100 === 99) return 'debug';
  return sequence % 10 === 0 ? 'alert' : 'reading';
}

export const reachesReceiver = (sequence: number): boolean => kindOf(sequence) !== 'debug';
export const goesUpstream = (sequence: number): boolean => kindOf(sequence) === 'alert';

const FROM_SENDER = `FROM /messages/modules/${SENDER}/outputs/${OUTPUT}`;

/** The `$edgeHub` routes: both endpoint kinds, conditions on an application property, twin changes. */
export const SOAK_ROUTES = {
  toReceiver: `${FROM_SENDER} WHERE kind = 'reading' OR kind = 'alert' INTO BrokeredEndpoint("/modules/${RECEIVER}/inputs/${INPUT}")`,
  alertsUpstream: {
    route: `${FROM_SENDER} WHERE kind = 'alert' INTO $upstream`,
    priority: 1,
    timeToLiveSecs: UPSTREAM_TTL_SECS,
  },
  twinChanges: {
    route: 'FROM /twinChangeNotifications INTO $upstream',
    priority: 2,
    timeToLiveSecs: UPSTREAM_TTL_SECS,
  },
};

/** The soak's deployment: the two modules, the routes, and the hub's metrics on a loopback port. */
export function soakManifest() {
  const document = manifest({
    [RECEIVER]: nodeModule('sleeper.js', ['600000']),
    [SENDER]: nodeModule('sleeper.js', ['600000'], { startupOrder: 1 }),
  });
  const desired = document.modulesContent.$edgeAgent['properties.desired'];
  desired.systemModules.edgeHub.settings.createOptions = hubPorts(0, 0, 0);
  document.modulesContent.$edgeHub['properties.desired'].routes = SOAK_ROUTES as never;
  return document;
}

/** The port of the hub's Prometheus endpoint, from the edgeHub status description. */
export function metricsPort(daemon: TestDaemon): Promise<number> {
  return eventually(async () => {
    const status = await daemon.json<{ systemModules?: { edgeHub?: { statusDescription?: string } } }>(
      'GET',
      '/deployment/status',
    );
    const match = /metrics on [\d.]+:(\d+)/.exec(status.systemModules?.edgeHub?.statusDescription ?? '');
    return match ? Number(match[1]) : undefined;
  }, 'the hub to serve its metrics');
}
