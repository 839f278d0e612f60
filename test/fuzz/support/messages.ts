/**
 * What every error a parser reports must look like: a statement of the problem for a person, not
 * a program's leftovers, and never a secret the input carried.
 */
import assert from 'node:assert/strict';

/** Text that only a bug puts in a message: a stringified object, a missing value, a stack frame. */
const LEFTOVERS = ['[object Object]', 'undefined', 'NaN', '[Function'];
const STACK_FRAME = /\n\s+at /;

export interface MessageRules {
  /** The input as text: a leftover word is fine when the input itself has it (`undefined` is a route literal). */
  input?: string;
  /** Leftover words that are terms of the input's language (the route language's type `undefined`). */
  allow?: readonly string[];
  /** Values that must never appear in the message (keys, passwords, signatures). */
  secrets?: readonly string[];
  /**
   * The message goes into the daemon's log on behalf of a remote client: it must be one line
   * without control characters, so that no client can write log lines of its own.
   */
  logged?: boolean;
}

/** Whether `text` has a C0 control character (line breaks, escape sequences: what JSON.stringify escapes). */
export function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    if (text.charCodeAt(index) < 0x20) return true;
  }
  return false;
}

/** Long enough that a piece of a secret this size in a message is no coincidence. */
const FRAGMENT = 10;

/** The first piece of `secret` (all of it when short) that `text` repeats, or undefined. */
export function secretFragmentIn(text: string, secret: string): string | undefined {
  if (secret === '') return undefined;
  const size = Math.min(FRAGMENT, secret.length);
  for (let start = 0; start + size <= secret.length; start++) {
    const piece = secret.slice(start, start + size);
    if (text.includes(piece)) return piece;
  }
  return undefined;
}

/** Throws when `message` is empty, carries a stack frame, a leftover the input does not explain, or a secret. */
export function assertCleanMessage(message: unknown, rules: MessageRules = {}): void {
  assert.equal(typeof message, 'string', `the message is a string, found ${typeof message}`);
  const text = message as string;
  assert.ok(text.trim() !== '', 'the message is not empty');
  assert.ok(!STACK_FRAME.test(text), `no stack trace in the message: ${text.slice(0, 300)}`);
  if (rules.logged && hasControlCharacter(text))
    assert.fail(`a logged message has a control character: ${JSON.stringify(text)}`);
  const input = rules.input ?? '';
  for (const leftover of LEFTOVERS) {
    if (text.includes(leftover) && !input.includes(leftover) && !rules.allow?.includes(leftover)) {
      assert.fail(
        `the message has ${JSON.stringify(leftover)}, which the input does not: ${text.slice(0, 300)}`,
      );
    }
  }
  for (const secret of rules.secrets ?? []) {
    const piece = secretFragmentIn(text, secret);
    if (piece !== undefined)
      assert.fail(`the message repeats ${JSON.stringify(piece)} of a secret: ${text.slice(0, 300)}`);
  }
}

/**
 * Throws unless `error` is an instance of one of `classes` with a clean message: the only errors a
 * parser may throw are the ones it documents.
 */
export function assertDocumentedError(
  error: unknown,
  classes: readonly (abstract new (...args: never[]) => Error)[],
  rules: MessageRules = {},
): void {
  if (!classes.some((kind) => error instanceof kind)) {
    const described = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
    assert.fail(`expected ${classes.map((kind) => kind.name).join(' or ')}, got ${described}`);
  }
  assertCleanMessage((error as Error).message, rules);
}

/** A JSON input as text for MessageRules.input; empty for a value too deep for JSON.stringify. */
export function inputText(value: unknown): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}
