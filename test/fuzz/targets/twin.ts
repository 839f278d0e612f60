/**
 * Twin patches: a reported patch from a client is accepted or refused with a TwinPatchError (never
 * another exception), and JSON merge patches obey their law: `from` patched with diff(from, to)
 * is `to`.
 */
import assert from 'node:assert/strict';

import fc from 'fast-check';

import { reportedPatchError, TwinPatchError } from '../../../src/runtime/hub/twin/reported-validation.js';
import {
  applyReportedPatch,
  emptyTwin,
  replaceDesired,
} from '../../../src/runtime/hub/twin/twin-document.js';
import {
  diffPatch,
  isTwinObject,
  mergePatch,
  type TwinObject,
} from '../../../src/runtime/hub/twin/twin-json.js';
import { nastyJson, nastyKey, objectOf } from '../support/arbitraries.js';
import { assertCleanMessage, inputText } from '../support/messages.js';
import { applyByteEdits, byteEdits } from '../support/mutations.js';
import { target } from '../support/target.js';

const twinObject: fc.Arbitrary<TwinObject> = fc
  .array(fc.tuple(nastyKey, nastyJson), { maxLength: 6 })
  .map((entries) => objectOf(entries) as TwinObject);

/** The object without null members (a null in a patch deletes; in a document it cannot be). */
function withoutNulls(value: TwinObject): TwinObject {
  const entries = Object.entries(value)
    .filter(([, member]) => member !== null)
    .map(([key, member]) => [key, isTwinObject(member) ? withoutNulls(member) : member] as const);
  return objectOf(entries) as TwinObject;
}

function checkReported(patch: unknown): void {
  const error = reportedPatchError(patch);
  if (error !== undefined) {
    assert.ok(error instanceof TwinPatchError);
    assertCleanMessage(error.message, { input: inputText(patch) });
    return;
  }
  const twin = applyReportedPatch(emptyTwin(), patch as TwinObject);
  assert.equal(twin.reported.$version, 2);
}

/** The payload as the MQTT head reads it: UTF-8 JSON, or not JSON at all. */
function checkPayload(payload: Buffer): void {
  let patch: unknown;
  try {
    patch = JSON.parse(payload.toString('utf8'));
  } catch {
    return;
  }
  checkReported(patch);
}

const VALID_PATCH = Buffer.from(
  JSON.stringify({
    temperature: 21.5,
    firmware: { version: '1.2.3', pending: false },
    tags: ['a', 'b'],
    gone: null,
  }),
);

export const targets = [
  target({
    name: 'reportedPatchError: random JSON values',
    runs: 3000,
    arbitrary: () => nastyJson,
    check: checkReported,
  }),
  target({
    name: 'reportedPatchError: a valid patch payload with bytes flipped',
    runs: 2000,
    arbitrary: () => byteEdits.map((edits) => applyByteEdits(VALID_PATCH, edits)),
    check: checkPayload,
  }),
  target({
    name: 'mergePatch: a document patched with diffPatch(from, to) is to',
    runs: 2000,
    arbitrary: () => fc.tuple(twinObject, twinObject),
    check: ([from, to]: [TwinObject, TwinObject]) => {
      const before = withoutNulls(from);
      const after = withoutNulls(to);
      assert.deepStrictEqual(mergePatch(before, diffPatch(before, after)), after);
    },
  }),
  target({
    name: 'replaceDesired: a changed desired document is announced with a patch that leads to it',
    runs: 1000,
    arbitrary: () => fc.tuple(twinObject, twinObject),
    check: ([first, second]: [TwinObject, TwinObject]) => {
      const start = replaceDesired(emptyTwin(), first).twin;
      const { twin, patch } = replaceDesired(start, second);
      if (patch === undefined) {
        assert.equal(twin, start, 'no change, no new version');
        return;
      }
      const { $version: version, ...changes } = patch;
      assert.equal(version, start.desired.$version + 1);
      const { $version: _old, ...oldDesired } = start.desired;
      const { $version: _new, ...newDesired } = twin.desired;
      assert.deepStrictEqual(mergePatch(oldDesired, changes), newDesired);
    },
  }),
];
