import assert from 'node:assert/strict';
import { test } from 'node:test';

import { nestedDeeperThan } from '../../src/runtime/deployment/json-depth.js';

test('scalars nest 0 levels, {} and [] one, each container inside one more', () => {
  assert.equal(nestedDeeperThan('text', 0), false);
  assert.equal(nestedDeeperThan({}, 0), true);
  assert.equal(nestedDeeperThan({}, 1), false);
  assert.equal(nestedDeeperThan({ a: [1, { b: null }] }, 2), true);
  assert.equal(nestedDeeperThan({ a: [1, { b: null }] }, 3), false);
});

test('a value far deeper than the call stack allows is measured without exhausting it', () => {
  const deep = JSON.parse(`${'['.repeat(200_000)}${']'.repeat(200_000)}`) as unknown;
  assert.equal(nestedDeeperThan(deep, 32), true);
  assert.equal(nestedDeeperThan(deep, 200_000), false);
});
