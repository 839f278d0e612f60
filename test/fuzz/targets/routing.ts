/**
 * The route language: every text compiles or fails with a RouteError whose position lies in the
 * text, and a compiled route or condition evaluates any message without throwing, to a value of
 * the language.
 */
import assert from 'node:assert/strict';

import fc from 'fast-check';

import type { HubMessage } from '../../../src/runtime/routing/message.js';
import { compileCondition } from '../../../src/runtime/routing/condition.js';
import { describeRouteError, RouteError } from '../../../src/runtime/routing/errors.js';
import { RouteTable } from '../../../src/runtime/routing/route-table.js';
import { compileRoute, type CompiledRoute } from '../../../src/runtime/routing/route.js';
import { textOf } from '../support/arbitraries.js';
import { hubMessage } from '../support/hub-messages.js';
import { assertDocumentedError } from '../support/messages.js';
import { applyTextEdits, textEdits } from '../support/mutations.js';
import { target } from '../support/target.js';
import { condition, ROUTE_WORDS, route, VALID_ROUTES } from './routing-grammar.js';

/** `undefined` is a type and a literal of the route language: messages may name it. */
const LANGUAGE_TERMS = ['undefined'];

/** The route, or undefined after checking the RouteError it was refused with. */
function compiled(text: string, compile: (text: string) => CompiledRoute | undefined = compileRoute) {
  try {
    return compile(text);
  } catch (error) {
    assertDocumentedError(error, [RouteError], { input: text, allow: LANGUAGE_TERMS });
    const { position } = error as RouteError;
    if (position !== undefined) {
      assert.ok(position >= 1 && position <= text.length + 1, `position ${position} lies in the text`);
    }
    assert.ok(describeRouteError(error as RouteError, 'routes.r').startsWith('routes.r: '));
    return undefined;
  }
}

function assertValue(value: unknown, what: string): void {
  assert.ok(
    value === null || ['undefined', 'boolean', 'number', 'string'].includes(typeof value),
    `${what} evaluates to a value of the language, found ${typeof value}`,
  );
  assert.ok(!Number.isNaN(value), `${what} evaluates to NaN, which no comparison matches`);
}

function checkRoute([text, message]: [string, HubMessage]): void {
  const route = compiled(text);
  if (route !== undefined) assert.equal(typeof route.matches(message), 'boolean');
}

const ROUTE_PIECES = fc.oneof(fc.constantFrom(...ROUTE_WORDS), textOf(ROUTE_WORDS, 3));

/** A depth of nesting and a construct that nests. */
const NESTINGS: Record<string, (depth: number) => string> = {
  parentheses: (n) => `${'('.repeat(n)}true${')'.repeat(n)}`,
  not: (n) => `${'NOT '.repeat(n)}true`,
  minus: (n) => `${'-'.repeat(n)}1 = 1`,
  and: (n) => Array.from({ length: n }, () => 'true').join(' AND '),
  calls: (n) => `${'abs('.repeat(n)}1${')'.repeat(n)} = 1`,
  concat: (n) => `length(${'concat('.repeat(n)}'a'${", 'b')".repeat(n)}) > 0`,
};

export const targets = [
  target({
    name: 'compileRoute: random words of the language',
    runs: 3000,
    arbitrary: () => fc.tuple(textOf(ROUTE_WORDS, 14), hubMessage),
    check: checkRoute,
  }),
  target({
    name: 'compileRoute: valid routes with words spliced in',
    runs: 3000,
    arbitrary: () =>
      fc.tuple(
        fc
          .tuple(fc.constantFrom(...VALID_ROUTES), textEdits(ROUTE_PIECES))
          .map(([text, edits]) => applyTextEdits(text, edits)),
        hubMessage,
      ),
    check: checkRoute,
  }),
  target({
    name: 'compileRoute: routes built from the grammar, evaluated on random messages',
    runs: 3000,
    arbitrary: () => fc.tuple(route, hubMessage),
    check: checkRoute,
  }),
  target({
    name: 'compileCondition: conditions from the grammar evaluate any message to a value',
    runs: 3000,
    arbitrary: () => fc.tuple(condition, fc.boolean(), fc.array(hubMessage, { minLength: 1, maxLength: 3 })),
    check: ([text, twinChangeIncludes, messages]: [string, boolean, HubMessage[]]) => {
      let compiledCondition;
      try {
        compiledCondition = compileCondition(text, { twinChangeIncludes });
      } catch (error) {
        assertDocumentedError(error, [RouteError], { input: text, allow: LANGUAGE_TERMS });
        return;
      }
      for (const message of messages) {
        assertValue(compiledCondition.evaluate(message), text);
        assert.equal(typeof compiledCondition.matches(message), 'boolean');
      }
    },
  }),
  target({
    name: 'RouteTable: routes from the grammar deliver any message at most once per endpoint',
    runs: 1000,
    arbitrary: () => fc.tuple(fc.array(route, { minLength: 1, maxLength: 5 }), hubMessage),
    check: ([texts, message]: [string[], HubMessage]) => {
      const routes = texts.flatMap((text, index) => {
        const route = compiled(text);
        return route === undefined
          ? []
          : [{ name: `r${index}`, route, priority: index % 3, timeToLiveSecs: 0 }];
      });
      const deliveries = new RouteTable(routes, 7200).evaluate(message);
      const endpoints = deliveries.map((delivery) => delivery.endpointId);
      assert.equal(new Set(endpoints).size, endpoints.length, 'one delivery per endpoint');
    },
  }),
  target({
    name: 'compileRoute: deeply nested conditions',
    runs: 60,
    arbitrary: () =>
      fc.tuple(fc.constantFrom(...Object.keys(NESTINGS)), fc.integer({ min: 1, max: 20_000 }), hubMessage),
    check: ([shape, depth, message]: [string, number, HubMessage]) =>
      checkRoute([`FROM /* WHERE ${NESTINGS[shape]!(depth)} INTO $upstream`, message]),
    examples: [
      [
        'parentheses',
        3000,
        { body: Buffer.alloc(0), properties: {}, systemProperties: {}, source: '/messages' },
      ],
    ],
  }),
];
