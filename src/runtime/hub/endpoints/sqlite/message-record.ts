import type { HubMessage, MessageSource, SystemProperties } from '../../../routing/message.js';

/**
 * A message's properties and source as the SQLite store keeps them next to its body: one JSON
 * text (`p` application properties, `s` system properties, `src` the routing source).
 */
export function encodeMessageMeta(message: HubMessage): string {
  return JSON.stringify({ p: message.properties, s: message.systemProperties, src: message.source });
}

/** The message back from its body and the text `encodeMessageMeta` made. */
export function decodeMessage(body: Buffer, meta: string): HubMessage {
  const parsed = JSON.parse(meta) as { p: Record<string, string>; s: SystemProperties; src: MessageSource };
  return { body, properties: parsed.p, systemProperties: parsed.s, source: parsed.src };
}
