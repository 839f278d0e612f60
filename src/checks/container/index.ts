import type { CheckDefinition } from '../types.js';
import {
  containerDefaultConnectIothubAmqpCheck,
  containerDefaultConnectIothubHttpsCheck,
  containerDefaultConnectIothubMqttCheck,
  containerModuleConnectIothubAmqpCheck,
  containerModuleConnectIothubHttpsCheck,
  containerModuleConnectIothubMqttCheck,
} from './connect-iothub.js';
import {
  containerEngineDnsCheck,
  containerEngineIpv6Check,
  containerEngineLogrotateCheck,
} from './daemon-config.js';
import { containerEngineIsMobyCheck, containerEngineUriCheck, windowsHostVersionCheck } from './engine.js';
import { edgeHubHostPortsCheck } from './host-ports.js';
import { containerLocalTimeCheck } from './local-time.js';
import { connectManagementUriCheck } from './management-uri.js';
import { edgeAgentStorageMountedCheck, edgeHubStorageMountedCheck } from './storage.js';

/** Every check that talks to (or about) the container engine; the catalog decides their order. */
export const CONTAINER_CHECKS: readonly CheckDefinition[] = [
  containerEngineUriCheck,
  windowsHostVersionCheck,
  connectManagementUriCheck,
  containerLocalTimeCheck,
  containerEngineDnsCheck,
  containerEngineIpv6Check,
  containerEngineIsMobyCheck,
  containerEngineLogrotateCheck,
  edgeAgentStorageMountedCheck,
  edgeHubStorageMountedCheck,
  edgeHubHostPortsCheck,
  containerDefaultConnectIothubAmqpCheck,
  containerDefaultConnectIothubHttpsCheck,
  containerDefaultConnectIothubMqttCheck,
  containerModuleConnectIothubAmqpCheck,
  containerModuleConnectIothubHttpsCheck,
  containerModuleConnectIothubMqttCheck,
];
