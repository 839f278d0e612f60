import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePath } from '../../../src/runtime/routing/body-query.js';
import { compileCondition, type ConditionOptions } from '../../../src/runtime/routing/condition.js';
import { RouteError } from '../../../src/runtime/routing/errors.js';
import { compileRoute } from '../../../src/runtime/routing/route.js';
import type { HubMessage } from '../../../src/runtime/routing/message.js';
import {
  BODY_CASES,
  BODY_DEVIATIONS,
  BODY_MESSAGE,
  I18N_CASES,
  I18N_DEVIATIONS,
  I18N_MESSAGE,
  MESSAGE_QUERY_CASES,
} from './edgehub-tables/body-query-cases.js';
import {
  CONDITION_CASES,
  CONDITION_DEVIATIONS,
  CONDITION_MESSAGE,
  NULL_PROPERTY_CASES,
} from './edgehub-tables/condition-compiler-cases.js';
import { BODY_PATH_CASES, SYNTAX_ERROR_CASES, VALUE_CASES } from './edgehub-tables/expression-cases.js';
import type { Deviation, Outcome, TableCase } from './edgehub-tables/table-case.js';
import {
  NOT_JSON_NOTIFICATIONS,
  TELEMETRY_SOURCE_CASE,
  TWIN_CHANGE_CASES,
  TWIN_MESSAGE,
  TWIN_PATH_CASES,
} from './edgehub-tables/twin-change-cases.js';

/** What this hub makes of a condition, in the terms edgeHub's tables use. */
function outcome(condition: string, message: HubMessage, options: ConditionOptions = {}): Outcome {
  let compiled;
  try {
    compiled = compileCondition(condition, options);
  } catch (error) {
    if (error instanceof RouteError) return 'refused';
    throw error;
  }
  const truth = compiled.truth(message);
  return truth === undefined ? 'undefined' : truth ? 'true' : 'false';
}

/** Every row that answers otherwise than its table says, as [condition, expected, actual]. */
function disagreements(
  cases: readonly TableCase[],
  message: HubMessage,
  options?: ConditionOptions,
): string[][] {
  return cases
    .map(([condition, expected]) => [condition, expected, outcome(condition, message, options)])
    .filter(([, expected, actual]) => expected !== actual);
}

function checkDeviations(deviations: readonly Deviation[], message: HubMessage): void {
  for (const [condition, edgeHub, here, reason] of deviations) {
    assert.notEqual(here, edgeHub, condition);
    assert.ok(reason.length > 0, condition);
    assert.equal(outcome(condition, message), here, `${condition} (${reason})`);
  }
}

test("edgeHub's condition compiler table: every row, in the condition compiler and in a route", () => {
  assert.equal(CONDITION_CASES.length + NULL_PROPERTY_CASES.length + CONDITION_DEVIATIONS.length, 615);
  assert.deepEqual(disagreements(CONDITION_CASES, CONDITION_MESSAGE), []);
  const inRoutes = CONDITION_CASES.filter(([condition, expected]) => {
    let matches: boolean;
    try {
      matches = compileRoute(`FROM /messages/* WHERE ${condition} INTO $upstream`).matches(CONDITION_MESSAGE);
    } catch (error) {
      if (error instanceof RouteError) return expected !== 'refused';
      throw error;
    }
    return expected === 'refused' || matches !== (expected === 'true');
  });
  assert.deepEqual(inRoutes, []);
});

test("edgeHub's condition compiler table: the rows answered otherwise on purpose", () => {
  checkDeviations(CONDITION_DEVIATIONS, CONDITION_MESSAGE);
});

test("edgeHub's body query tables", () => {
  assert.equal(BODY_CASES.length + BODY_DEVIATIONS.length, 85);
  assert.deepEqual(disagreements(BODY_CASES, BODY_MESSAGE), []);
  checkDeviations(BODY_DEVIATIONS, BODY_MESSAGE);
  assert.deepEqual(disagreements(I18N_CASES, I18N_MESSAGE), []);
  checkDeviations(I18N_DEVIATIONS, I18N_MESSAGE);
});

test("edgeHub's message query test: UTF-8, UTF-16 and UTF-32 bodies; unreadable ones are undefined", () => {
  for (const [label, message, expected] of MESSAGE_QUERY_CASES) {
    assert.equal(outcome('$body.message.Weather.Temperature = 50', message), expected, label);
  }
});

test("edgeHub's twin_change_includes tables", () => {
  assert.deepEqual(disagreements(TWIN_CHANGE_CASES, TWIN_MESSAGE, { twinChangeIncludes: true }), []);
  const [condition, expected] = TELEMETRY_SOURCE_CASE;
  assert.equal(outcome(condition, TWIN_MESSAGE, { twinChangeIncludes: false }), expected);
  for (const [message, expectedOutcome] of NOT_JSON_NOTIFICATIONS) {
    const actual = outcome('twin_change_includes(properties.reported.WeatherTwin)', message, {
      twinChangeIncludes: true,
    });
    assert.equal(actual, expectedOutcome, message.body.toString('hex').slice(0, 16));
  }
  for (const [path, accepted] of TWIN_PATH_CASES) {
    const actual = outcome(`twin_change_includes(${path})`, TWIN_MESSAGE, { twinChangeIncludes: true });
    assert.equal(actual !== 'refused', accepted, path);
  }
});

test("edgeHub's literal, arithmetic and syntax-error rows", () => {
  for (const [expression, value] of VALUE_CASES) {
    assert.equal(compileCondition(expression).evaluate(CONDITION_MESSAGE), value, expression);
  }
  for (const condition of SYNTAX_ERROR_CASES) {
    assert.equal(outcome(condition, CONDITION_MESSAGE), 'refused', condition);
  }
});

test("edgeHub's $body path table", () => {
  for (const [path, valid] of BODY_PATH_CASES) {
    assert.equal(typeof parsePath(path) !== 'string', valid, JSON.stringify(path));
  }
});
