import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { CONNECTION_STRING_PLACEHOLDER } from '../config/connection-string.js';
import { DEFAULT_CONFIG_FILE, type Settings } from '../config/settings.js';
import { packageVersion } from '../../version.js';
import { readBoundedText } from '../files/bounded-read.js';
import { FILE_LIMITS } from '../files/file-limits.js';
import { describeOsError } from '../files/os-error.js';
import type { EdgeCaService } from './edge-ca-service.js';
import type { HubService } from './hub-service.js';

const USAGE = `Usage: iotedged [-c|--config-file FILE]

Runs the IoT Edge daemon in the foreground: the Edge Agent and the management API.

Options:
  -c, --config-file FILE   config.yaml to use (default ${DEFAULT_CONFIG_FILE})
  -V, --version            print the version and exit
  -h, --help               print this help and exit
`;

/**
 * The exit status after DPS assigned another hub or device id: not 0, so that a service manager
 * that restarts the daemon on failure starts it again under the new identity (EX_TEMPFAIL).
 */
export const REASSIGNED_EXIT_CODE = 75;

interface Args {
  configFile: string;
}

function parseArgs(argv: string[]): Args | 'version' | 'help' {
  let configFile = DEFAULT_CONFIG_FILE;
  for (let index = 0; index < argv.length; index += 1) {
    const arg = argv[index];
    if (arg === '-V' || arg === '--version') return 'version';
    if (arg === '-h' || arg === '--help') return 'help';
    if (arg === '-c' || arg === '--config-file') {
      const value = argv[index + 1];
      if (!value) throw new Error(`${arg} needs a file`);
      configFile = value;
      index += 1;
    } else if (arg.startsWith('--config-file=')) {
      configFile = arg.slice('--config-file='.length);
    } else {
      throw new Error(`unknown argument "${arg}"`);
    }
  }
  return { configFile };
}

/** The management socket: listen.management_uri when it is a unix socket, else the connect one. */
async function managementSocket(settings: Settings): Promise<string> {
  const { socketPathOf } = await import('./management-server.js');
  const listen = settings.listen.management_uri;
  return listen.startsWith('unix:')
    ? socketPathOf(listen, 'listen.management_uri')
    : socketPathOf(settings.connect.management_uri, 'connect.management_uri');
}

/** A deployment named by the agent's own settings (IoT Edge's ConfigSource=local, LocalConfigPath). */
async function localDeployment(settings: Settings): Promise<unknown> {
  const env = settings.agent.env;
  if (env.ConfigSource?.toLowerCase() !== 'local' || !env.LocalConfigPath) return undefined;
  const text = await readBoundedText(env.LocalConfigPath, { maxBytes: FILE_LIMITS.manifest });
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new Error(`${env.LocalConfigPath}: not valid JSON (${(error as Error).message})`);
  }
}

export async function main(argv: string[]): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv);
  } catch (error) {
    process.stderr.write(`iotedged: ${(error as Error).message}\n\n${USAGE}`);
    return 1;
  }
  if (args === 'version') {
    process.stdout.write(`iotedged ${packageVersion()}\n`);
    return 0;
  }
  if (args === 'help') {
    process.stdout.write(USAGE);
    return 0;
  }

  const { tuneHeapForIdleDaemon } = await import('./heap-tuning.js');
  tuneHeapForIdleDaemon();
  const { loadConfig } = await import('../config/load.js');
  let settings: Settings;
  try {
    settings = await loadConfig(args.configFile, process.env);
  } catch (error) {
    process.stderr.write(`iotedged: ${(error as Error).message}\n`);
    return 1;
  }

  const [
    { Agent },
    { AgentStore },
    { ProcessRuntime },
    { startManagementServer },
    { DaemonBackend },
    identity,
    tuningEnv,
  ] = await Promise.all([
    import('../agent/agent.js'),
    import('../agent/store.js'),
    import('../modules/process/process-runtime.js'),
    import('./management-server.js'),
    import('./backend.js'),
    import('../identity/device-identity.js'),
    import('../agent/tuning-env.js'),
  ]);
  // As IoT Edge 1.1, a device whose config.yaml still holds the template's placeholder does not
  // start: it would run modules and listeners for an identity that does not exist.
  if (identity.manualConnectionString(settings) === CONNECTION_STRING_PLACEHOLDER) {
    process.stderr.write(
      `iotedged: ${args.configFile}: provisioning.device_connection_string is still ` +
        `${CONNECTION_STRING_PLACEHOLDER}: set the device's connection string (or another provisioning source) first\n`,
    );
    return 1;
  }
  let tuning;
  try {
    tuning = tuningEnv.tuningFromEnv(settings.agent.env);
  } catch (error) {
    process.stderr.write(`iotedged: ${args.configFile}: ${(error as Error).message}\n`);
    return 1;
  }

  try {
    await mkdir(settings.homedir, { recursive: true, mode: 0o755 });
  } catch (error) {
    process.stderr.write(
      `iotedged: ${args.configFile}: homedir ${settings.homedir} cannot be created: ${describeOsError(error)}\n`,
    );
    return 1;
  }
  const { lockHomedir } = await import('./homedir-lock.js');
  let unlockHomedir: () => Promise<void>;
  try {
    unlockHomedir = await lockHomedir(settings.homedir);
  } catch (error) {
    process.stderr.write(`iotedged: ${(error as Error).message}\n`);
    return 1;
  }
  // Every line goes to stderr and to <homedir>/logs/iotedged; the agent's and the hub's are tagged.
  const { DaemonLog, daemonLogDir } = await import('./daemon-log.js');
  const daemonLog = await DaemonLog.open({ dir: daemonLogDir(settings.homedir) });
  const log = (line: string) => daemonLog.line(line);
  const agentLog = daemonLog.component('agent');
  const hubLog = daemonLog.component('hub');
  const unlock = async () => {
    await daemonLog.close();
    await unlockHomedir();
  };
  const version = packageVersion();
  const runtime = new ProcessRuntime({ homedir: settings.homedir, log: agentLog });
  const { DockerRuntime } = await import('../modules/docker/docker-runtime.js');
  let deploymentCredentials = (): { address: string; username: string; password: string }[] => [];
  const { networkName } = await import('../config/settings.js');
  const configAuth = settings.agent.config.auth;
  // Created lazily on first use: a device without a container engine runs process modules only.
  const docker = new DockerRuntime({
    uri: settings.moby_runtime.uri,
    network: networkName(settings),
    homedir: settings.homedir,
    allowElevated: settings.allow_elevated_docker_permissions,
    credentials: (): { address: string; username: string; password: string }[] => [
      ...deploymentCredentials(),
      ...(configAuth?.serveraddress && configAuth.username && configAuth.password
        ? [
            {
              address: configAuth.serveraddress,
              username: configAuth.username,
              password: configAuth.password,
            },
          ]
        : []),
    ],
    log: agentLog,
  });
  let device = identity.deviceIdentity(settings);
  const stopGraceMs = Number(settings.agent.env.StopGracePeriodInSeconds ?? 10) * 1000;
  let provisioner: import('../provisioning/provisioner.js').DpsProvisioner | undefined;
  if (settings.provisioning.source === 'dps') {
    const [{ provisionAtStart }, { resetIdentityState }, socket] = await Promise.all([
      import('./dps-startup.js'),
      import('./identity-reset.js'),
      managementSocket(settings),
    ]);
    const provisioned = await provisionAtStart({
      settings,
      provisioning: settings.provisioning,
      socketPath: socket,
      version: packageVersion(),
      daemonLog,
      log,
    });
    if (provisioned.kind !== 'provisioned') {
      if (provisioned.kind === 'refused') process.stderr.write(`iotedged: ${provisioned.message}\n`);
      await Promise.all([runtime.close(), docker.close()]);
      await unlock();
      return provisioned.kind === 'refused' ? 1 : 0;
    }
    ({ provisioner } = provisioned);
    device = provisioned.result.identity;
    if (provisioned.result.changed) {
      await resetIdentityState({ homedir: settings.homedir, runtimes: [runtime, docker], stopGraceMs, log });
    }
  }
  const agentStore = new AgentStore(path.join(settings.homedir, 'agent'));
  const [hubService, { IOTHUB_WIRE }, edgeCaService, { WorkloadService }] = await Promise.all([
    import('./hub-service.js'),
    import('../hub/mqtt-head/iothub-wire.js'),
    import('./edge-ca-service.js'),
    import('./workload-service.js'),
  ]);
  const generationId = (module: string) => agentStore.lookup(module);
  // Set below: stops the daemon, clears the old identity's state and exits for the service manager to restart it.
  let restartReassigned = (): void => undefined;
  const { DpsReprovisioning, reprovisionOnRefusal } = await import('./reprovision.js');
  const reprovisioning = provisioner && new DpsReprovisioning(provisioner, () => restartReassigned());
  // The edge CA and the hub's server certificate are the daemon's: the workload API issues from it too.
  let edgeCa: EdgeCaService | undefined;
  let hub: HubService;
  try {
    edgeCa = await edgeCaService.EdgeCaService.create({ settings, log: hubLog });
    hub = await hubService.HubService.create({
      settings,
      device,
      generationId,
      wire: IOTHUB_WIRE,
      certificates: edgeCa,
      log: hubLog,
      ...(reprovisioning && settings.provisioning.dynamic_reprovisioning
        ? { onDeviceRefused: reprovisionOnRefusal(reprovisioning, log) }
        : {}),
    });
  } catch (error) {
    edgeCa?.close();
    process.stderr.write(`iotedged: ${(error as Error).message}\n`);
    await runtime.close();
    await unlock();
    return 1;
  }
  // Each deployed module's workload socket; one that leaves the deployment loses its hub connection too.
  const workloads = new WorkloadService({
    homedir: settings.homedir,
    device,
    generationId,
    edgeCa,
    onRemoved: (module) => hub.disconnectModule(module),
    log: hubLog,
  });
  const closeServices = async () => {
    await Promise.all([hub.close(), workloads.close()]);
    edgeCa.close();
  };
  const [{ DEFAULT_LIMITS }, { maxModuleNameBytes }] = await Promise.all([
    import('../deployment/manifest.js'),
    import('../workload/socket-layout.js'),
  ]);
  const agent = new Agent({
    runtimes: { process: runtime, docker },
    store: agentStore,
    onDeployment: async (deployment) => {
      await workloads.deploy(deployment.modules.map((spec) => spec.name));
      await hub.apply(deployment, agent.origin.source === 'upstream');
    },
    beforeCreate: (spec) => workloads.ensure(spec.name),
    hubStatus: () => hub.status,
    gatewayHostname: () => hub.gatewayHostname(),
    envContext: {
      deviceId: device.deviceId,
      iothubHostname: device.iothubHostname,
      gatewayHostname: settings.hostname,
      parentHostname: settings.parent_hostname,
      homedir: settings.homedir,
      workloadApiVersion: '2019-01-30',
      runtimeLogLevel: settings.agent.env.RuntimeLogLevel ?? 'info',
    },
    agentVersion: version,
    daemonVersion: version,
    agentImage: settings.agent.config.image,
    tuning,
    limits: {
      ...DEFAULT_LIMITS,
      maxModuleNameBytes: Math.min(DEFAULT_LIMITS.maxModuleNameBytes, maxModuleNameBytes(settings.homedir)),
    },
    stopGraceMs,
    configSource: () => localDeployment(settings),
    log: agentLog,
  });

  deploymentCredentials = () => agent.registryCredentials();

  let initial: unknown;
  try {
    initial = await localDeployment(settings);
  } catch (error) {
    log(`agent: could not read the local deployment: ${(error as Error).message}`);
  }

  const backend = new DaemonBackend(agent, settings, version, hub, daemonLog, reprovisioning);
  // The agent keeps no hub connection: its direct methods (`$edgeAgent`) are answered in-process,
  // restarting modules and reading logs as the management API does.
  const { agentMethodHandler } = await import('../agent/methods/agent-methods.js');
  const agentMethods = agentMethodHandler({
    target: {
      moduleNames: async () => (await backend.listModules()).map((module) => module.name),
      restartModule: (name) => backend.restartModule(name),
      moduleLogs: (name, options, signal) => backend.moduleLogs(name, options, signal),
    },
    source: { iothub: device.iothubHostname, device: device.deviceId },
    log: agentLog,
  });
  hub.serveMethods('$edgeAgent', agentMethods);

  let socketPath: string;
  let server: Awaited<ReturnType<typeof startManagementServer>>;
  try {
    socketPath = await managementSocket(settings);
    server = await startManagementServer(socketPath, backend, log);
  } catch (error) {
    process.stderr.write(`iotedged: ${(error as Error).message}\n`);
    await closeServices();
    await runtime.close();
    await unlock();
    return 1;
  }
  log(`iotedged ${version}: management API on unix://${socketPath}, homedir ${settings.homedir}`);
  await agent.start(initial);
  const upstreamManagement = settings.parent_hostname
    ? (await import('./managed-from-upstream.js')).manageFromUpstream({
        hub,
        agent,
        deviceId: device.deviceId,
        localConfigSource: settings.agent.env.ConfigSource?.toLowerCase() === 'local',
        agentMethods,
        log: agentLog,
      })
    : undefined;

  return new Promise<number>((resolve) => {
    let stopping = false;
    const stop = (signal: string, reassigned = false) => {
      if (stopping) return;
      stopping = true;
      log(
        reassigned
          ? 'iotedged: DPS assigned another hub or device id; stopping to restart under it'
          : `iotedged: ${signal} received, stopping modules`,
      );
      server.close();
      server.closeAllConnections();
      upstreamManagement?.close();
      agent
        .shutdown()
        .then(() => Promise.all([closeServices()]))
        .then(async () => {
          if (!reassigned) return;
          const { resetIdentityState } = await import('./identity-reset.js');
          await resetIdentityState({
            homedir: settings.homedir,
            runtimes: [runtime, docker],
            stopGraceMs,
            log,
          });
        })
        .then(() => Promise.all([runtime.close(), docker.close()]))
        .then(() => unlock())
        .then(
          () => resolve(reassigned ? REASSIGNED_EXIT_CODE : 0),
          (error: unknown) => {
            log(`iotedged: shutdown failed: ${String(error)}`);
            resolve(1);
          },
        );
    };
    restartReassigned = () => stop('reprovision', true);
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));
    process.on('SIGHUP', () => {
      // leaf devices edited by hand: those removed or given new credentials are disconnected
      hub.leafDevices.reload().then(
        (changed) => hub.devicesChanged(changed),
        (error: Error) => log(`hub: could not re-read the leaf devices: ${error.message}`),
      );
      localDeployment(settings)
        .then((document) => (document === undefined ? undefined : agent.deploy(document)))
        .catch((error: unknown) =>
          log(`agent: could not re-read the local deployment: ${(error as Error).message}`),
        );
    });
  });
}
