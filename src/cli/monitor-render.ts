import type { MonitorLine, MonitorMessage } from '../runtime/hub/monitor/monitor-event.js';
import { isMonitorMessage } from '../runtime/hub/monitor/monitor-event.js';
import { CliError } from './cli-error.js';

/** A line of the daemon's monitor stream, checked for the shape the renderers rely on. */
export function parseMonitorLine(text: string): MonitorLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new CliError('The IoT Edge daemon sent a monitor line that is not JSON');
  }
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const line = value as Record<string, unknown>;
    if (typeof line.dropped === 'number') return { dropped: line.dropped };
    if (typeof line.endpoint === 'string' && line.properties && typeof line.properties === 'object')
      return value as MonitorMessage;
  }
  throw new CliError('The IoT Edge daemon sent a monitor line of an unknown shape');
}

const pairs = (record: Record<string, unknown>) =>
  Object.entries(record)
    .map(([key, value]) => `${key}=${String(value)}`)
    .join(', ');

/** Who sent a message: `device/module`, or the device alone. */
export function originOf(message: MonitorMessage): string {
  const { deviceId = '?', moduleId } = message.origin;
  return moduleId ? `${deviceId}/${moduleId}` : deviceId;
}

/** The text form of a monitor line, several lines for a message, ending with a newline. */
export function renderMonitorText(line: MonitorLine): string {
  if (!isMonitorMessage(line))
    return `(${line.dropped} message${line.dropped === 1 ? '' : 's'} not shown: the monitor fell behind)\n`;
  const { application, system } = line.properties;
  const output = line.origin.outputName ? ` (output ${line.origin.outputName})` : '';
  const time = system.enqueuedTime ? `[${system.enqueuedTime}] ` : '';
  const body =
    line.bodyEncoding === 'json'
      ? JSON.stringify(line.body)
      : line.bodyEncoding === 'base64'
        ? `(${Buffer.from(String(line.body), 'base64').length} bytes, base64) ${String(line.body)}`
        : String(line.body);
  const rows = [`${time}${originOf(line)}${output} -> ${line.endpoint}`];
  if (Object.keys(application).length > 0) rows.push(`  application properties: ${pairs(application)}`);
  const shownSystem = Object.fromEntries(
    Object.entries(system).filter(([key]) => key !== 'enqueuedTime' && key !== 'outputName'),
  );
  if (Object.keys(shownSystem).length > 0) rows.push(`  system properties: ${pairs(shownSystem)}`);
  rows.push(`  body: ${body}`);
  return `${rows.join('\n')}\n`;
}

/** The `--json` form: the line as the daemon sent it, one JSON object per line. */
export const renderMonitorJson = (line: MonitorLine): string => `${JSON.stringify(line)}\n`;
