/**
 * The IoT Hub MQTT property bag: the last topic segment, `k=v&k2=v2`, keys and values
 * percent-encoded (RFC 2396 unreserved characters kept, `$` as `%24`, space as `%20`, never `+`).
 */
import type { HubMessage, SystemProperties, SystemPropertyName } from '../../routing/message.js';

/** Wire keys a client may send that are system properties, not application properties. */
const INBOUND_SYSTEM_KEYS: ReadonlyMap<string, SystemPropertyName> = new Map([
  ['$.mid', 'messageId'],
  ['$.cid', 'correlationId'],
  ['$.to', 'to'],
  ['$.uid', 'userId'],
  ['$.ct', 'contentType'],
  ['$.ce', 'contentEncoding'],
  ['$.exp', 'absoluteExpiryTime'],
  ['$.on', 'outputName'],
  ['$.schema', 'messageSchema'],
  ['$.ctime', 'creationTime'],
  ['$.ifid', 'interfaceId'],
  ['$.sub', 'componentName'],
  ['iothub-operation', 'operation'],
  ['ack', 'ack'],
]);

/** The same keys as clients usually write them (`%24.mid`), to skip decoding on the hot path. */
const INBOUND_SYSTEM_KEYS_ENCODED: ReadonlyMap<string, SystemPropertyName> = new Map([
  ...INBOUND_SYSTEM_KEYS,
  ...[...INBOUND_SYSTEM_KEYS].map(([key, name]) => [encodeURIComponent(key), name] as const),
]);

/** System properties the hub writes into the bags it sends to clients, in this order. */
const OUTBOUND_SYSTEM_KEYS: readonly (readonly [SystemPropertyName, string])[] = [
  ['messageId', '$.mid'],
  ['correlationId', '$.cid'],
  ['to', '$.to'],
  ['userId', '$.uid'],
  ['contentType', '$.ct'],
  ['contentEncoding', '$.ce'],
  ['absoluteExpiryTime', '$.exp'],
  ['messageSchema', '$.schema'],
  ['creationTime', '$.ctime'],
  ['connectionDeviceId', '$.cdid'],
  ['connectionModuleId', '$.cmid'],
  ['componentName', '$.sub'],
  ['operation', 'iothub-operation'],
  ['ack', 'ack'],
];

/** A table of system property keys looked up by wire key, and with its keys URI-encoded. */
function keyTable(keys: readonly (readonly [SystemPropertyName, string])[]) {
  return {
    byWireKey: new Map(keys.map(([name, key]) => [key, name])) as ReadonlyMap<string, SystemPropertyName>,
    encoded: keys.map(([name, key]) => [name, encodeURIComponent(key)] as const),
  };
}

const { byWireKey: OUTBOUND_BY_WIRE_KEY, encoded: ENCODED_OUTBOUND_KEYS } = keyTable(OUTBOUND_SYSTEM_KEYS);

/**
 * System properties a device writes into the bag of its own telemetry, as the SDKs do: what a hub
 * sending upstream on behalf of the message's origin keeps. The connection ids are not among them:
 * the receiving hub sets those from the identity that connected.
 */
const UPSTREAM_SYSTEM_KEYS: readonly (readonly [SystemPropertyName, string])[] = [
  ['messageId', '$.mid'],
  ['correlationId', '$.cid'],
  ['to', '$.to'],
  ['userId', '$.uid'],
  ['contentType', '$.ct'],
  ['contentEncoding', '$.ce'],
  ['absoluteExpiryTime', '$.exp'],
  ['outputName', '$.on'],
  ['messageSchema', '$.schema'],
  ['creationTime', '$.ctime'],
  ['interfaceId', '$.ifid'],
  ['componentName', '$.sub'],
];

const { byWireKey: UPSTREAM_BY_WIRE_KEY, encoded: ENCODED_UPSTREAM_KEYS } = keyTable(UPSTREAM_SYSTEM_KEYS);

const ESCAPE_RUN = /(?:%[0-9A-Fa-f]{2})+/g;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

export interface DecodedPropertyBag {
  properties: Record<string, string>;
  systemProperties: SystemProperties;
}

/**
 * Percent-decodes like .NET's Uri.UnescapeDataString: a malformed escape (`%zz`, a stray `%`, bytes
 * that are not UTF-8) is kept as written instead of failing the whole message.
 */
export function percentDecode(text: string): string {
  if (text.indexOf('%') === -1) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    return text.replace(ESCAPE_RUN, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

/** encodeURIComponent, except that a lone surrogate becomes U+FFFD instead of throwing. */
export function percentEncode(text: string): string {
  try {
    return encodeURIComponent(text);
  } catch {
    return encodeURIComponent(text.replace(LONE_SURROGATE, '\uFFFD'));
  }
}

/** Sets a key even when it is `__proto__`, which a plain assignment would swallow. */
export function setOwn(target: Record<string, string>, key: string, value: string): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * Decodes the bag in `text[start, end)`. Pairs without `=` get an empty value; empty pairs are
 * skipped; a repeated key keeps its last value. `+` is a plus sign, not a space.
 */
export function decodePropertyBag(text: string, start = 0, end = text.length): DecodedPropertyBag {
  const properties: Record<string, string> = {};
  const systemProperties: SystemProperties = {};
  let pos = start;
  while (pos < end) {
    let amp = text.indexOf('&', pos);
    if (amp === -1 || amp > end) amp = end;
    if (amp > pos) {
      let eq = text.indexOf('=', pos);
      if (eq === -1 || eq > amp) eq = amp;
      const rawKey = text.slice(pos, eq);
      const value = eq < amp ? percentDecode(text.slice(eq + 1, amp)) : '';
      let system = INBOUND_SYSTEM_KEYS_ENCODED.get(rawKey);
      if (system !== undefined) {
        systemProperties[system] = value;
      } else {
        const key = percentDecode(rawKey);
        system = INBOUND_SYSTEM_KEYS.get(key);
        if (system !== undefined) systemProperties[system] = value;
        else setOwn(properties, key, value);
      }
    }
    pos = amp + 1;
  }
  return { properties, systemProperties };
}

/**
 * The bag of a message sent to a client: application properties, then the system properties the
 * clients know. An application property spelt like a system key that is also set (say `$.cdid`)
 * is left out, so a sender cannot spoof who sent the message. Every pair has an `=` (the Node SDK
 * reads a bare key's value as the text "undefined").
 */
export function encodePropertyBag(message: Pick<HubMessage, 'properties' | 'systemProperties'>): string {
  return encodeBag(message, OUTBOUND_BY_WIRE_KEY, ENCODED_OUTBOUND_KEYS);
}

/**
 * The bag of a message a hub sends upstream (to IoT Hub or a parent edge device) on behalf of its
 * origin: application properties, then the system properties a device sends itself, the output
 * name of a module's message (`$.on`) included.
 */
export function encodeUpstreamPropertyBag(
  message: Pick<HubMessage, 'properties' | 'systemProperties'>,
): string {
  return encodeBag(message, UPSTREAM_BY_WIRE_KEY, ENCODED_UPSTREAM_KEYS);
}

function encodeBag(
  message: Pick<HubMessage, 'properties' | 'systemProperties'>,
  systemByWireKey: ReadonlyMap<string, SystemPropertyName>,
  encodedSystemKeys: readonly (readonly [SystemPropertyName, string])[],
): string {
  const system = message.systemProperties;
  let bag = '';
  for (const key in message.properties) {
    if (!Object.prototype.hasOwnProperty.call(message.properties, key)) continue;
    const shadowedBy = systemByWireKey.get(key);
    if (shadowedBy !== undefined && system[shadowedBy] !== undefined) continue;
    if (bag.length > 0) bag += '&';
    bag += percentEncode(key) + '=' + percentEncode(message.properties[key]);
  }
  for (const [name, encodedKey] of encodedSystemKeys) {
    const value = system[name];
    if (value === undefined) continue;
    if (bag.length > 0) bag += '&';
    bag += encodedKey + '=' + percentEncode(value);
  }
  return bag;
}
