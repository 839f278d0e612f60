import path from 'node:path';

/**
 * Where the demo (`npm start`) keeps its state and which ports its hub listens on, so that two users
 * of one machine can each run one: `--dir`/IOTEDGE_DEMO_DIR and `--port-base`/IOTEDGE_DEMO_PORT_BASE,
 * by default /tmp/iotedge-ts-demo and 18000 (MQTT on 18883, HTTPS on 18443, metrics on 19600).
 */
export interface DemoLayout {
  dir: string;
  portBase: number;
}

export const DEFAULT_DEMO_DIR = '/tmp/iotedge-ts-demo';
export const DEFAULT_PORT_BASE = 18000;

/** The host ports of the hub's listeners for a port base. */
export function demoPorts(portBase: number): { mqtt: number; https: number; metrics: number } {
  return { mqtt: portBase + 883, https: portBase + 443, metrics: portBase + 1600 };
}

/** A path that goes into config.yaml unquoted and fits a unix socket path (108 bytes with the socket's name). */
const SAFE_DIR = /^\/[A-Za-z0-9._+/-]*$/;
const MAX_DIR_LENGTH = 80;

/** The layout from the command line (`--dir D`, `--port-base N`, also `--dir=D`) over the environment. */
export function demoLayout(argv: readonly string[], env: Record<string, string | undefined>): DemoLayout {
  const flags = new Map<string, string>();
  for (let index = 0; index < argv.length; index++) {
    const arg = argv[index]!;
    const match = /^--(dir|port-base)(?:=(.*))?$/.exec(arg);
    if (!match) throw new Error(`unknown argument "${arg}": the demo takes --dir DIR and --port-base N`);
    const value = match[2] ?? argv[++index];
    if (value === undefined) throw new Error(`--${match[1]} needs a value`);
    flags.set(match[1]!, value);
  }
  const dirText = flags.get('dir') ?? env.IOTEDGE_DEMO_DIR ?? DEFAULT_DEMO_DIR;
  const dirSource = flags.has('dir') ? '--dir' : 'IOTEDGE_DEMO_DIR';
  const dir = path.resolve(dirText);
  if (!SAFE_DIR.test(dir) || dir.length > MAX_DIR_LENGTH)
    throw new Error(
      `${dirSource}: "${dirText}" must be a path of at most ${MAX_DIR_LENGTH} characters made of letters, digits and ._+-/`,
    );
  const baseText = flags.get('port-base') ?? env.IOTEDGE_DEMO_PORT_BASE ?? String(DEFAULT_PORT_BASE);
  const baseSource = flags.has('port-base') ? '--port-base' : 'IOTEDGE_DEMO_PORT_BASE';
  const portBase = Number(baseText);
  if (!/^\d+$/.test(baseText) || portBase < 1024 || demoPorts(portBase).metrics > 65535)
    throw new Error(`${baseSource}: "${baseText}" must be a whole number from 1024 to ${65535 - 1600}`);
  return { dir, portBase };
}

/** The demo's config.yaml: the template's with the demo's directory, hostname and deployment file. */
export function demoConfigText(template: string, layout: DemoLayout, hostname: string): string {
  return [
    '# Made by `npm start` from contrib/config/config.yaml; made again at each start.\n',
    template
      .replaceAll(DEFAULT_DEMO_DIR, layout.dir)
      .replace(/^hostname: .*$/m, `hostname: ${hostname}`)
      .replace(/^(\s*LocalConfigPath:) .*$/m, `$1 ${path.join(layout.dir, 'deployment.json')}`),
  ].join('');
}

type Json = Record<string, unknown>;
const child = (value: unknown, key: string): Json | undefined => {
  const next = value && typeof value === 'object' ? (value as Json)[key] : undefined;
  return next && typeof next === 'object' ? (next as Json) : undefined;
};

/**
 * The demo's deployment: the template's, with the hub's host ports from the port base on `bindHost`,
 * and module program paths relative to the repository (`dist/src/demo/…`) made absolute under `root`
 * (a process module runs in its own directory).
 */
export function demoDeployment(
  template: unknown,
  layout: DemoLayout,
  root: string,
  bindHost: string,
): unknown {
  const manifest = structuredClone(template) as Json;
  const agent = child(child(child(manifest, 'modulesContent'), '$edgeAgent'), 'properties.desired');
  const settings = child(child(child(agent, 'systemModules'), 'edgeHub'), 'settings');
  if (settings && typeof settings.createOptions === 'string') {
    const ports = demoPorts(layout.portBase);
    const createOptions = JSON.parse(settings.createOptions) as Json;
    const hostConfig = (createOptions.HostConfig ??= {}) as Json;
    hostConfig.PortBindings = {
      '8883/tcp': [{ HostIp: bindHost, HostPort: String(ports.mqtt) }],
      '443/tcp': [{ HostIp: bindHost, HostPort: String(ports.https) }],
      '9600/tcp': [{ HostIp: bindHost, HostPort: String(ports.metrics) }],
    };
    settings.createOptions = JSON.stringify(createOptions);
  }
  for (const module of Object.values(child(agent, 'modules') ?? {})) {
    const moduleSettings = child(module, 'settings');
    if (child(module, 'settings') && Array.isArray(moduleSettings?.args))
      moduleSettings.args = moduleSettings.args.map((arg: unknown) =>
        typeof arg === 'string' && arg.startsWith('dist/') ? path.join(root, arg) : arg,
      );
  }
  return manifest;
}

/** Whether an address is on the loopback interface (127.0.0.0/8 or ::1). */
export const isLoopback = (address: string): boolean => /^127\./.test(address) || address === '::1';
