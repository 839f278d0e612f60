import type { LogLine } from '../modules/types.js';
import { LineSplitter } from '../modules/process/log-format.js';

/**
 * The parts of iotedged that `iotedge logs` shows as modules, and the tag each of their lines
 * starts with (`agent: …`, `hub: …`). Lines without one of these tags are the daemon's own
 * (`iotedged: …`, the management API's) and appear only in the whole daemon's log.
 */
export const EMBEDDED_MODULE_TAGS = { edgeAgent: 'agent', edgeHub: 'hub' } as const;

export type EmbeddedModule = keyof typeof EMBEDDED_MODULE_TAGS;
export type ComponentTag = (typeof EMBEDDED_MODULE_TAGS)[EmbeddedModule];

export function isEmbeddedModule(name: string): name is EmbeddedModule {
  return Object.hasOwn(EMBEDDED_MODULE_TAGS, name);
}

/** A component's line as the daemon logs it: `<tag>: <text>`, the tag added when the text lacks it. */
export function tagged(tag: ComponentTag, text: string): string {
  return text.startsWith(`${tag}: `) ? text : `${tag}: ${text}`;
}

const TAG = new RegExp(`^(${Object.values(EMBEDDED_MODULE_TAGS).join('|')}): `);

/**
 * A logged text as stored lines: one per line of the text (a stack trace has several), none
 * longer than the stored format allows. Continuation lines carry the first line's component tag,
 * so that they stay with it when a component's lines are selected.
 */
export function storedTexts(text: string): string[] {
  const [first, ...rest] = new LineSplitter().push(`${text}\n`);
  const tag = TAG.exec(first)?.[0];
  const continued = rest.filter((line) => line !== '');
  return [first, ...continued.map((line) => (!tag || line.startsWith(tag) ? line : `${tag}${line}`))];
}

/** A stored daemon line as `module` shows it: its own lines without their tag; others' are skipped. */
export function embeddedModuleLine(module: EmbeddedModule, line: LogLine): LogLine | undefined {
  const prefix = `${EMBEDDED_MODULE_TAGS[module]}: `;
  return line.text.startsWith(prefix) ? { ...line, text: line.text.slice(prefix.length) } : undefined;
}
