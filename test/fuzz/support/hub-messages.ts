/** Random hub messages for route evaluation: JSON or other bodies in every encoding a sender may declare. */
import fc from 'fast-check';

import {
  SYSTEM_PROPERTY_NAMES,
  type HubMessage,
  type MessageSource,
} from '../../../src/runtime/routing/message.js';
import { nastyJson, nastyKey, nastyString } from './arbitraries.js';

const SOURCES: MessageSource[] = [
  '/messages',
  '/messages/modules/m1',
  '/messages/modules/m1/outputs/out1',
  '/messages/modules/M1/outputs/Out1',
  '/twinChangeNotifications',
];

const ENCODINGS = ['utf-8', 'UTF-8', ' utf-16 ', 'utf-32', 'utf-16', 'latin1', '', 'utf8'];
const CONTENT_TYPES = [
  'application/json',
  'application/JSON; charset=utf-8',
  'text/plain',
  '',
  ' application/json ',
];

function encode(text: string, encoding: string): Buffer {
  switch (encoding.trim().toLowerCase()) {
    case 'utf-16':
      return Buffer.from(text, 'utf16le');
    case 'utf-32': {
      const codePoints = [...text].map((char) => char.codePointAt(0)!);
      const buffer = Buffer.alloc(codePoints.length * 4);
      codePoints.forEach((code, index) => buffer.writeUInt32LE(code, index * 4));
      return buffer;
    }
    default:
      return Buffer.from(text, 'utf8');
  }
}

const body = fc.oneof(
  fc.record({ json: nastyJson, encoding: fc.constantFrom(...ENCODINGS) }).map(({ json, encoding }) => ({
    encoding,
    bytes: encode(JSON.stringify(json) ?? 'null', encoding),
  })),
  fc
    .record({ bytes: fc.uint8Array({ maxLength: 40 }), encoding: fc.constantFrom(...ENCODINGS) })
    .map(({ bytes, encoding }) => ({ encoding, bytes: Buffer.from(bytes) })),
);

export const hubMessage: fc.Arbitrary<HubMessage> = fc
  .record({
    body,
    contentType: fc.oneof(fc.constantFrom(...CONTENT_TYPES), nastyString(12)),
    properties: fc.array(fc.tuple(nastyKey, nastyString()), { maxLength: 5 }),
    system: fc.array(fc.tuple(fc.constantFrom(...SYSTEM_PROPERTY_NAMES), nastyString()), { maxLength: 4 }),
    source: fc.constantFrom(...SOURCES),
  })
  .map(({ body, contentType, properties, system, source }) => ({
    body: body.bytes,
    properties: Object.fromEntries(properties) as Record<string, string>,
    systemProperties: { ...Object.fromEntries(system), contentType, contentEncoding: body.encoding },
    source,
  }));
