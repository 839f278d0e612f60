/**
 * IoT Hub's MQTT topic map, for one authenticated identity: what an inbound PUBLISH or SUBSCRIBE
 * means, and the topics of what the hub sends. Plain string scanning (no regex, no splitting):
 * telemetry classification runs once per message.
 */
import { telemetrySource, type HubMessage } from '../../routing/message.js';
import {
  decodePropertyBag,
  encodePropertyBag as encodeBag,
  percentDecode,
  percentEncode,
} from './property-bag.js';

export interface WireIdentity {
  deviceId: string;
  moduleId?: string;
}

export type InboundPublish =
  | { kind: 'telemetry'; message: HubMessage }
  | { kind: 'twin-get'; requestId: string }
  /** `version` is the optional `$version` of the topic (the twin version the patch was based on). */
  | { kind: 'twin-patch-reported'; requestId: string; version?: number }
  | { kind: 'method-response'; requestId: string; status: number }
  | { kind: 'forbidden'; reason: string }
  | { kind: 'unknown'; reason: string };

export type SubscriptionKind = 'inputs' | 'c2d' | 'desired' | 'methods' | 'twin-responses';

export type InboundSubscribe =
  | { kind: 'subscription'; subscription: SubscriptionKind }
  | { kind: 'forbidden'; reason: string }
  /** Not one of IoT Hub's filters (`#`, `$SYS/#`, a narrower or wider filter than the SDKs use). */
  | { kind: 'unknown'; reason: string };

const DEVICES = 'devices/';
const MODULES = 'modules/';
const EVENTS = 'messages/events';
const DEVICEBOUND_FILTER = 'messages/devicebound/#';
const TWIN_GET = '$iothub/twin/GET';
const TWIN_PATCH_REPORTED = '$iothub/twin/PATCH/properties/reported';
const METHOD_RESPONSE = '$iothub/methods/res/';
const SLASH = 0x2f;
const QUESTION = 0x3f;

/** Whether `text[start, end)` is exactly `value`, without cutting a substring. */
function segmentIs(text: string, start: number, end: number, value: string): boolean {
  return end - start === value.length && text.startsWith(value, start);
}

/** Where the `devices/{d}[/modules/{m}]/` prefix of a topic lies; undefined if it has none. */
interface DevicePath {
  deviceEnd: number;
  moduleStart: number;
  moduleEnd: number;
  /** Index just after the prefix's final `/`. */
  rest: number;
}

function devicePath(topic: string): DevicePath | undefined {
  const deviceEnd = topic.indexOf('/', DEVICES.length);
  if (deviceEnd <= DEVICES.length) return undefined;
  let rest = deviceEnd + 1;
  let moduleStart = -1;
  let moduleEnd = -1;
  if (topic.startsWith(MODULES, rest)) {
    moduleStart = rest + MODULES.length;
    moduleEnd = topic.indexOf('/', moduleStart);
    if (moduleEnd <= moduleStart) return undefined;
    rest = moduleEnd + 1;
  }
  return { deviceEnd, moduleStart, moduleEnd, rest };
}

function isOwnPath(topic: string, path: DevicePath, identity: WireIdentity): boolean {
  if (!segmentIs(topic, DEVICES.length, path.deviceEnd, identity.deviceId)) return false;
  if (identity.moduleId === undefined) return path.moduleStart === -1;
  return path.moduleStart !== -1 && segmentIs(topic, path.moduleStart, path.moduleEnd, identity.moduleId);
}

const whoIs = (identity: WireIdentity): string =>
  identity.moduleId === undefined ? identity.deviceId : `${identity.deviceId}/${identity.moduleId}`;

function classifyTelemetry(identity: WireIdentity, topic: string, payload: Buffer): InboundPublish {
  const path = devicePath(topic);
  if (path === undefined || !topic.startsWith(EVENTS, path.rest)) {
    return { kind: 'unknown', reason: `unknown topic ${JSON.stringify(topic)}` };
  }
  let bagStart = path.rest + EVENTS.length;
  let bagEnd = topic.length;
  if (bagStart < bagEnd) {
    if (topic.charCodeAt(bagStart) !== SLASH)
      return { kind: 'unknown', reason: `unknown topic ${JSON.stringify(topic)}` };
    bagStart++;
    // the SDK ends an output's bag with a `/`
    if (bagEnd > bagStart && topic.charCodeAt(bagEnd - 1) === SLASH) bagEnd--;
  }
  if (!isOwnPath(topic, path, identity)) {
    return { kind: 'forbidden', reason: `${whoIs(identity)} may not publish to ${JSON.stringify(topic)}` };
  }
  const { properties, systemProperties } = decodePropertyBag(topic, bagStart, bagEnd);
  systemProperties.connectionDeviceId = identity.deviceId;
  if (identity.moduleId !== undefined) systemProperties.connectionModuleId = identity.moduleId;
  const source = telemetrySource(identity.moduleId, systemProperties.outputName);
  return { kind: 'telemetry', message: { body: payload, properties, systemProperties, source } };
}

/** The index just after `?` when `topic[pos]` starts `/?` or `?`; -1 otherwise. */
function queryAt(topic: string, pos: number): number {
  if (topic.charCodeAt(pos) === SLASH) pos++;
  return topic.charCodeAt(pos) === QUESTION ? pos + 1 : -1;
}

/** The decoded value of query parameter `name` (`$rid`, also written `%24rid`) from `topic[start..]`. */
function queryParam(topic: string, start: number, name: string): string | undefined {
  let pos = start;
  while (pos < topic.length) {
    let amp = topic.indexOf('&', pos);
    if (amp === -1) amp = topic.length;
    let eq = topic.indexOf('=', pos);
    if (eq === -1 || eq > amp) eq = amp;
    if (segmentIs(topic, pos, eq, name) || percentDecode(topic.slice(pos, eq)) === name) {
      return eq < amp ? percentDecode(topic.slice(eq + 1, amp)) : '';
    }
    pos = amp + 1;
  }
  return undefined;
}

function requestIdOf(topic: string, query: number): string | undefined {
  if (query === -1) return undefined;
  const rid = queryParam(topic, query, '$rid');
  return rid === undefined || rid === '' ? undefined : rid;
}

function classifyIothub(topic: string): InboundPublish {
  if (topic.startsWith(TWIN_GET)) {
    const query = queryAt(topic, TWIN_GET.length);
    const requestId = requestIdOf(topic, query);
    if (requestId !== undefined) return { kind: 'twin-get', requestId };
    return { kind: 'unknown', reason: `twin GET without $rid: ${JSON.stringify(topic)}` };
  }
  if (topic.startsWith(TWIN_PATCH_REPORTED)) {
    const query = queryAt(topic, TWIN_PATCH_REPORTED.length);
    const requestId = requestIdOf(topic, query);
    if (requestId === undefined)
      return { kind: 'unknown', reason: `reported patch without $rid: ${JSON.stringify(topic)}` };
    const version = Number(queryParam(topic, query, '$version') ?? Number.NaN);
    return Number.isSafeInteger(version)
      ? { kind: 'twin-patch-reported', requestId, version }
      : { kind: 'twin-patch-reported', requestId };
  }
  if (topic.startsWith(METHOD_RESPONSE)) {
    const statusStart = METHOD_RESPONSE.length;
    let statusEnd = statusStart;
    while (
      statusEnd < topic.length &&
      topic.charCodeAt(statusEnd) !== SLASH &&
      topic.charCodeAt(statusEnd) !== QUESTION
    ) {
      statusEnd++;
    }
    const statusText = topic.slice(statusStart, statusEnd);
    const status = Number(statusText);
    if (statusText.trim() === '' || !Number.isSafeInteger(status)) {
      return {
        kind: 'unknown',
        reason: `method response without an integer status: ${JSON.stringify(topic)}`,
      };
    }
    const requestId = requestIdOf(topic, queryAt(topic, statusEnd));
    if (requestId === undefined)
      return { kind: 'unknown', reason: `method response without $rid: ${JSON.stringify(topic)}` };
    return { kind: 'method-response', requestId, status };
  }
  return { kind: 'unknown', reason: `unknown topic ${JSON.stringify(topic)}` };
}

/**
 * What a PUBLISH from `identity` on `topic` is. Telemetry becomes a HubMessage (body = `payload`,
 * not copied) whose connection ids come from the identity, never from the bag; a telemetry topic
 * naming another device or module is `forbidden`.
 */
export function classifyPublish(identity: WireIdentity, topic: string, payload: Buffer): InboundPublish {
  if (topic.startsWith(DEVICES)) return classifyTelemetry(identity, topic, payload);
  if (topic.startsWith('$iothub/')) return classifyIothub(topic);
  return { kind: 'unknown', reason: `unknown topic ${JSON.stringify(topic)}` };
}

const IOTHUB_FILTERS: ReadonlyMap<string, SubscriptionKind> = new Map([
  ['$iothub/twin/res/#', 'twin-responses'],
  ['$iothub/twin/PATCH/properties/desired/#', 'desired'],
  ['$iothub/methods/POST/#', 'methods'],
]);

/**
 * What a SUBSCRIBE filter from `identity` asks for: one of IoT Hub's filters for that identity; the
 * same filters of other identities are `forbidden`, anything else `unknown` (both refused).
 */
export function classifySubscribe(identity: WireIdentity, filter: string): InboundSubscribe {
  const iothub = IOTHUB_FILTERS.get(filter);
  if (iothub !== undefined) return { kind: 'subscription', subscription: iothub };
  if (filter.startsWith(DEVICES)) {
    const path = devicePath(filter);
    if (path !== undefined) {
      let kind: SubscriptionKind | undefined;
      if (path.moduleStart !== -1) {
        if (
          segmentIs(filter, path.rest, filter.length, '#') ||
          segmentIs(filter, path.rest, filter.length, 'inputs/#')
        ) {
          kind = 'inputs';
        }
      } else if (segmentIs(filter, path.rest, filter.length, DEVICEBOUND_FILTER)) {
        kind = 'c2d';
      }
      if (kind !== undefined) {
        return isOwnPath(filter, path, identity)
          ? { kind: 'subscription', subscription: kind }
          : {
              kind: 'forbidden',
              reason: `${whoIs(identity)} may not subscribe to ${JSON.stringify(filter)}`,
            };
      }
    }
  }
  return { kind: 'unknown', reason: 'not one of the topic filters IoT Hub serves' };
}

/**
 * A routed message for a module input. The `/` after the input name is required even with an empty
 * bag (the Node SDK silently drops the message otherwise); the input name is written raw because the
 * SDK reads it without decoding.
 */
export function inputMessageTopic(
  deviceId: string,
  moduleId: string,
  inputName: string,
  message: Pick<HubMessage, 'properties' | 'systemProperties'>,
  bag: string = encodeBag(message),
): string {
  return `devices/${deviceId}/modules/${moduleId}/inputs/${inputName}/${bag}`;
}

/** A cloud-to-device message for a device (same `/` rule as inputs). */
export function c2dTopic(
  deviceId: string,
  message: Pick<HubMessage, 'properties' | 'systemProperties'>,
): string {
  return `devices/${deviceId}/messages/devicebound/${encodeBag(message)}`;
}

/**
 * The reply to a twin GET or reported PATCH. The SDK finds its request by the percent-decoded
 * `$rid`, so the id is encoded here; for a PATCH pass the new reported `$version`.
 */
export function twinResponseTopic(status: number, requestId: string, version?: number): string {
  const topic = `$iothub/twin/res/${status}/?$rid=${percentEncode(requestId)}`;
  return version === undefined ? topic : `${topic}&$version=${version}`;
}

export function desiredPatchTopic(version: number): string {
  return `$iothub/twin/PATCH/properties/desired/?$version=${version}`;
}

/**
 * A direct method request. The SDK answers with the decoded `$rid` written back raw, so request ids
 * should use only URL-safe characters (letters, digits, `-`) to come back unchanged.
 */
export function methodRequestTopic(methodName: string, requestId: string): string {
  return `$iothub/methods/POST/${methodName}/?$rid=${percentEncode(requestId)}`;
}

/**
 * The topic a device or module publishes its telemetry on, with the message's bag as the last
 * segment: `devices/{d}/messages/events/{bag}` or `devices/{d}/modules/{m}/messages/events/{bag}`.
 */
export function telemetryTopic(identity: WireIdentity, bag: string): string {
  const module = identity.moduleId === undefined ? '' : `modules/${identity.moduleId}/`;
  return `${DEVICES}${identity.deviceId}/${module}${EVENTS}/${bag}`;
}

/**
 * What IoT Hub (or a parent edge device's hub) sends to a device or module it serves: the other
 * direction of the same map, as a device's SDK reads it. Used by the upstream link, which is such
 * a client of its upstream.
 */
export type DownstreamPublish =
  | { kind: 'twin-response'; status: number; requestId: string; version?: number }
  | { kind: 'desired-patch'; version?: number }
  | { kind: 'method-request'; methodName: string; requestId: string }
  | { kind: 'c2d'; properties: Record<string, string>; systemProperties: HubMessage['systemProperties'] }
  | { kind: 'unknown'; reason: string };

const TWIN_RESPONSE = '$iothub/twin/res/';
const DESIRED_PATCH = '$iothub/twin/PATCH/properties/desired/';
const METHOD_REQUEST = '$iothub/methods/POST/';
const DEVICEBOUND = 'messages/devicebound/';

/** The segment `topic[start..]` up to the next `/` or `?` (the end of the topic when neither). */
function segmentEnd(topic: string, start: number): number {
  let end = start;
  while (end < topic.length && topic.charCodeAt(end) !== SLASH && topic.charCodeAt(end) !== QUESTION) end++;
  return end;
}

function optionalVersion(topic: string, query: number): number | undefined {
  if (query === -1) return undefined;
  const version = Number(queryParam(topic, query, '$version') ?? Number.NaN);
  return Number.isSafeInteger(version) ? version : undefined;
}

/** What a PUBLISH the upstream sent to this connection is. */
export function classifyDownstream(topic: string): DownstreamPublish {
  const unknown = (): DownstreamPublish => ({
    kind: 'unknown',
    reason: `unknown topic ${JSON.stringify(topic)}`,
  });
  if (topic.startsWith(TWIN_RESPONSE)) {
    const statusEnd = segmentEnd(topic, TWIN_RESPONSE.length);
    const statusText = topic.slice(TWIN_RESPONSE.length, statusEnd);
    const status = Number(statusText);
    const query = queryAt(topic, statusEnd);
    const requestId = requestIdOf(topic, query);
    if (statusText === '' || !Number.isSafeInteger(status) || requestId === undefined) return unknown();
    const version = optionalVersion(topic, query);
    return version === undefined
      ? { kind: 'twin-response', status, requestId }
      : { kind: 'twin-response', status, requestId, version };
  }
  if (topic.startsWith(DESIRED_PATCH) || topic === DESIRED_PATCH.slice(0, -1)) {
    const version = optionalVersion(topic, queryAt(topic, DESIRED_PATCH.length - 1));
    return version === undefined ? { kind: 'desired-patch' } : { kind: 'desired-patch', version };
  }
  if (topic.startsWith(METHOD_REQUEST)) {
    const nameEnd = segmentEnd(topic, METHOD_REQUEST.length);
    const methodName = topic.slice(METHOD_REQUEST.length, nameEnd);
    const requestId = requestIdOf(topic, queryAt(topic, nameEnd));
    if (methodName === '' || requestId === undefined) return unknown();
    return { kind: 'method-request', methodName, requestId };
  }
  if (topic.startsWith(DEVICES)) {
    const path = devicePath(topic);
    if (path === undefined || path.moduleStart !== -1 || !topic.startsWith(DEVICEBOUND, path.rest))
      return unknown();
    let bagEnd = topic.length;
    const bagStart = path.rest + DEVICEBOUND.length;
    if (bagEnd > bagStart && topic.charCodeAt(bagEnd - 1) === SLASH) bagEnd--;
    const { properties, systemProperties } = decodePropertyBag(topic, bagStart, bagEnd);
    return { kind: 'c2d', properties, systemProperties };
  }
  return unknown();
}

/** A twin GET as a device sends it. */
export const twinGetTopic = (requestId: string): string => `${TWIN_GET}/?$rid=${percentEncode(requestId)}`;

/** A reported-properties PATCH as a device sends it. */
export const reportedPatchTopic = (requestId: string): string =>
  `${TWIN_PATCH_REPORTED}/?$rid=${percentEncode(requestId)}`;

/** A device's answer to a direct method. */
export const methodResponseTopic = (status: number, requestId: string): string =>
  `${METHOD_RESPONSE}${status}/?$rid=${percentEncode(requestId)}`;

/** The filters a device or module subscribes to so as to hear from its hub (C2D for devices only). */
export function downstreamFilters(identity: WireIdentity): string[] {
  const filters = [...IOTHUB_FILTERS.keys()];
  if (identity.moduleId === undefined) filters.push(`${DEVICES}${identity.deviceId}/${DEVICEBOUND_FILTER}`);
  return filters;
}
