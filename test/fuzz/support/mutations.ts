/**
 * Structure-aware mutations of valid inputs: edits of a JSON document at a node chosen among all
 * of its nodes, splices of text, and bit flips of bytes. Each edit is plain data, so fast-check
 * shrinks a failing case to the fewest and smallest edits.
 */
import fc from 'fast-check';

import { nastyJson, nastyKey } from './arbitraries.js';

type Json = unknown;
type Path = (string | number)[];

const JSON_OPS = ['replace', 'delete', 'rename', 'insert', 'wrap', 'stringify'] as const;

export interface JsonEdit {
  /** Which node, modulo the number of nodes (the root is node 0). */
  at: number;
  op: (typeof JSON_OPS)[number];
  value: Json;
  key: string;
}

export const jsonEdits: fc.Arbitrary<JsonEdit[]> = fc.array(
  fc.record({ at: fc.nat(), op: fc.constantFrom(...JSON_OPS), value: nastyJson, key: nastyKey }),
  { minLength: 1, maxLength: 4 },
);

const isObject = (value: Json): value is Record<string, Json> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Sets an own property, `__proto__` included. */
function setOwn(target: Record<string, Json>, key: string, value: Json): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

function paths(value: Json, prefix: Path = [], out: Path[] = []): Path[] {
  out.push(prefix);
  if (Array.isArray(value)) value.forEach((item, index) => paths(item, [...prefix, index], out));
  else if (isObject(value)) for (const key of Object.keys(value)) paths(value[key], [...prefix, key], out);
  return out;
}

function nodeAt(root: Json, path: Path): Json {
  let node = root;
  for (const step of path) node = (node as Record<string | number, Json>)[step];
  return node;
}

/** `root` with the node at `path` replaced by `value` (undefined deletes it); edits in place. */
function put(root: Json, path: Path, value: Json | undefined): Json {
  if (path.length === 0) return value ?? null;
  const parent = nodeAt(root, path.slice(0, -1));
  const last = path[path.length - 1]!;
  if (Array.isArray(parent)) {
    if (value === undefined) parent.splice(last as number, 1);
    else parent[last as number] = value;
  } else if (isObject(parent)) {
    if (value === undefined) delete parent[last];
    else setOwn(parent, last as string, value);
  }
  return root;
}

function applyEdit(root: Json, edit: JsonEdit): Json {
  const all = paths(root);
  const path = all[edit.at % all.length]!;
  const node = nodeAt(root, path);
  switch (edit.op) {
    case 'replace':
      return put(root, path, edit.value);
    case 'delete':
      return put(root, path, undefined);
    case 'rename': {
      if (path.length === 0 || typeof path[path.length - 1] !== 'string') return put(root, path, edit.value);
      const parent = nodeAt(root, path.slice(0, -1)) as Record<string, Json>;
      delete parent[path[path.length - 1] as string];
      setOwn(parent, edit.key, node);
      return root;
    }
    case 'insert':
      if (Array.isArray(node)) node.push(edit.value);
      else if (isObject(node)) setOwn(node, edit.key, edit.value);
      else return put(root, path, edit.value);
      return root;
    case 'wrap':
      return put(
        root,
        path,
        typeof edit.value === 'boolean' ? [node] : Object.fromEntries([[edit.key, node]]),
      );
    case 'stringify':
      return put(root, path, JSON.stringify(node) ?? null);
  }
}

/** `document` after `edits`, as JSON.parse would hand it over (the input is not changed). */
export function applyJsonEdits(document: Json, edits: readonly JsonEdit[]): Json {
  let result = JSON.parse(JSON.stringify(document)) as Json;
  for (const edit of edits) result = applyEdit(result, edit);
  return JSON.parse(JSON.stringify(result));
}

const TEXT_OPS = ['insert', 'delete', 'replace', 'duplicate', 'case'] as const;

export interface TextEdit {
  at: number;
  length: number;
  op: (typeof TEXT_OPS)[number];
  piece: string;
}

/** Edits of text that insert or replace with `pieces` (tokens of the language, or random text). */
export function textEdits(pieces: fc.Arbitrary<string>): fc.Arbitrary<TextEdit[]> {
  return fc.array(
    fc.record({ at: fc.nat(), length: fc.nat({ max: 8 }), op: fc.constantFrom(...TEXT_OPS), piece: pieces }),
    { minLength: 1, maxLength: 4 },
  );
}

export function applyTextEdits(text: string, edits: readonly TextEdit[]): string {
  let result = text;
  for (const edit of edits) {
    const at = edit.at % (result.length + 1);
    const end = Math.min(result.length, at + edit.length);
    const before = result.slice(0, at);
    const span = result.slice(at, end);
    const after = result.slice(end);
    switch (edit.op) {
      case 'insert':
        result = before + edit.piece + span + after;
        break;
      case 'delete':
        result = before + after;
        break;
      case 'replace':
        result = before + edit.piece + after;
        break;
      case 'duplicate':
        result = before + span + span + after;
        break;
      case 'case':
        result = before + (span === span.toUpperCase() ? span.toLowerCase() : span.toUpperCase()) + after;
        break;
    }
  }
  return result;
}

const BYTE_OPS = ['flip', 'set', 'insert', 'delete', 'truncate'] as const;

export interface ByteEdit {
  at: number;
  op: (typeof BYTE_OPS)[number];
  byte: number;
  bytes: Uint8Array;
}

export const byteEdits: fc.Arbitrary<ByteEdit[]> = fc.array(
  fc.record({
    at: fc.nat(),
    op: fc.constantFrom(...BYTE_OPS),
    byte: fc.integer({ min: 0, max: 255 }),
    bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
  }),
  { minLength: 1, maxLength: 4 },
);

/** `bytes` after `edits`; a flip toggles one bit (bit `byte % 8`) of the byte at `at`. */
export function applyByteEdits(bytes: Uint8Array, edits: readonly ByteEdit[]): Buffer {
  let result = Buffer.from(bytes);
  for (const edit of edits) {
    const at = edit.at % (result.length + 1);
    switch (edit.op) {
      case 'flip':
        if (at < result.length) result[at] ^= 1 << (edit.byte % 8);
        break;
      case 'set':
        if (at < result.length) result[at] = edit.byte;
        break;
      case 'insert':
        result = Buffer.concat([result.subarray(0, at), edit.bytes, result.subarray(at)]);
        break;
      case 'delete':
        result = Buffer.concat([result.subarray(0, at), result.subarray(at + edit.bytes.length)]);
        break;
      case 'truncate':
        result = result.subarray(0, at);
        break;
    }
  }
  return result;
}
