import assert from 'node:assert/strict';
import { test } from 'node:test';

import { parseMessageProperties } from '../../src/cli/message-properties.js';

test('--props: key=value pairs separated by ;, values may hold =', () => {
  assert.deepEqual(parseMessageProperties(undefined), {});
  assert.deepEqual(parseMessageProperties('a=1;b=x=y; ;c='), { a: '1', b: 'x=y', c: '' });
});

test('--props: a pair without = or without a key is a usage error naming it', () => {
  assert.throws(() => parseMessageProperties('a=1;oops'), /--props: .*\(got "oops"\)/);
  assert.throws(() => parseMessageProperties('=1'), /\(got "=1"\)/);
});
