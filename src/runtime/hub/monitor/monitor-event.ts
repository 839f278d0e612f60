import type { HubMessage, SystemProperties } from '../../routing/message.js';

/**
 * One line of the monitor stream (the management API's GET /hub/monitor and `iotedge monitor
 * --json`): a message as it was routed to an endpoint, with who sent it, its properties and its body.
 */
export interface MonitorMessage {
  /** `$upstream` or the module input's endpoint (`device/module/inputs/input`). */
  endpoint: string;
  origin: { deviceId?: string; moduleId?: string; outputName?: string };
  properties: { application: Record<string, string>; system: SystemProperties };
  /** The body decoded: a JSON value, a string, or base64 of bytes that are not UTF-8 text. */
  body: unknown;
  bodyEncoding: 'json' | 'text' | 'base64';
}

/** A line telling that the watcher fell behind and `dropped` messages were left out. */
export interface MonitorDropped {
  dropped: number;
}

export type MonitorLine = MonitorMessage | MonitorDropped;

const utf8 = new TextDecoder('utf-8', { fatal: true });

/** Control characters other than tab, line feed and carriage return: bytes, not text. */
// eslint-disable-next-line no-control-regex
const BINARY_CONTROL = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

/** The body as JSON when it parses as JSON, as text when it is UTF-8 text, else as base64. */
export function decodeBody(body: Buffer): Pick<MonitorMessage, 'body' | 'bodyEncoding'> {
  let text: string;
  try {
    text = utf8.decode(body);
  } catch {
    return { body: body.toString('base64'), bodyEncoding: 'base64' };
  }
  if (BINARY_CONTROL.test(text)) return { body: body.toString('base64'), bodyEncoding: 'base64' };
  const trimmed = text.trim();
  if (trimmed !== '') {
    try {
      return { body: JSON.parse(trimmed), bodyEncoding: 'json' };
    } catch {
      // not JSON: plain text
    }
  }
  return { body: text, bodyEncoding: 'text' };
}

/** The monitor line of a message routed to `endpoint`. */
export function monitorMessage(endpoint: string, message: HubMessage): MonitorMessage {
  const system = message.systemProperties;
  const origin: MonitorMessage['origin'] = {};
  if (system.connectionDeviceId !== undefined) origin.deviceId = system.connectionDeviceId;
  if (system.connectionModuleId) origin.moduleId = system.connectionModuleId;
  if (system.outputName) origin.outputName = system.outputName;
  return {
    endpoint,
    origin,
    properties: { application: { ...message.properties }, system: { ...system } },
    ...decodeBody(message.body),
  };
}

/** Whether a parsed line is a message (as opposed to a count of dropped messages). */
export const isMonitorMessage = (line: MonitorLine): line is MonitorMessage => 'endpoint' in line;
