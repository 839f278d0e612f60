import { failAt } from './errors.js';
import type { Token } from './lexer.js';
import type { Value } from './values.js';

export type BinaryOp =
  '*' | '/' | '%' | '+' | '-' | '||' | '<' | '<=' | '>' | '>=' | '=' | '!=' | '<>' | 'and' | 'or' | '??';

/** The condition's syntax tree; `offset` (0-based) is where errors about the node point. */
export type Node =
  | { kind: 'literal'; value: Value; offset: number }
  /** A bare identifier: an application property. */
  | { kind: 'property'; name: string; offset: number }
  /** `$name` (escaped: written `{$name}`); `name` excludes the `$`. */
  | { kind: 'dollar'; name: string; escaped: boolean; offset: number }
  | { kind: 'call'; name: string; args: Node[]; offset: number }
  | { kind: 'unary'; op: '-' | 'not'; operand: Node; offset: number }
  | { kind: 'binary'; op: BinaryOp; left: Node; right: Node; offset: number };

/** Binding power of binary operators, loosest first. */
const PRECEDENCE: Record<BinaryOp, number> = {
  '??': 1,
  or: 2,
  and: 3,
  '=': 4,
  '!=': 4,
  '<>': 4,
  '<': 5,
  '<=': 5,
  '>': 5,
  '>=': 5,
  '+': 6,
  '-': 6,
  '||': 6,
  '*': 7,
  '/': 7,
  '%': 7,
};

function binaryOp(token: Token): BinaryOp | undefined {
  if (token.kind !== 'op' && token.kind !== 'keyword') return undefined;
  const op = token.value as string;
  return Object.hasOwn(PRECEDENCE, op) ? (op as BinaryOp) : undefined;
}

export function describeToken(token: Token): string {
  if (token.kind === 'eof') return 'end of text';
  if (token.kind === 'keyword') return token.text.toUpperCase();
  if (token.kind === 'string') return token.text;
  return `'${token.text}'`;
}

/**
 * Parses one condition expression starting at `tokens[index]` and stops at the first token that
 * cannot continue it (INTO, end of text, or an error the caller reports).
 */
export function parseCondition(
  text: string,
  tokens: readonly Token[],
  index: number,
): { node: Node; next: number } {
  const parser = new Parser(text, tokens, index);
  const node = parser.expression(1);
  // a long chain (a AND b AND c …) nests its tree without nesting the text
  if (treeDepth(node) > MAX_NESTING * 4)
    failAt(text, tokens[index]!.offset, `the condition nests more than ${MAX_NESTING} levels deep`);
  return { node, next: parser.index };
}

/** The depth of a syntax tree, counted without recursion. */
function treeDepth(root: Node): number {
  let deepest = 0;
  const pending: [Node, number][] = [[root, 1]];
  while (pending.length > 0) {
    const [node, depth] = pending.pop()!;
    deepest = Math.max(deepest, depth);
    if (node.kind === 'binary') pending.push([node.left, depth + 1], [node.right, depth + 1]);
    else if (node.kind === 'unary') pending.push([node.operand, depth + 1]);
    else if (node.kind === 'call') for (const arg of node.args) pending.push([arg, depth + 1]);
  }
  return deepest;
}

/**
 * How deeply a condition may nest (parentheses, function calls, NOT and minus): far beyond any
 * real condition, and far below what the compiler's and evaluator's recursion can hold.
 */
export const MAX_NESTING = 200;

class Parser {
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: readonly Token[],
    public index: number,
  ) {}

  private peek(): Token {
    return this.tokens[this.index]!;
  }

  private take(): Token {
    return this.tokens[this.index++]!;
  }

  private isOp(value: string): boolean {
    const token = this.peek();
    return token.kind === 'op' && token.value === value;
  }

  private expect(value: string, problem: string): void {
    if (!this.isOp(value)) this.fail(this.peek(), `${problem}, found ${describeToken(this.peek())}`);
    this.index++;
  }

  private fail(token: Token, problem: string): never {
    return failAt(this.text, token.offset, problem);
  }

  /** Runs `parse` one level deeper, refusing a condition nested beyond MAX_NESTING. */
  private nested<T>(parse: () => T): T {
    if (this.depth >= MAX_NESTING)
      this.fail(this.peek(), `the condition nests more than ${MAX_NESTING} levels deep`);
    this.depth++;
    try {
      return parse();
    } finally {
      this.depth--;
    }
  }

  /** Precedence climbing: all operators are left-associative. */
  expression(minPrecedence: number): Node {
    return this.nested(() => {
      let left = this.unary();
      for (;;) {
        const token = this.peek();
        const op = binaryOp(token);
        if (op === undefined || PRECEDENCE[op] < minPrecedence) return left;
        this.index++;
        const right = this.expression(PRECEDENCE[op] + 1);
        left = { kind: 'binary', op, left, right, offset: token.offset };
      }
    });
  }

  private unary(): Node {
    const token = this.peek();
    if ((token.kind === 'op' && token.value === '-') || (token.kind === 'keyword' && token.value === 'not')) {
      this.index++;
      const op = token.value === '-' ? '-' : 'not';
      return this.nested(() => ({ kind: 'unary', op, operand: this.unary(), offset: token.offset }));
    }
    return this.primary();
  }

  private primary(): Node {
    const token = this.take();
    switch (token.kind) {
      case 'number':
      case 'string':
        return { kind: 'literal', value: token.value, offset: token.offset };
      case 'literal':
        return { kind: 'literal', value: literalValue(token.text), offset: token.offset };
      case 'dollar':
        return { kind: 'dollar', name: token.text.slice(1), escaped: false, offset: token.offset };
      case 'name':
        return this.isOp('(')
          ? this.call(token)
          : { kind: 'property', name: token.text, offset: token.offset };
      case 'op':
        if (token.value === '(') {
          const inner = this.expression(1);
          this.expect(')', `expected ')' to close the '(' at position ${token.offset + 1}`);
          return inner;
        }
        if (token.value === '{') {
          const name = this.take();
          if (name.kind !== 'dollar')
            this.fail(name, `expected a $name after '{', found ${describeToken(name)}`);
          this.expect('}', "expected '}' after the $name");
          return { kind: 'dollar', name: name.text.slice(1), escaped: true, offset: name.offset };
        }
        return this.fail(token, `expected an expression, found ${describeToken(token)}`);
      default:
        return this.fail(token, `expected an expression, found ${describeToken(token)}`);
    }
  }

  private call(name: Token): Node {
    this.index++;
    const args: Node[] = [];
    if (!this.isOp(')')) {
      args.push(this.expression(1));
      while (this.isOp(',')) {
        this.index++;
        args.push(this.expression(1));
      }
    }
    this.expect(')', `expected ',' or ')' in the arguments of ${name.text}`);
    return { kind: 'call', name: name.text, args, offset: name.offset };
  }
}

function literalValue(text: string): Value {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  return undefined;
}
