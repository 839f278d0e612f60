/**
 * A management backend for fuzzing the API in this process: the requests' bodies go through the
 * daemon's real parsers (deployment manifests, leaf devices), everything else answers with fixed
 * data. Anything a parser throws besides its documented error reaches the API as a 500.
 */
import { DeploymentError } from '../../../src/runtime/deployment/deployment-error.js';
import { parseDeviceDeployment } from '../../../src/runtime/deployment/device-deployment.js';
import { parseDeployment } from '../../../src/runtime/deployment/manifest.js';
import {
  ApiError,
  type ManagementBackend,
  type ModuleDetails,
} from '../../../src/runtime/daemon/management-types.js';
import { MessageTap } from '../../../src/runtime/hub/monitor/tap.js';
import { LeafDeviceInputError, parseNewLeafDevice } from '../../../src/runtime/hub/leaf-device-spec.js';
import type { LogLine, LogOptions } from '../../../src/runtime/modules/types.js';

const MODULE: ModuleDetails = {
  id: 'm1',
  name: 'm1',
  type: 'process',
  config: { settings: {}, env: [] },
  status: { runtimeStatus: { status: 'running' } },
};

function known(name: string): void {
  if (name !== 'm1') throw new ApiError(404, `Module not found: ${name}`);
}

async function* lines(options: LogOptions): AsyncIterable<LogLine> {
  const count = Math.min(options.tail ?? 3, 3);
  for (let index = 0; index < count; index++)
    yield { time: new Date(0), stream: 'stdout', text: `line ${index}` };
}

export function fakeBackend(): ManagementBackend {
  return {
    listModules: async () => [MODULE],
    getModule: async (name) => (known(name), MODULE),
    startModule: async (name) => (known(name), true),
    stopModule: async (name) => (known(name), false),
    restartModule: async (name) => known(name),
    moduleLogs: async (name, options) => (known(name), lines(options)),
    daemonLogs: async (options) => lines(options),
    listIdentities: async () => [],
    systemInfo: async () => ({ osType: 'linux' }),
    systemResources: async () => ({ host_uptime: 1 }),
    deploy: async (manifest) => {
      try {
        parseDeployment(manifest);
        return { code: 200, reported: { lastDesiredStatus: { code: 200 } } };
      } catch (error) {
        if (!(error instanceof DeploymentError)) throw error;
        return {
          code: error.code,
          reported: { lastDesiredStatus: { code: error.code, description: error.message } },
        };
      }
    },
    deploymentStatus: async () => ({}),
    deploymentSource: () => 'local',
    hubStatus: async () => {
      throw new ApiError(404, 'the Edge Hub is not running');
    },
    deployToDevice: async (deviceId, manifest) => {
      if (deviceId !== 'child-1') throw new ApiError(404, `no edge device ${deviceId} is registered here`);
      try {
        parseDeviceDeployment(manifest);
        return { deviceId, version: 2 };
      } catch (error) {
        if (!(error instanceof DeploymentError)) throw error;
        throw new ApiError(400, error.message);
      }
    },
    deviceDeploymentStatus: async (deviceId) => {
      if (deviceId !== 'child-1') throw new ApiError(404, `no edge device ${deviceId} is registered here`);
      return {};
    },
    hubReported: async () => ({}),
    hubQueues: async () => [],
    watchMessages: async () => new MessageTap().watch({ endpoint: '$upstream' }),
    reprovision: async () => {
      throw new ApiError(400, 'reprovisioning needs provisioning.source dps in config.yaml');
    },
    upstreamStatus: async () => ({ target: 'none', protocol: 'MQTT', connected: false, lastError: 'none' }),
    invokeMethod: async (call) => ({ status: 200, payload: call.payload ?? null }),
    listDevices: async () => [],
    addDevice: async (request) => {
      try {
        const device = parseNewLeafDevice(request, 'edge-1', new Date(0));
        return {
          deviceId: device.deviceId,
          authType: device.authentication.type === 'sas' ? 'Sas' : 'X509',
          createdTime: device.createdTime,
          connectionState: 'Disconnected',
          connectionString: `HostName=hub;DeviceId=${device.deviceId}`,
          gatewayHostName: 'edge-host',
        };
      } catch (error) {
        if (error instanceof LeafDeviceInputError) throw new ApiError(400, error.message);
        throw error;
      }
    },
    removeDevice: async (deviceId) => {
      throw new ApiError(404, `no leaf device ${deviceId}`);
    },
    sendCloudToDevice: async () => ({ messageId: 'id-1' }),
    patchDeviceDesired: async (deviceId) => ({ deviceId, version: 2 }),
  };
}
