import { Buffer } from 'node:buffer';

/** One message as the store's SQLite table holds it. */
export interface MessageRow {
  offset: number;
  queue: number;
  enqueuedAt: number;
  expiresAt: number;
  size: number;
  /** The properties and source as one JSON text (message-record.ts). */
  meta: string;
  body: Buffer;
}

/**
 * Many rows as three values that cross between threads cheaply: their numbers in one array, their
 * JSON texts in one string (a JSON text never holds a raw line feed, so one joins them) and their
 * bodies end to end in one buffer. The two buffers are moved to the other thread, not copied.
 */
export interface RowBatch {
  numbers: Float64Array;
  metas: string;
  bodies: ArrayBuffer;
}

/** Numbers kept per row: offset, queue, enqueuedAt, expiresAt, size, body length. */
const FIELDS = 6;

export function packRows(rows: readonly MessageRow[]): RowBatch {
  const numbers = new Float64Array(rows.length * FIELDS);
  let total = 0;
  for (const row of rows) total += row.body.length;
  const bodies = new ArrayBuffer(total);
  const into = new Uint8Array(bodies);
  const metas: string[] = [];
  let at = 0;
  let n = 0;
  for (const row of rows) {
    numbers[n++] = row.offset;
    numbers[n++] = row.queue;
    numbers[n++] = row.enqueuedAt;
    numbers[n++] = row.expiresAt;
    numbers[n++] = row.size;
    numbers[n++] = row.body.length;
    into.set(row.body, at);
    at += row.body.length;
    metas.push(row.meta);
  }
  return { numbers, metas: metas.join('\n'), bodies };
}

/** The rows back; their bodies are views of the batch's one buffer. */
export function unpackRows(batch: RowBatch): MessageRow[] {
  const count = batch.numbers.length / FIELDS;
  if (count === 0) return [];
  const metas = batch.metas.split('\n');
  const rows: MessageRow[] = [];
  let at = 0;
  for (let index = 0; index < count; index++) {
    const n = index * FIELDS;
    const length = batch.numbers[n + 5]!;
    rows.push({
      offset: batch.numbers[n]!,
      queue: batch.numbers[n + 1]!,
      enqueuedAt: batch.numbers[n + 2]!,
      expiresAt: batch.numbers[n + 3]!,
      size: batch.numbers[n + 4]!,
      meta: metas[index]!,
      body: Buffer.from(batch.bodies, at, length),
    });
    at += length;
  }
  return rows;
}

/** What to hand to postMessage's transfer list so the batch's buffers move instead of being copied. */
export function transferablesOf(batch: RowBatch): ArrayBuffer[] {
  return [batch.numbers.buffer as ArrayBuffer, batch.bodies];
}
