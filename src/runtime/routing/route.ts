import type { HubMessage } from './message.js';
import { compileNode } from './condition.js';
import { describeToken, parseCondition } from './condition-parser.js';
import { failAt, RouteError } from './errors.js';
import { isNameStart, skipBlanks, tokenize, type Token } from './lexer.js';
import { parseSource, receivesTwinChanges, sourceKey, sourceMatches, type RouteSource } from './source.js';
import type { Evaluator } from './values.js';

export type Sink = { kind: 'upstream' } | { kind: 'module-input'; moduleId: string; inputName: string };

export interface CompiledRoute {
  readonly text: string;
  readonly source: RouteSource;
  /** The WHERE clause as written, absent when the route has none. */
  readonly condition?: string;
  readonly sink: Sink;
  /** The source matches and the condition is true. */
  matches(message: HubMessage): boolean;
  /** Same, with the message's `sourceKey` computed once by the caller for all routes. */
  matchesKey(message: HubMessage, key: string): boolean;
}

/** One key per endpoint: `$upstream` or `/modules/{m}/inputs/{i}`. */
export function endpointId(sink: Sink): string {
  return sink.kind === 'upstream' ? '$upstream' : `/modules/${sink.moduleId}/inputs/${sink.inputName}`;
}

/**
 * Parses and type-checks `[SELECT *] FROM <source> [WHERE <condition>] INTO <sink>` (keywords in
 * any case). Throws RouteError with the 1-based column of the problem in `text`.
 */
export function compileRoute(text: string): CompiledRoute {
  if (text.trim() === '') throw new RouteError('the route is empty');
  let offset = skipBlanks(text, 0);
  if (keywordAt(text, offset, 'select')) {
    offset = skipBlanks(text, offset + 'select'.length);
    if (text[offset] !== '*') failAt(text, offset, "expected '*' after SELECT (only SELECT * is supported)");
    offset = skipBlanks(text, offset + 1);
  }
  if (!keywordAt(text, offset, 'from')) failAt(text, offset, 'expected FROM');
  offset += 'from'.length;
  while (offset < text.length && /\s/.test(text[offset]!)) offset++;

  const sourceStart = offset;
  while (offset < text.length && !/\s/.test(text[offset]!)) offset++;
  if (offset === sourceStart) failAt(text, sourceStart, 'expected a source after FROM, e.g. /messages/*');
  const source = parseSource(text.slice(sourceStart, offset));
  if (typeof source === 'string') failAt(text, sourceStart, source);

  const tokens = tokenize(text, offset);
  let index = 0;
  let condition: string | undefined;
  let evaluate: Evaluator | undefined;
  if (isKeyword(tokens[0]!, 'where')) {
    if (isKeyword(tokens[1]!, 'into') || tokens[1]!.kind === 'eof') {
      failAt(text, tokens[1]!.offset, 'expected a condition after WHERE');
    }
    const parsed = parseCondition(text, tokens, 1);
    index = parsed.next;
    condition = text.slice(tokens[0]!.offset + tokens[0]!.text.length, tokens[index]!.offset).trim();
    evaluate = compileNode(text, parsed.node, { twinChangeIncludes: receivesTwinChanges(source) });
  }
  const into = tokens[index]!;
  if (!isKeyword(into, 'into')) {
    failAt(
      text,
      into.offset,
      `expected ${condition === undefined ? 'WHERE or ' : ''}INTO, found ${describeToken(into)}`,
    );
  }
  const sink = parseSink(text, tokens, index + 1);
  return route(text, source, sink, condition, evaluate);
}

function route(
  text: string,
  source: RouteSource,
  sink: Sink,
  condition: string | undefined,
  evaluate: Evaluator | undefined,
): CompiledRoute {
  const matchesKey =
    evaluate === undefined
      ? (_message: HubMessage, key: string) => sourceMatches(source, key)
      : (message: HubMessage, key: string) => sourceMatches(source, key) && evaluate(message) === true;
  return {
    text,
    source,
    sink,
    ...(condition === undefined ? {} : { condition }),
    matchesKey,
    matches: (message) => matchesKey(message, sourceKey(message)),
  };
}

function keywordAt(text: string, offset: number, keyword: string): boolean {
  const next = text[offset + keyword.length] ?? '';
  return (
    text.slice(offset, offset + keyword.length).toLowerCase() === keyword &&
    !isNameStart(next) &&
    !/[0-9]/.test(next)
  );
}

function isKeyword(token: Token, keyword: string): boolean {
  return token.kind === 'keyword' && token.value === keyword;
}

const SINK_HINT = 'expected $upstream or BrokeredEndpoint("/modules/<module>/inputs/<input>")';

function parseSink(text: string, tokens: readonly Token[], index: number): Sink {
  const first = tokens[index]!;
  let sink: Sink;
  let next: number;
  if (first.kind === 'dollar') {
    if (first.text.toLowerCase() !== '$upstream')
      failAt(text, first.offset, `unknown endpoint '${first.text}': ${SINK_HINT}`);
    sink = { kind: 'upstream' };
    next = index + 1;
  } else if (first.kind === 'name' && first.text.toLowerCase() === 'brokeredendpoint') {
    const open = tokens[index + 1]!;
    const address = tokens[index + 2]!;
    const close = tokens[index + 3]!;
    if (open.value !== '(' || open.kind !== 'op')
      failAt(text, open.offset, `expected '(' after ${first.text}`);
    if (address.kind !== 'string')
      failAt(text, address.offset, `expected a quoted address, e.g. "/modules/m/inputs/i"`);
    if (close.value !== ')' || close.kind !== 'op')
      failAt(text, close.offset, `expected ')' after the address`);
    sink = moduleInput(text, address);
    next = index + 4;
  } else {
    return failAt(text, first.offset, `${SINK_HINT}, found ${describeToken(first)}`);
  }
  const rest = tokens[next]!;
  if (rest.kind !== 'eof') failAt(text, rest.offset, `unexpected ${describeToken(rest)} after the endpoint`);
  return sink;
}

function moduleInput(text: string, address: Token): Sink {
  const path = (address.value as string).replace(/^\//, '').replace(/\/$/, '');
  const segments = path.split('/');
  const [modules, moduleId, inputs, inputName] = segments;
  if (
    segments.length !== 4 ||
    modules!.toLowerCase() !== 'modules' ||
    inputs!.toLowerCase() !== 'inputs' ||
    moduleId === '' ||
    inputName === ''
  ) {
    failAt(
      text,
      address.offset,
      `invalid endpoint address ${address.text}: expected "/modules/<module>/inputs/<input>"`,
    );
  }
  return { kind: 'module-input', moduleId: moduleId!, inputName: inputName! };
}
