import { failAt } from './errors.js';

/**
 * Tokens of the route language. `name` is a bare identifier (an application property or a function
 * name), `dollar` a `$name` (system property or `$body.` query), `keyword` one of AND OR NOT SELECT
 * FROM WHERE INTO (any case, `value` lower-cased), `literal` one of true false null undefined.
 */
export type TokenKind = 'number' | 'string' | 'name' | 'dollar' | 'keyword' | 'literal' | 'op' | 'eof';

export interface Token {
  kind: TokenKind;
  /** The token as written (for strings: with quotes). */
  text: string;
  /** 0-based offset in the text given to `tokenize`. */
  offset: number;
  /** Decoded string, number value, lower-cased keyword; the text for the other kinds. */
  value: string | number;
}

const KEYWORDS = new Set(['and', 'or', 'not', 'select', 'from', 'where', 'into']);
const LITERALS = new Set(['true', 'false', 'null', 'undefined']);
const TWO_CHAR_OPS = new Set(['!=', '<>', '<=', '>=', '||', '??']);
const ONE_CHAR_OPS = new Set(['(', ')', ',', '{', '}', '+', '-', '*', '/', '%', '=', '<', '>']);
const HEX = /^0[xX][0-9a-fA-F]+/;
const DECIMAL = /^(?:[0-9]+(?:\.[0-9]+)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/;

function isDigit(c: string): boolean {
  return c >= '0' && c <= '9';
}

export function isNameStart(c: string): boolean {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c === '_' || c.charCodeAt(0) >= 0x80;
}

/**
 * Bare names may contain `.` (dotted property names) and `-` (`alert-level`) when the `-` is
 * followed by a name character, so `a - b` and `a -1` stay arithmetic.
 */
function nameEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length) {
    const c = text[i]!;
    if (isNameStart(c) || isDigit(c) || c === '.') i++;
    else if (c === '-' && i + 1 < text.length && (isNameStart(text[i + 1]!) || isDigit(text[i + 1]!))) i++;
    else break;
  }
  return i;
}

/** Characters that end a `$` name: whitespace and `( ) < > @ , ; : \ " / ? = { }`. */
const DOLLAR_STOP = new Set([...'()<>@,;:\\"/?={}', ' ', '\t', '\n', '\r']);

/**
 * A `$` name (a system property or a `$body` path) runs to the next whitespace or one of
 * `( ) < > @ , ; : \ " / ? = { }`, as in IoT Edge, so JSON keys such as `Welcome!` or `I'm%1` can
 * be queried (`$body.Welcome!.text`). One exception keeps `$body.a!=1` a comparison: a `!` just
 * before `=` ends the name.
 */
function dollarEnd(text: string, from: number): number {
  let i = from;
  while (i < text.length && !DOLLAR_STOP.has(text[i]!) && !text.startsWith('!=', i)) i++;
  return i;
}

function isSpace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r';
}

/** Skips whitespace and `/* *\/` comments from `offset`; returns the next offset. */
export function skipBlanks(text: string, offset: number): number {
  let i = offset;
  for (;;) {
    while (i < text.length && isSpace(text[i]!)) i++;
    if (text.startsWith('/*', i)) {
      const end = text.indexOf('*/', i + 2);
      if (end === -1) failAt(text, i, 'unterminated comment');
      i = end + 2;
    } else {
      return i;
    }
  }
}

/** Tokenizes `text` from `start` to its end; the last token is always `eof`. */
export function tokenize(text: string, start = 0): Token[] {
  const tokens: Token[] = [];
  let i = skipBlanks(text, start);
  while (i < text.length) {
    const token = readToken(text, i);
    tokens.push(token);
    i = skipBlanks(text, i + token.text.length);
  }
  tokens.push({ kind: 'eof', text: '', offset: text.length, value: '' });
  return tokens;
}

function readToken(text: string, i: number): Token {
  const c = text[i]!;
  if (c === '"' || c === "'") return readString(text, i);
  if (isDigit(c) || (c === '.' && isDigit(text[i + 1] ?? ''))) return readNumber(text, i);
  if (c === '$') {
    const end = dollarEnd(text, i + 1);
    if (end === i + 1) failAt(text, i, "expected a property name after '$'");
    const name = text.slice(i, end);
    return { kind: 'dollar', text: name, offset: i, value: name };
  }
  if (isNameStart(c)) {
    const name = text.slice(i, nameEnd(text, i));
    const lower = name.toLowerCase();
    if (KEYWORDS.has(lower)) return { kind: 'keyword', text: name, offset: i, value: lower };
    if (LITERALS.has(name)) return { kind: 'literal', text: name, offset: i, value: name };
    if (LITERALS.has(lower)) failAt(text, i, `'${name}' is not a literal; literals are lower case: ${lower}`);
    return { kind: 'name', text: name, offset: i, value: name };
  }
  const two = text.slice(i, i + 2);
  if (TWO_CHAR_OPS.has(two)) return { kind: 'op', text: two, offset: i, value: two };
  if (ONE_CHAR_OPS.has(c)) return { kind: 'op', text: c, offset: i, value: c };
  return failAt(text, i, `unexpected character ${JSON.stringify(c)}`);
}

function readNumber(text: string, i: number): Token {
  const rest = text.slice(i, i + 400);
  const hex = HEX.exec(rest);
  const match = hex ?? DECIMAL.exec(rest)!;
  const end = i + match[0].length;
  const next = text[end] ?? '';
  if (isNameStart(next) || isDigit(next) || next === '.') {
    failAt(text, i, `invalid number '${text.slice(i, nameEnd(text, i))}'`);
  }
  const value = hex === null ? Number(match[0]) : parseInt(match[0].slice(2), 16);
  return { kind: 'number', text: match[0], offset: i, value };
}

function readString(text: string, start: number): Token {
  const quote = text[start]!;
  let value = '';
  let i = start + 1;
  while (i < text.length && text[i] !== quote) {
    if (text[i] !== '\\') {
      value += text[i++];
      continue;
    }
    const escaped = text[i + 1];
    if (escaped === '"' || escaped === "'" || escaped === '\\') {
      value += escaped;
      i += 2;
    } else if (escaped === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) {
      value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
      i += 6;
    } else {
      failAt(text, i, `invalid escape sequence in string; allowed: \\' \\" \\\\ \\uXXXX`);
    }
  }
  if (i >= text.length) failAt(text, start, 'unterminated string');
  return { kind: 'string', text: text.slice(start, i + 1), offset: start, value };
}
