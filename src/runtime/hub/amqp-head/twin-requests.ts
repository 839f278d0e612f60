import { bodyBytes } from './cbs.js';
import type { AmqpIdentity } from './identity-proxy.js';
import type { AmqpMessage } from './message-map.js';

/**
 * A twin request on an identity's twin link, as IoT Hub answers it: annotations `operation` (GET,
 * PATCH, PUT, DELETE) and `resource`, the answer on the identity's twin link with the correlation
 * id the request carried and IoT Hub's `status` (and, for a reported patch, `version`).
 */
export async function answerTwinRequest(identity: AmqpIdentity, message: AmqpMessage): Promise<void> {
  const annotations = message.message_annotations ?? {};
  const operation = annotations.operation;
  const resource = annotations.resource;
  const correlationId = message.correlation_id;
  const session = identity.session;
  if (operation === 'GET') {
    const reply = await session.getTwin();
    return identity.sendTwinResponse(correlationId, reply.status, reply.body);
  }
  if (operation === 'PATCH' && resource === '/properties/reported') {
    const reply = await session.patchReported(bodyBytes(message.body) ?? Buffer.alloc(0));
    return identity.sendTwinResponse(correlationId, reply.status, reply.body, reply.version);
  }
  if (
    resource === '/notifications/twin/properties/desired' &&
    (operation === 'PUT' || operation === 'DELETE')
  ) {
    if (operation === 'DELETE') {
      session.unsubscribe(['desired']);
      return identity.sendTwinResponse(correlationId, 200, undefined);
    }
    const ok = await session.subscribe('desired');
    return identity.sendTwinResponse(correlationId, ok ? 200 : 500, undefined);
  }
  identity.sendTwinResponse(correlationId, 400, {
    errorCode: 400027,
    message: `unsupported twin operation ${JSON.stringify(operation)} on ${JSON.stringify(resource)}`,
  });
}
