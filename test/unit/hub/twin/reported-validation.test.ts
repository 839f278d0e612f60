import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  reportedPatchError,
  TwinPatchError,
  validateReportedPatch,
} from '../../../../src/runtime/hub/twin/reported-validation.js';

function nested(depth: number, leaf: unknown = 1): Record<string, unknown> {
  let value = leaf;
  for (let i = depth; i >= 1; i--) value = { [`l${i}`]: value };
  return value as Record<string, unknown>;
}

function rejects(patch: unknown, path: string, message: RegExp): void {
  const error = reportedPatchError(patch);
  assert.ok(
    error instanceof TwinPatchError,
    `expected ${JSON.stringify(patch)?.slice(0, 80)} to be rejected`,
  );
  assert.equal(error.path, path);
  assert.match(error.message, message);
  if (path !== '') assert.ok(error.message.includes(path), `message names ${path}: ${error.message}`);
}

test('ordinary patches are accepted', () => {
  assert.equal(reportedPatchError({}), undefined);
  assert.equal(
    reportedPatchError({
      fw: '1.0',
      old: null,
      n: 1.5,
      ok: true,
      list: [1, 'a', { b: 2 }, [3]],
      obj: { x: null },
    }),
    undefined,
  );
  assert.doesNotThrow(() => validateReportedPatch({ a: 1 }));
});

test('the patch must be a JSON object', () => {
  rejects([], '', /JSON object/);
  rejects(null, '', /JSON object/);
  rejects('text', '', /JSON object/);
});

test('objects may nest 10 deep below the root, not 11', () => {
  // nested(11) is l1 -> ... -> l11: 1, ten objects below the root
  assert.equal(reportedPatchError(nested(11)), undefined);
  assert.equal(reportedPatchError(nested(10, { leaf: 1 })), undefined);
  rejects(nested(12), 'l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11', /depth/);
});

test('arrays count toward the depth', () => {
  assert.equal(reportedPatchError(nested(9, [[1]])), undefined);
  rejects(nested(9, [[[1]]]), 'l1.l2.l3.l4.l5.l6.l7.l8.l9[0][0]', /depth/);
  assert.equal(reportedPatchError(nested(10, [1])), undefined);
  rejects(nested(11, [1]), 'l1.l2.l3.l4.l5.l6.l7.l8.l9.l10.l11', /depth/);
  rejects(nested(10, [{ a: 1 }]), 'l1.l2.l3.l4.l5.l6.l7.l8.l9.l10[0]', /depth/);
});

test('property names: length and forbidden characters', () => {
  assert.equal(reportedPatchError({ ['n'.repeat(1024)]: 1 }), undefined);
  const long = reportedPatchError({ ['n'.repeat(1025)]: 1 });
  assert.ok(long instanceof TwinPatchError);
  assert.match(long.message, /exceeds maximum length of 1024/);
  assert.ok(reportedPatchError({ ['é'.repeat(513)]: 1 }), 'the limit is in UTF-8 bytes');
  for (const bad of [
    'a.b',
    '$version',
    'a#b',
    'a b',
    'tab\t',
    'nl\n',
    'nul\u0000',
    'del\u007f',
    'nbsp\u00a0',
    '\u2028',
  ]) {
    rejects({ outer: { [bad]: 1 } }, `outer.${bad}`, /invalid character/);
  }
  assert.equal(reportedPatchError({ 'a-b_c:d/e@f': 1, ünï: 2 }), undefined);
});

test('string values up to 4096 UTF-8 bytes', () => {
  assert.equal(reportedPatchError({ s: 'x'.repeat(4096) }), undefined);
  rejects({ s: { t: 'x'.repeat(4097) } }, 's.t', /length 4097 .*4096/);
  rejects({ s: '€'.repeat(1366) }, 's', /length 4098/);
  rejects({ list: ['ok', 'x'.repeat(5000)] }, 'list[1]', /exceeds maximum length/);
});

test('integers within [-2^52, 2^52 - 1]; floats are not range-checked', () => {
  assert.equal(reportedPatchError({ max: 2 ** 52 - 1, min: -(2 ** 52) }), undefined);
  rejects({ big: 2 ** 52 }, 'big', /out of bound/);
  rejects({ small: { n: -(2 ** 52) - 1 } }, 'small.n', /out of bound/);
  assert.equal(reportedPatchError({ f: 1.5e15 + 0.5, tiny: 1e-300 }), undefined);
});

test('no null in arrays, nor in objects inside arrays', () => {
  rejects({ list: [1, null] }, 'list[1]', /Arrays cannot contain 'null'/);
  rejects({ list: [{ a: { b: null } }] }, 'list[0].a.b', /in an array cannot be 'null'/);
  assert.equal(reportedPatchError({ obj: { a: null } }), undefined);
});

test('values JSON cannot carry are refused', () => {
  rejects({ u: undefined }, 'u', /unsupported type/);
  rejects({ n: Number.NaN }, 'n', /unsupported type/);
  rejects({ f: () => 1 }, 'f', /unsupported type/);
});

test('the whole patch is at most 32 KiB', () => {
  const patch: Record<string, string> = {};
  for (let i = 0; i < 8; i++) patch[`k${i}`] = 'x'.repeat(4000);
  assert.equal(reportedPatchError(patch), undefined);
  patch.k8 = 'x'.repeat(1000);
  rejects(patch, '', /size 3\d{4} exceeds maximum 32768/);
});

test('the error carries the twin error body the SDK recognises', () => {
  const error = reportedPatchError({ 'a.b': 1 });
  assert.ok(error);
  assert.equal(error.status, 400);
  assert.deepEqual(error.body(), { errorCode: 400004, message: error.message });
  assert.throws(() => validateReportedPatch({ 'a.b': 1 }), TwinPatchError);
});
