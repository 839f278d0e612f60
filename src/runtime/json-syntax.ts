/**
 * Where JSON text stops being valid, for error messages that must not quote the text itself: V8's
 * JSON.parse messages embed a slice of the input, which could echo a secret (a registry password in
 * a deployment manifest, a token in a module's createOptions).
 */

export interface JsonSyntaxError {
  /** 0-based UTF-16 offset of the offending character (the text's length for a premature end). */
  offset: number;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  reason: string;
}

class Located extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const HEX4 = /[0-9a-fA-F]{4}/y;

/** The first syntax error in `text` with its offset, or undefined when it is valid JSON. */
function locate(text: string): Located | undefined {
  let i = 0;

  const fail = (reason: string, at = i): never => {
    throw new Located(at, reason);
  };
  const unexpected = (): never =>
    i >= text.length
      ? fail('unexpected end of input')
      : fail(`unexpected character ${JSON.stringify(text[i])}`);
  const skipSpace = (): void => {
    while (i < text.length && ' \t\n\r'.includes(text[i])) i++;
  };
  const expect = (char: string): void => {
    if (text[i] !== char) unexpected();
    i++;
  };

  const string = (): void => {
    i++;
    for (;;) {
      if (i >= text.length) fail('unterminated string');
      const char = text[i];
      if (char === '"') {
        i++;
        return;
      }
      if (char < ' ') fail('control character in string');
      if (char === '\\') {
        const escape = text[i + 1];
        if (escape === 'u') {
          HEX4.lastIndex = i + 2;
          if (!HEX4.test(text)) fail('invalid \\u escape in string');
          i += 6;
          continue;
        }
        if (escape === undefined || !'"\\/bfnrt'.includes(escape)) fail('invalid escape in string');
        i += 2;
        continue;
      }
      i++;
    }
  };

  const members = (close: string, member: () => void): void => {
    i++;
    skipSpace();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      member();
      skipSpace();
      if (text[i] === ',') {
        i++;
        skipSpace();
        continue;
      }
      if (text[i] === close) {
        i++;
        return;
      }
      unexpected();
    }
  };

  const value = (): void => {
    const char = text[i];
    if (char === '{') {
      members('}', () => {
        if (text[i] !== '"') {
          if (i >= text.length) unexpected();
          fail('expected a property name in double quotes');
        }
        string();
        skipSpace();
        expect(':');
        skipSpace();
        value();
      });
    } else if (char === '[') {
      members(']', value);
    } else if (char === '"') {
      string();
    } else if (char === '-' || (char >= '0' && char <= '9')) {
      NUMBER.lastIndex = i;
      if (!NUMBER.test(text)) fail('invalid number');
      i = NUMBER.lastIndex;
    } else {
      const literal = ['true', 'false', 'null'].find((word) => text.startsWith(word, i));
      if (literal === undefined) unexpected();
      else i += literal.length;
    }
  };

  try {
    skipSpace();
    value();
    skipSpace();
    if (i < text.length) fail('unexpected data after the JSON value');
    return undefined;
  } catch (error) {
    if (error instanceof Located) return error;
    // Nesting deep enough to exhaust the stack: JSON.parse has already said the text is bad.
    return new Located(i, 'nested too deeply');
  }
}

/** The first syntax error in `text`, or undefined when it is valid JSON. */
export function findJsonSyntaxError(text: string): JsonSyntaxError | undefined {
  const found = locate(text);
  if (found === undefined) return undefined;
  const before = text.slice(0, found.offset);
  const line = before.split('\n').length;
  const column = found.offset - (before.lastIndexOf('\n') + 1) + 1;
  return { offset: found.offset, line, column, reason: found.reason };
}

/** JSON.parse with an error message (`<reason> at position <offset>`) that never contains the input. */
export function parseJsonQuietly(
  text: string,
): { ok: true; value: unknown } | { ok: false; message: string } {
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    const found = findJsonSyntaxError(text);
    const where = found ?? { offset: 0, reason: 'invalid JSON' };
    return { ok: false, message: `${where.reason} at position ${where.offset}` };
  }
}
