import https from 'node:https';
import { createRequire } from 'node:module';
import tls from 'node:tls';

import provisioningDevice from 'azure-iot-provisioning-device';
import provisioningHttp from 'azure-iot-provisioning-device-http';
import provisioningMqtt from 'azure-iot-provisioning-device-mqtt';
import symmetricKey from 'azure-iot-security-symmetric-key';
import x509Security from 'azure-iot-security-x509';

import type { DpsTransport } from '../config/settings.js';
import { DPS_HTTPS_PORT, DPS_MQTT_PORT, hostWithPort, type DpsEndpoint } from './dps-endpoint.js';

/** What the device proves itself with: a symmetric key (base64) or an X.509 certificate and key (PEM). */
export type DpsCredentials =
  { kind: 'symmetric_key'; key: string } | { kind: 'x509'; cert: string; key: string };

export interface DpsRegistration {
  endpoint: DpsEndpoint;
  scopeId: string;
  registrationId: string;
  credentials: DpsCredentials;
  transport: DpsTransport;
  /** Extra CAs (PEM) trusted besides the OS's, for a DPS behind a private CA. */
  trustedCaPem?: string;
}

/** DPS's answer: the hub the device belongs to and its device id there. */
export interface DpsAssignment {
  assignedHub: string;
  deviceId: string;
}

/** The parts of the transports' base classes used here (their packages ship them untyped for this use). */
interface HttpBase {
  setOptions(options: { ca?: string | string[]; http?: { agent?: https.Agent } }): void;
}
interface MqttBase {
  setOptions(options: { ca?: string | string[] }): void;
}

// CommonJS packages: their classes are properties of the default export.
const { ProvisioningDeviceClient } = provisioningDevice;
const { Http } = provisioningHttp;
const { Mqtt } = provisioningMqtt;
const { SymmetricKeySecurityClient } = symmetricKey;
const { X509Security } = x509Security;
type Http = InstanceType<typeof Http>;
type Mqtt = InstanceType<typeof Mqtt>;

// The transports' own copies of their base packages: options set on them reach the sockets the
// transports open (CA, port), without patching the SDK.
const requireFromHttp = createRequire(
  createRequire(import.meta.url).resolve('azure-iot-provisioning-device-http'),
);
const requireFromMqtt = createRequire(
  createRequire(import.meta.url).resolve('azure-iot-provisioning-device-mqtt'),
);

function trustedCas(extra: string | undefined): string[] {
  return extra === undefined || extra === '' ? [...tls.rootCertificates] : [...tls.rootCertificates, extra];
}

/**
 * The HTTPS transport: the SDK sends to the host alone (port 443), so an agent carries the
 * endpoint's port as its default port, and the trusted CAs.
 */
function httpTransport(registration: DpsRegistration): { transport: Http; host: string } {
  const { Http: HttpBaseClass } = requireFromHttp('azure-iot-http-base') as {
    Http: new () => HttpBase;
  };
  const base = new HttpBaseClass();
  const ca = trustedCas(registration.trustedCaPem);
  const agent = new https.Agent({ keepAlive: false, ca });
  // node's https agent sets its default port to 443 when built; requests without a port use it
  Object.assign(agent, { defaultPort: registration.endpoint.port });
  base.setOptions({ ca, http: { agent } });
  return { transport: new Http(base as never), host: registration.endpoint.host };
}

/**
 * The MQTT transport dials `mqtts://{host}`: the host carries the port when the endpoint names one
 * (a `global_endpoint` with its own port serves both transports there), else DPS's MQTT port.
 */
function mqttTransport(registration: DpsRegistration): { transport: Mqtt; host: string } {
  const { MqttBase: MqttBaseClass } = requireFromMqtt('azure-iot-mqtt-base') as {
    MqttBase: new () => MqttBase;
  };
  const base = new MqttBaseClass();
  base.setOptions({ ca: trustedCas(registration.trustedCaPem) });
  const { host, port } = registration.endpoint;
  const mqttPort = port === DPS_HTTPS_PORT ? DPS_MQTT_PORT : port;
  return { transport: new Mqtt(base as never), host: hostWithPort(host, mqttPort) };
}

/** One registration through the official provisioning SDK; rejects with the SDK's error. */
export async function registerWithDps(registration: DpsRegistration): Promise<DpsAssignment> {
  const { transport, host } =
    registration.transport === 'mqtt' ? mqttTransport(registration) : httpTransport(registration);
  const { credentials, registrationId, scopeId } = registration;
  const security =
    credentials.kind === 'symmetric_key'
      ? new SymmetricKeySecurityClient(registrationId, credentials.key)
      : new X509Security(registrationId, { cert: credentials.cert, key: credentials.key });
  const client = ProvisioningDeviceClient.create(host, scopeId, transport as never, security as never);
  const result = (await client.register()) as { assignedHub?: string; deviceId?: string } | undefined;
  if (!result?.assignedHub || !result.deviceId) {
    throw new Error('DPS answered "assigned" without an assigned hub and device id');
  }
  return { assignedHub: result.assignedHub, deviceId: result.deviceId };
}
