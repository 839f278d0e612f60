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
    return parsed.ok
      ? { ok: true, deviceId: parsed.identity.deviceId, moduleId: parsed.identity.moduleId }
      : { ok: false, reason: parsed.message };
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
