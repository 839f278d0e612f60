/**
 * MQTT packets for a live hub: CONNECTs with random or edited client ids, usernames and tokens
 * (well framed, or with bytes flipped), and packets a connected client sends, edited.
 */
import fc from 'fast-check';

import { connectPacket, subscribePacket } from '../../helpers/mqtt-client.js';
import { nastyString, textOf } from './arbitraries.js';
import { publishPacket } from './mqtt-probe.js';
import { applyByteEdits, applyTextEdits, byteEdits, textEdits } from './mutations.js';

export interface ConnectFields {
  clientId: string;
  username?: string;
  password?: string;
}

/** A well-framed CONNECT: its fields are what the hub judges. */
export function connectFields(
  good: Required<ConnectFields>,
  wrongKeyToken: string,
): fc.Arbitrary<ConnectFields> {
  const edited = (text: string) =>
    textEdits(
      fc.oneof(fc.constantFrom('/', '?', '&', '=', '%', 'api-version=', 'modules', ' '), nastyString(3)),
    ).map((edits) => applyTextEdits(text, edits));
  return fc.record(
    {
      clientId: fc.oneof(fc.constant(good.clientId), edited(good.clientId), nastyString(20)),
      username: fc.oneof(
        fc.constant(good.username),
        edited(good.username),
        textOf(good.username.split(/(?=[/?&])/), 6),
      ),
      password: fc.oneof(
        fc.constant(good.password),
        edited(good.password),
        fc.constant(wrongKeyToken),
        nastyString(40),
      ),
    },
    { requiredKeys: ['clientId'] },
  );
}

/** A CONNECT with bytes flipped, inserted or cut: signed with a key the hub does not know, so no secret. */
export function editedConnect(fields: Required<ConnectFields>): fc.Arbitrary<Buffer> {
  return byteEdits.map((edits) => applyByteEdits(connectPacket(fields), edits));
}

/** What a connected module sends: telemetry, twin requests, subscriptions; some with bytes edited. */
export function sessionPackets(deviceId: string, moduleId: string): fc.Arbitrary<Buffer[]> {
  const own = `devices/${deviceId}/modules/${moduleId}`;
  const packet = fc.oneof(
    fc.constant(
      publishPacket(
        `${own}/messages/events/%24.ct=application%2Fjson&%24.ce=utf-8&a=1`,
        Buffer.from('{"t":1}'),
      ),
    ),
    fc.constant(publishPacket('$iothub/twin/GET/?$rid=1', Buffer.alloc(0))),
    fc.constant(
      publishPacket('$iothub/twin/PATCH/properties/reported/?$rid=2', Buffer.from('{"x":{"y":[1,2]}}')),
    ),
    fc.constant(publishPacket('$iothub/methods/res/200/?$rid=3', Buffer.from('{}'))),
    fc.constant(subscribePacket(`${own}/#`)),
    fc.constant(subscribePacket('$iothub/twin/res/#')),
    fc.uint8Array({ minLength: 1, maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
  );
  return fc.array(
    fc
      .tuple(packet, fc.option(byteEdits, { nil: undefined }))
      .map(([bytes, edits]) => (edits === undefined ? bytes : applyByteEdits(bytes, edits))),
    { minLength: 1, maxLength: 4 },
  );
}
