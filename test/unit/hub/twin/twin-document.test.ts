import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  applyDesiredPatch,
  applyReportedPatch,
  asTwinDocument,
  emptyTwin,
  replaceDesired,
  type TwinDocument,
} from '../../../../src/runtime/hub/twin/twin-document.js';
import {
  diffPatch,
  jsonEqual,
  mergePatch,
  type TwinObject,
} from '../../../../src/runtime/hub/twin/twin-json.js';

test('merge patch: null deletes, objects merge, anything else replaces', () => {
  const target: TwinObject = { a: 1, b: { c: 2, d: 3 }, e: [1, 2], f: 'x' };
  const patch: TwinObject = { a: null, b: { c: null, g: 4 }, e: [3], f: { h: true }, i: { j: null, k: 1 } };
  assert.deepEqual(mergePatch(target, patch), { b: { d: 3, g: 4 }, e: [3], f: { h: true }, i: { k: 1 } });
  assert.deepEqual(target, { a: 1, b: { c: 2, d: 3 }, e: [1, 2], f: 'x' }, 'the target is not changed');
});

test('merge patch: the result shares no arrays or objects with the patch', () => {
  const patch: TwinObject = { list: [{ x: 1 }], obj: { y: 2 } };
  const result = mergePatch({}, patch);
  (patch.list as TwinObject[])[0].x = 9;
  (patch.obj as TwinObject).y = 9;
  assert.deepEqual(result, { list: [{ x: 1 }], obj: { y: 2 } });
});

test('merge patch: a __proto__ key is data, not a prototype', () => {
  const patch = JSON.parse('{"__proto__":{"polluted":true}}') as TwinObject;
  const result = mergePatch({}, patch);
  assert.equal(Object.getPrototypeOf(result), Object.prototype);
  assert.deepEqual(Object.keys(result), ['__proto__']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('diff patch: what turns one document into the other', () => {
  const from: TwinObject = { a: 1, b: { c: 2, d: 3 }, e: [1, 2], same: { x: [1, { y: 2 }] }, gone: 'x' };
  const to: TwinObject = {
    a: 2,
    b: { c: 2, d: 4, n: null },
    e: [1, 2],
    same: { x: [1, { y: 2 }] },
    added: { z: 1 },
  };
  const patch = diffPatch(from, to);
  assert.deepEqual(patch, { gone: null, a: 2, b: { d: 4, n: null }, added: { z: 1 } });
  assert.deepEqual(mergePatch(from, patch), {
    a: 2,
    b: { c: 2, d: 4 },
    e: [1, 2],
    same: { x: [1, { y: 2 }] },
    added: { z: 1 },
  });
  assert.deepEqual(diffPatch(from, from), {});
});

test('jsonEqual compares by value and tells arrays from objects', () => {
  assert.ok(jsonEqual({ a: [1, { b: 2 }] }, { a: [1, { b: 2 }] }));
  assert.ok(!jsonEqual({ a: 1 }, { a: 1, b: 2 }));
  assert.ok(!jsonEqual([1], { 0: 1 }));
  assert.ok(!jsonEqual(null, {}));
  assert.ok(!jsonEqual({ a: undefined } as unknown as TwinObject, { b: 1 }));
});

test('a new twin has version 1 on both sides', () => {
  assert.deepEqual(emptyTwin(), { desired: { $version: 1 }, reported: { $version: 1 } });
});

test('a reported patch merges and bumps the reported version only', () => {
  let twin: TwinDocument = {
    desired: { rate: 5, $version: 7 },
    reported: { fw: '0.9', old: 1, $version: 3 },
  };
  twin = applyReportedPatch(twin, { fw: '1.0', old: null, net: { ip: '10.0.0.2' } });
  assert.deepEqual(twin, {
    desired: { rate: 5, $version: 7 },
    reported: { fw: '1.0', net: { ip: '10.0.0.2' }, $version: 4 },
  });
  twin = applyReportedPatch(twin, { net: { mask: 24 } });
  assert.deepEqual(twin.reported, { fw: '1.0', net: { ip: '10.0.0.2', mask: 24 }, $version: 5 });
});

test('a reported patch cannot overwrite $version', () => {
  const twin = applyReportedPatch(emptyTwin(), { $version: 100, a: 1 } as TwinObject);
  assert.equal(twin.reported.$version, 2);
});

test('a desired patch from upstream takes its $version, or bumps by one', () => {
  let twin = emptyTwin();
  twin = applyDesiredPatch(twin, { color: 'blue', $version: 8 });
  assert.deepEqual(twin.desired, { color: 'blue', $version: 8 });
  twin = applyDesiredPatch(twin, { color: null, size: 2 });
  assert.deepEqual(twin.desired, { size: 2, $version: 9 });
});

test('replacing desired properties yields the new document and the patch to notify, with $version', () => {
  const twin: TwinDocument = {
    desired: { a: 1, b: { c: 2 }, gone: true, $version: 4 },
    reported: { $version: 2 },
  };
  const { twin: next, patch } = replaceDesired(twin, { a: 1, b: { c: 3 }, added: [1] });
  assert.deepEqual(next, {
    desired: { a: 1, b: { c: 3 }, added: [1], $version: 5 },
    reported: { $version: 2 },
  });
  assert.deepEqual(patch, { gone: null, b: { c: 3 }, added: [1], $version: 5 });
});

test('replacing with the same properties changes nothing and notifies nobody', () => {
  const twin: TwinDocument = { desired: { a: 1, $version: 4 }, reported: { $version: 2 } };
  const result = replaceDesired(twin, { a: 1, $version: 99, $metadata: {} } as TwinObject);
  assert.equal(result.twin, twin);
  assert.equal(result.patch, undefined);
});

test('null in a replacement means absent', () => {
  const twin: TwinDocument = { desired: { a: 1, $version: 1 }, reported: { $version: 1 } };
  const { twin: next, patch } = replaceDesired(twin, { a: null, b: { c: null } });
  assert.deepEqual(next.desired, { b: {}, $version: 2 });
  assert.deepEqual(patch, { a: null, b: {}, $version: 2 });
});

test('asTwinDocument accepts only twin-shaped values', () => {
  const twin = emptyTwin();
  assert.equal(asTwinDocument(twin), twin);
  assert.equal(asTwinDocument({ desired: {}, reported: { $version: 1 } }), undefined);
  assert.equal(asTwinDocument([]), undefined);
  assert.equal(asTwinDocument(null), undefined);
});
