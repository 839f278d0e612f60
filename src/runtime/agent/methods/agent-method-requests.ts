import { gzipSync } from 'node:zlib';
import type { LogLine } from '../../modules/types.js';
import { parseTimeValue } from '../../time-args.js';

/**
 * The direct methods IoT Edge's edgeAgent serves, their payloads checked and their answers shaped
 * as it shapes them; no I/O here (the handler reads modules and logs, and restarts).
 */

/** The methods, as the agent names them in its answer to an unknown one. */
export const AGENT_METHODS = [
  'ping',
  'RestartModule',
  'GetModuleLogs',
  'GetTaskStatus',
  'UploadModuleLogs',
  'UploadSupportBundle',
] as const;

export type AgentMethod = (typeof AGENT_METHODS)[number];

/** A method's answer that is not 200: its status and `{"message"}`, as IoT Edge's agent answers errors. */
export class AgentMethodError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

/** IoT Edge's largest GetModuleLogs answer (characters of text, or bytes of gzip). */
export const MAX_LOGS_PAYLOAD = 127_000;

/** The method `name` stands for (names are case-insensitive), or a 400 listing those there are. */
export function agentMethod(name: string): AgentMethod {
  const found = AGENT_METHODS.find((method) => method.toLowerCase() === name.toLowerCase());
  if (found) return found;
  throw new AgentMethodError(
    400,
    `Command '${name}' not found. The supported commands are - ${AGENT_METHODS.join(',')}`,
  );
}

/** The upload methods: this runtime uploads nothing to blob storage, so they are refused. */
export function uploadRefused(method: 'UploadModuleLogs' | 'UploadSupportBundle'): AgentMethodError {
  const instead =
    method === 'UploadModuleLogs'
      ? 'GetModuleLogs returns them in its answer, and `iotedge logs` shows them on the device'
      : '`iotedge support-bundle` writes the bundle on the device';
  return new AgentMethodError(
    501,
    `${method} is not supported: this runtime does not upload to blob storage (sasUrl); ${instead}`,
  );
}

type JsonRecord = Record<string, unknown>;

function objectPayload(payload: unknown): JsonRecord {
  if (payload === null || payload === undefined) throw new AgentMethodError(400, 'Request payload not found');
  if (typeof payload !== 'object' || Array.isArray(payload))
    throw new AgentMethodError(400, 'payload: expected a JSON object');
  return payload as JsonRecord;
}

function nonEmptyString(record: JsonRecord, field: string, path = field): string {
  const value = record[field];
  if (typeof value !== 'string' || value.trim() === '')
    throw new AgentMethodError(400, `${path}: expected a non-empty string`);
  return value;
}

/** `schemaVersion` must be present and of major version 1 (minor versions are accepted). */
function checkSchemaVersion(record: JsonRecord): void {
  const version = nonEmptyString(record, 'schemaVersion');
  const match = /^(\d+)(\.\d+){1,3}$/.exec(version.trim());
  if (!match) throw new AgentMethodError(400, `schemaVersion: "${version}" is not a version such as "1.0"`);
  if (Number(match[1]) !== 1)
    throw new AgentMethodError(
      400,
      `schemaVersion: ${version} is not compatible with the expected version 1.0`,
    );
}

/** RestartModule's payload: `{"schemaVersion": "1.0", "id": "<module>"}`. */
export function parseRestartRequest(payload: unknown): { id: string } {
  const record = objectPayload(payload);
  checkSchemaVersion(record);
  return { id: nonEmptyString(record, 'id') };
}

/** GetTaskStatus's payload: `{"schemaVersion": "1.0", "correlationId": "<id>"}`. */
export function parseTaskStatusRequest(payload: unknown): { correlationId: string } {
  const record = objectPayload(payload);
  checkSchemaVersion(record);
  return { correlationId: nonEmptyString(record, 'correlationId') };
}

/** GetTaskStatus's answer for a task this agent does not know (it never starts any). */
export function unknownTaskStatus(correlationId: string): {
  status: 'Unknown';
  message: string;
  correlationId: string;
} {
  return { status: 'Unknown', message: '', correlationId };
}

export interface LogsFilter {
  tail?: number;
  /** Unix seconds. */
  since?: number;
  until?: number;
  /** Syslog severity (0-7) a line must have. */
  loglevel?: number;
  /** Tested on a line's text (without its level and timestamp). */
  regex?: RegExp;
}

export interface LogsRequest {
  /** `id` is a regular expression matched against module names, case-insensitively (`all`: every one). */
  items: { id: string; pattern: RegExp | 'all'; filter: LogsFilter }[];
  encoding: 'none' | 'gzip';
  contentType: 'text' | 'json';
}

function regexOf(source: string, flags: string, path: string): RegExp {
  try {
    return new RegExp(source, flags);
  } catch (error) {
    throw new AgentMethodError(400, `${path}: not a valid regular expression (${(error as Error).message})`);
  }
}

function choice<T extends string>(record: JsonRecord, field: string, values: readonly T[], fallback: T): T {
  const value = record[field];
  if (value === undefined || value === null) return fallback;
  const found = typeof value === 'string' ? values.find((known) => known === value.toLowerCase()) : undefined;
  if (!found)
    throw new AgentMethodError(
      400,
      `${field}: unknown value ${JSON.stringify(value)}, expected one of ${values.join(', ')}`,
    );
  return found;
}

function timeField(record: JsonRecord, field: string, path: string, now: Date): number | undefined {
  const value = record[field];
  if (value === undefined || value === null) return undefined;
  const seconds =
    typeof value === 'string' || typeof value === 'number' ? parseTimeValue(String(value), now) : undefined;
  if (seconds === undefined)
    throw new AgentMethodError(
      400,
      `${path}: expected an RFC 3339 time, unix seconds or a duration such as "10m", got ${JSON.stringify(value)}`,
    );
  return seconds;
}

function integerField(record: JsonRecord, field: string, path: string, max: number): number | undefined {
  const value = record[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > max)
    throw new AgentMethodError(400, `${path}: expected an integer from 0 to ${max}`);
  return value;
}

function parseFilter(value: unknown, path: string, now: Date): LogsFilter {
  if (value === undefined || value === null) return {};
  if (typeof value !== 'object' || Array.isArray(value))
    throw new AgentMethodError(400, `${path}: expected a JSON object`);
  const record = value as JsonRecord;
  const filter: LogsFilter = {};
  const tail = integerField(record, 'tail', `${path}.tail`, Number.MAX_SAFE_INTEGER);
  if (tail !== undefined) filter.tail = tail;
  const since = timeField(record, 'since', `${path}.since`, now);
  if (since !== undefined) filter.since = since;
  const until = timeField(record, 'until', `${path}.until`, now);
  if (until !== undefined) filter.until = until;
  const loglevel = integerField(record, 'loglevel', `${path}.loglevel`, 7);
  if (loglevel !== undefined) filter.loglevel = loglevel;
  if (record.regex !== undefined && record.regex !== null) {
    if (typeof record.regex !== 'string') throw new AgentMethodError(400, `${path}.regex: expected a string`);
    filter.regex = regexOf(record.regex, '', `${path}.regex`);
  }
  return filter;
}

/**
 * GetModuleLogs's payload: `{"schemaVersion": "1.0", "items": [{"id", "filter": {"tail", "since",
 * "until", "loglevel", "regex"}}], "encoding": "none"|"gzip", "contentType": "text"|"json"}`;
 * `items` may be one object, as IoT Edge accepts it. `now` anchors durations in since/until.
 */
export function parseLogsRequest(payload: unknown, now: Date): LogsRequest {
  const record = objectPayload(payload);
  checkSchemaVersion(record);
  const rawItems = record.items;
  if (rawItems === undefined || rawItems === null)
    throw new AgentMethodError(400, 'items: expected an array of {"id", "filter"}');
  const list = Array.isArray(rawItems) ? rawItems : [rawItems];
  const items = list.map((item, index) => {
    const path = `items[${index}]`;
    if (!item || typeof item !== 'object' || Array.isArray(item))
      throw new AgentMethodError(400, `${path}: expected a JSON object {"id", "filter"}`);
    const id = nonEmptyString(item as JsonRecord, 'id', `${path}.id`);
    const pattern = id.toLowerCase() === 'all' ? ('all' as const) : regexOf(id, 'i', `${path}.id`);
    return { id, pattern, filter: parseFilter((item as JsonRecord).filter, `${path}.filter`, now) };
  });
  return {
    items,
    encoding: choice(record, 'encoding', ['none', 'gzip'] as const, 'none'),
    contentType: choice(record, 'contentType', ['text', 'json'] as const, 'text'),
  };
}

/** The modules each item names, in the order of `names`; a module named by several items takes the first. */
export function modulesToRead(
  request: LogsRequest,
  names: readonly string[],
): { id: string; filter: LogsFilter }[] {
  const chosen = new Map<string, LogsFilter>();
  for (const item of request.items) {
    for (const name of names) {
      if (chosen.has(name)) continue;
      if (item.pattern === 'all' || item.pattern.test(name)) chosen.set(name, item.filter);
    }
  }
  return [...chosen].map(([id, filter]) => ({ id, filter }));
}

/** Syslog severity when a line does not say (informational), as IoT Edge assumes. */
const DEFAULT_LOG_LEVEL = 6;
const LEVELLED =
  /^\s*(?:<(\d)>)?\s*(?:\d{4}-\d{2}-\d{2}\s\d{2}:\d{2}:\d{2}.\d{3}\s[+-]\d{2}:\d{2}\s)?\s*([\s\S]*)$/;

/** A line's severity (its `<N>` prefix) and its text after the prefix and a timestamp. */
export function levelAndText(text: string): { loglevel: number; text: string } {
  const match = LEVELLED.exec(text);
  if (!match) return { loglevel: DEFAULT_LOG_LEVEL, text };
  return {
    loglevel: match[1] === undefined ? DEFAULT_LOG_LEVEL : Number(match[1]),
    text: match[2] === '' ? text : match[2],
  };
}

/** The lines a filter keeps: of the level and matching the regex, then the last `tail` of them. */
export function selectLines(lines: readonly LogLine[], filter: LogsFilter): LogLine[] {
  const kept =
    filter.loglevel === undefined && filter.regex === undefined
      ? [...lines]
      : lines.filter((line) => {
          const parsed = levelAndText(line.text);
          if (filter.loglevel !== undefined && parsed.loglevel !== filter.loglevel) return false;
          return filter.regex === undefined || filter.regex.test(parsed.text);
        });
  return filter.tail === undefined ? kept : kept.slice(Math.max(0, kept.length - filter.tail));
}

/** Where the logs come from, as each JSON log message names it. */
export interface LogsSource {
  iothub: string;
  device: string;
}

/** One module's lines as the content type asks: its text (a line each), or a JSON array of messages. */
export function renderLogs(
  id: string,
  lines: readonly LogLine[],
  contentType: LogsRequest['contentType'],
  source: LogsSource,
): string {
  if (contentType === 'text') return lines.map((line) => `${line.text}\n`).join('');
  return JSON.stringify(
    lines.map((line) => {
      const { loglevel, text } = levelAndText(line.text);
      return {
        iothub: source.iothub,
        device: source.device,
        id,
        stream: line.stream,
        loglevel,
        text,
        timestamp: line.time.toISOString(),
      };
    }),
  );
}

export interface ModuleLogsAnswer {
  id: string;
  /** base64 of the gzip, when gzip was asked for. */
  payloadBytes: string | null;
  payload: string | null;
}

/**
 * GetModuleLogs's answer, one entry per module: its logs as `payload`, or gzipped as base64 in
 * `payloadBytes`; a 400 when they exceed what a direct method may carry.
 */
export function logsAnswer(
  logs: readonly { id: string; content: string }[],
  encoding: LogsRequest['encoding'],
): ModuleLogsAnswer[] {
  let size = 0;
  const answer = logs.map(({ id, content }) => {
    if (encoding === 'none') {
      size += content.length;
      return { id, payloadBytes: null, payload: content };
    }
    const bytes = gzipSync(Buffer.from(content, 'utf8'));
    size += bytes.length;
    return { id, payloadBytes: bytes.toString('base64'), payload: null };
  });
  if (size > MAX_LOGS_PAYLOAD)
    throw new AgentMethodError(
      400,
      `The payload is too large for a direct method. GetModuleLogs supports up to ${MAX_LOGS_PAYLOAD} bytes of logs. ` +
        `The current request returned ${size} bytes. Try reducing the size of the logs by setting the 'tail', ` +
        `'since' and 'until' fields in the items' filter, or ask for "encoding": "gzip".`,
    );
  return answer;
}
