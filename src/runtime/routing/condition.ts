import type { HubMessage, SystemPropertyName } from './message.js';
import { parsePath, patchIncludes, queryBody, type PathStep } from './body-query.js';
import { describeToken, parseCondition, type Node } from './condition-parser.js';
import { failAt } from './errors.js';
import {
  acceptsArgument,
  BUILTINS,
  describeArity,
  describeParam,
  paramAt,
  TWIN_CHANGE_INCLUDES,
  type Builtin,
} from './functions.js';
import { tokenize } from './lexer.js';
import { binary, unary, type Typed } from './operators.js';
import { appProperty, dollarProperty, systemProperty, systemPropertyKey } from './properties.js';
import { describeType, type Evaluator, type Value } from './values.js';

export interface ConditionOptions {
  /** twin_change_includes is allowed only where twin change notifications can arrive. */
  twinChangeIncludes?: boolean;
}

export interface CompiledCondition {
  readonly text: string;
  /** The condition's value: true, false, undefined, or any other value it computes (`3`, null). */
  evaluate(message: HubMessage): Value;
  /**
   * The condition as a truth value, as IoT Edge reports it: true or false, false for the literal
   * null (and what AND and OR make of it), undefined for anything else.
   */
  truth(message: HubMessage): boolean | undefined;
  /** Only a final `true` routes a message. */
  matches(message: HubMessage): boolean;
}

/** Compiles a condition on its own; error positions are columns of `text`. */
export function compileCondition(text: string, options: ConditionOptions = {}): CompiledCondition {
  const tokens = tokenize(text);
  if (tokens[0]!.kind === 'eof') failAt(text, 0, 'the condition is empty');
  const { node, next } = parseCondition(text, tokens, 0);
  const rest = tokens[next]!;
  if (rest.kind !== 'eof') failAt(text, rest.offset, `unexpected ${describeToken(rest)}`);
  const root = new Compiler(text, options).compile(node);
  const evaluate = root.run;
  const truth =
    root.type === 'null'
      ? () => false
      : (message: HubMessage) => {
          const value = evaluate(message);
          return value === true || value === false ? value : undefined;
        };
  return { text, evaluate, truth, matches: (message) => evaluate(message) === true };
}

/**
 * Type-checks a parsed condition and turns it into one evaluator; `text` is for error positions.
 * A condition of any type compiles (IoT Hub: any value but true counts as false), so `WHERE 3` or
 * `WHERE $body.flag` are valid; only true routes.
 */
export function compileNode(text: string, node: Node, options: ConditionOptions): Evaluator {
  return new Compiler(text, options).compile(node).run;
}

const BODY_PREFIX = 'body.';

class Compiler {
  constructor(
    private readonly text: string,
    private readonly options: ConditionOptions,
  ) {}

  private failer(offset: number): (problem: string) => never {
    return (problem) => failAt(this.text, offset, problem);
  }

  compile(node: Node): Typed {
    switch (node.kind) {
      case 'literal': {
        const value = node.value;
        const type =
          value === null
            ? 'null'
            : value === undefined
              ? 'undefined'
              : typeof value === 'boolean'
                ? 'bool'
                : typeof value === 'number'
                  ? 'number'
                  : 'string';
        return { type, run: () => value };
      }
      case 'property':
        return { type: 'string', run: appProperty(node.name), isProperty: true };
      case 'dollar':
        return this.dollar(node.name, node.escaped, node.offset);
      case 'call':
        return this.call(node.name, node.args, node.offset);
      case 'unary':
        return unary(node.op, this.compile(node.operand), this.failer(node.offset));
      case 'binary':
        return binary(node.op, this.compile(node.left), this.compile(node.right), this.failer(node.offset));
    }
  }

  /**
   * `$name`. A `$body.` path reads the message body, unless an application property is literally
   * named so (IoT Edge lets it win); `{$body.path}` and paths with `[index]` always read the body.
   * Other names are an application property literally named `$name`, else the system property
   * `name`; `{$name}` is the system property only.
   */
  private dollar(name: string, escaped: boolean, offset: number): Typed {
    const brackets = name.includes('[') || name.includes(']');
    if (name.toLowerCase().startsWith(BODY_PREFIX)) {
      const steps = this.path(name.slice(BODY_PREFIX.length), offset);
      const body = (m: HubMessage) => queryBody(m, steps);
      if (escaped || brackets) return { type: 'dynamic', run: body };
      const app = appProperty(`$${name}`);
      return { type: 'dynamic', run: (m) => app(m) ?? body(m) };
    }
    if (brackets) {
      failAt(this.text, offset, `'[' and ']' are only allowed in $body paths ('$${name}')`);
    }
    if (escaped) {
      const key: SystemPropertyName | undefined = systemPropertyKey(name);
      return {
        type: 'string',
        run: key === undefined ? () => undefined : systemProperty(key),
        isProperty: true,
      };
    }
    return { type: 'string', run: dollarProperty(name), isProperty: true };
  }

  private path(path: string, offset: number): PathStep[] {
    const steps = parsePath(path);
    if (typeof steps === 'string') failAt(this.text, offset, steps);
    return steps;
  }

  private call(name: string, args: readonly Node[], offset: number): Typed {
    const lower = name.toLowerCase();
    if (lower === TWIN_CHANGE_INCLUDES) return this.twinChangeIncludes(name, args, offset);
    const builtin = BUILTINS.get(lower);
    if (builtin === undefined) failAt(this.text, offset, `unknown function '${name}'`);
    const max = builtin.variadic ? Infinity : builtin.params.length;
    if (args.length < (builtin.min ?? builtin.params.length) || args.length > max) {
      failAt(this.text, offset, `${lower} expects ${describeArity(builtin)}, found ${args.length}`);
    }
    const compiled = args.map((arg, index) => {
      const typed = this.compile(arg);
      const param = paramAt(builtin, index);
      if (!acceptsArgument(param, typed.type)) {
        const hint =
          typed.isProperty && param !== 'any' && param.includes('number')
            ? ' (properties are strings: use as_number(...))'
            : '';
        failAt(
          this.text,
          arg.offset,
          `argument ${index + 1} of ${lower} must be ${describeParam(param)}, found ${describeType(typed.type)}${hint}`,
        );
      }
      return typed.run;
    });
    return { type: builtin.returns, run: invoke(builtin, compiled) };
  }

  private twinChangeIncludes(name: string, args: readonly Node[], offset: number): Typed {
    if (!this.options.twinChangeIncludes) {
      failAt(
        this.text,
        offset,
        `${name} is only allowed in routes FROM /twinChangeNotifications (or FROM /*)`,
      );
    }
    const arg = args[0];
    if (args.length !== 1 || arg === undefined || arg.kind !== 'property') {
      failAt(
        this.text,
        offset,
        `${name} expects one property path, e.g. ${TWIN_CHANGE_INCLUDES}(properties.reported.x)`,
      );
    }
    const lower = arg.name.toLowerCase();
    if (
      !['properties.reported.', 'properties.desired.', 'tags.'].some((prefix) => lower.startsWith(prefix))
    ) {
      failAt(
        this.text,
        arg.offset,
        `'${arg.name}' must start with properties.reported., properties.desired. or tags.`,
      );
    }
    const steps = this.path(arg.name, arg.offset);
    return { type: 'bool', run: (m) => patchIncludes(m, steps) };
  }
}

/** A call with its arguments evaluated positionally, without building an array for 1 to 3. */
function invoke(builtin: Builtin, args: readonly Evaluator[]): Evaluator {
  const run = builtin.run;
  const [a, b, c] = args;
  switch (args.length) {
    case 1:
      return (m) => run(a!(m));
    case 2:
      return (m) => run(a!(m), b!(m));
    case 3:
      return (m) => run(a!(m), b!(m), c!(m));
    default:
      return (m) => run(...args.map((arg) => arg(m)));
  }
}
