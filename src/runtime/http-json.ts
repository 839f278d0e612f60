import type { IncomingMessage, ServerResponse } from 'node:http';

/** A JSON reply with its length (the SDKs parse a reply only when its Content-Type names JSON). */
export function sendJson(response: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  response.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
  });
  response.end(text);
}

/**
 * The request body as UTF-8 text (decoded once, so a character split between chunks survives), or
 * undefined once it grows past `maxBytes`.
 */
export async function readBodyText(request: IncomingMessage, maxBytes: number): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes) return undefined;
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
