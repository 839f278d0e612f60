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

/** The request body as text, or undefined once it grows past `maxChars`. */
export async function readBodyText(request: IncomingMessage, maxChars: number): Promise<string | undefined> {
  let text = '';
  for await (const chunk of request) {
    text += chunk;
    if (text.length > maxChars) return undefined;
  }
  return text;
}
