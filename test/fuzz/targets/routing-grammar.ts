/** Route language text for fuzzing: the words of the language and conditions built from its grammar. */
import fc from 'fast-check';

export const FUNCTIONS = [
  'abs', 'exp', 'power', 'square', 'ceiling', 'floor', 'sign', 'sqrt', 'as_number', 'is_bool', 'is_defined',
  'is_null', 'is_number', 'is_string', 'concat', 'length', 'lower', 'upper', 'substring', 'index_of',
  'starts_with', 'ends_with', 'contains', 'twin_change_includes', 'ABS', 'foo',
]; // prettier-ignore

const PROPERTIES = ['temp', 'alert-level', 'a.b', 'Temp', 'x1', '_', 'é', 'properties.reported.x', 'tags.t'];
const DOLLARS = [
  '$body.temp', '$body.a[0].b', '$body.a.b[2]', '$body.s', '$contentType', '$contentEncoding', '$messageId',
  '$connectionDeviceId', '$connectionModuleId', '$cid', '$absolute-expiry-time', '$unknown', '$body', '$body.',
  '$body.a[', '$body.Welcome!.text', '{$messageId}', '{$correlationId}', '{$x}', '$body.a[99999999999999999999]',
]; // prettier-ignore
const STRINGS = [
  `'x'`,
  `"é"`,
  `'it\\'s'`,
  `'\\u0041'`,
  `""`,
  `'30'`,
  `"a\\"b"`,
  `'\\ud800'`,
  `'\\x'`,
  `'open`,
];
const NUMBERS = [
  '0',
  '1',
  '30',
  '1.5',
  '.5',
  '1e3',
  '1.5e-3',
  '0x10',
  '0XfF',
  '1e400',
  '9007199254740993',
  '1.',
];
const LITERALS = ['true', 'false', 'null', 'undefined', 'TRUE', 'Null'];
const BINARY = [
  '*',
  '/',
  '%',
  '+',
  '-',
  '||',
  '<',
  '<=',
  '>',
  '>=',
  '=',
  '!=',
  '<>',
  'AND',
  'OR',
  'and',
  '??',
];

export const SOURCES = [
  '/*', '/messages', '/messages/*', '/messages/modules/m1/*', '/messages/modules/m1/outputs/out1',
  '/twinChangeNotifications', '/', '/messages/modules/*/outputs/o1', 'messages', '/x//y', '/a"b',
]; // prettier-ignore
export const SINKS = [
  '$upstream', '$UPSTREAM', 'BrokeredEndpoint("/modules/m/inputs/i")', "brokeredendpoint('/modules/m/inputs/i/')",
  'BrokeredEndpoint("/modules//inputs/i")', 'BrokeredEndpoint(/modules/m/inputs/i)', '$foo',
]; // prettier-ignore

/** Every word the route language knows, and some it does not. */
export const ROUTE_WORDS = [
  ...FUNCTIONS, ...PROPERTIES, ...DOLLARS, ...STRINGS, ...NUMBERS, ...LITERALS, ...BINARY, ...SOURCES, ...SINKS,
  'SELECT', '*', 'FROM', 'WHERE', 'INTO', 'NOT', 'select', 'from', 'where', 'into', '(', ')', ',', '{', '}',
  '/*', '*/', '/* c */', '"', "'", '$', '!', '?', '\\', '[', ']', '.',
]; // prettier-ignore

/** A syntactically plausible condition (not always well typed). */
export const condition: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
  expr: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constantFrom(...PROPERTIES, ...DOLLARS, ...STRINGS, ...NUMBERS, ...LITERALS),
    fc
      .tuple(tie('expr'), fc.constantFrom(...BINARY), tie('expr'))
      .map(([left, op, right]) => `${left} ${op} ${right}`),
    fc.tuple(fc.constantFrom('NOT ', 'not ', '-', '- '), tie('expr')).map(([op, operand]) => op + operand),
    tie('expr').map((inner) => `(${inner})`),
    fc
      .tuple(fc.constantFrom(...FUNCTIONS), fc.array(tie('expr'), { maxLength: 3 }))
      .map(([name, args]) => `${name}(${args.join(', ')})`),
  ),
})).expr;

/** A route around a generated condition (sometimes without WHERE, sometimes with SELECT *). */
export const route: fc.Arbitrary<string> = fc
  .record({
    select: fc.boolean(),
    source: fc.constantFrom(...SOURCES.slice(0, 8)),
    where: fc.option(condition, { nil: undefined }),
    sink: fc.constantFrom(...SINKS.slice(0, 4)),
  })
  .map(
    ({ select, source, where, sink }) =>
      `${select ? 'SELECT * ' : ''}FROM ${source}${where === undefined ? '' : ` WHERE ${where}`} INTO ${sink}`,
  );

/** Valid routes from the reference, to splice words into. */
export const VALID_ROUTES = [
  'FROM /messages/* INTO $upstream',
  'FROM /messages/modules/sensor/* WHERE $body.temp > 30 AND is_defined(alert) INTO BrokeredEndpoint("/modules/filter/inputs/in")',
  "SELECT * FROM /twinChangeNotifications WHERE twin_change_includes(properties.reported.temp) INTO $upstream",
  "FROM /* WHERE NOT ($contentType = 'application/json') OR lower($body.s) = 'x' INTO $upstream",
  'FROM /messages/modules/m1/outputs/out1 WHERE as_number(level) >= 2.5e1 ?? false INTO $upstream',
  "FROM /* WHERE substring(concat('a', {$messageId}, \"b\"), 1, 2) <> 'x' /* note */ INTO $upstream",
]; // prettier-ignore
