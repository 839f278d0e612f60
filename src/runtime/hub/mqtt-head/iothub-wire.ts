import { parseConnectIdentity } from '../mqtt/connect-identity.js';
import {
  c2dTopic,
  classifyPublish,
  classifySubscribe,
  desiredPatchTopic,
  inputMessageTopic,
  methodRequestTopic,
  twinResponseTopic,
} from '../mqtt/topics.js';
import type { Wire } from './wire.js';

/** IoT Hub's MQTT mapping, as the Azure IoT device SDKs speak it. */
export const IOTHUB_WIRE: Wire = {
  connect(clientId, username) {
    const parsed = parseConnectIdentity(clientId, username);
    if (!parsed.ok) return { ok: false, reason: parsed.message };
    const { deviceId, moduleId, authChain } = parsed.identity;
    return { ok: true, deviceId, moduleId, ...(authChain === undefined ? {} : { authChain }) };
  },
  publish: (topic, payload, identity) => classifyPublish(identity, topic, payload),
  subscribe: (filter, identity) => classifySubscribe(identity, filter),
  input: (identity, inputName, message) =>
    inputMessageTopic(identity.deviceId, identity.moduleId ?? '', inputName, message),
  c2d: (identity, message) => c2dTopic(identity.deviceId, message),
  desiredPatch: desiredPatchTopic,
  methodRequest: methodRequestTopic,
  twinResponse: twinResponseTopic,
};
