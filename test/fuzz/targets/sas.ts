/**
 * SAS tokens: verifySasToken never throws for any token text, never accepts one that was not
 * signed with a key of the identity, and its reasons never repeat the signature or a key.
 */
import assert from 'node:assert/strict';

import fc from 'fast-check';

import { buildSasToken, parseSasToken, verifySasToken } from '../../../src/runtime/identity/sas.js';
import { nastyString, textOf } from '../support/arbitraries.js';
import { assertCleanMessage } from '../support/messages.js';
import { applyTextEdits, textEdits } from '../support/mutations.js';
import { target } from '../support/target.js';

const KEY = 'c2VjcmV0a2V5MTIzNDU2Nzg=';
const OTHER_KEY = Buffer.from('another key of 32 bytes, exactly').toString('base64');
const HOST = 'hub.example.net';
const NOW = new Date('2030-01-01T00:00:00Z');
const EXPIRY = NOW.getTime() / 1000 + 3600;
const AUDIENCE = `${HOST}/devices/edge-1/modules/m1`;

const VALID = buildSasToken({ audience: AUDIENCE, key: KEY, expiry: EXPIRY });
const SIGNATURE = parseSasToken(VALID).signature;
const SECRETS = [KEY, OTHER_KEY, SIGNATURE, encodeURIComponent(SIGNATURE)];

function verify(token: string) {
  return verifySasToken(token, {
    identity: { deviceId: 'edge-1', moduleId: 'm1' },
    keys: [OTHER_KEY, KEY],
    hostnames: [HOST, 'edge-host'],
    now: NOW,
  });
}

/** The signed fields of a token, or undefined when it does not parse. */
function signedFields(token: string): string | undefined {
  try {
    const { encodedAudience, expiryText, signature } = parseSasToken(token);
    return JSON.stringify([encodedAudience, expiryText, Buffer.from(signature, 'base64').toString('hex')]);
  } catch {
    return undefined;
  }
}

const ORIGINAL_FIELDS = signedFields(VALID);

function checkToken(token: string): void {
  const result = verify(token);
  if (result.ok) {
    assert.equal(
      signedFields(token),
      ORIGINAL_FIELDS,
      'only the signed audience, expiry and signature verify',
    );
    return;
  }
  assertCleanMessage(result.reason, { input: token, secrets: SECRETS, logged: true });
}

const TOKEN_WORDS = [
  'SharedAccessSignature ', 'SharedAccessSignature', 'sr=', 'sig=', 'se=', 'skn=', 'SR=', '&', '=', '%', '%2F', '%3D',
  '%2', HOST, encodeURIComponent(AUDIENCE), 'devices', 'modules', '/', String(EXPIRY), '0', '999999999999999',
  '1e3', SIGNATURE.slice(0, 10), '+', '==',
]; // prettier-ignore

export const targets = [
  target({
    name: 'verifySasToken: random text and token words',
    runs: 3000,
    arbitrary: () =>
      fc.oneof(
        nastyString(60),
        textOf(TOKEN_WORDS, 10).map((text) => text.replace(/\s/g, '')),
      ),
    check: checkToken,
  }),
  target({
    name: 'verifySasToken: a valid token with characters edited',
    runs: 4000,
    arbitrary: () =>
      textEdits(fc.oneof(fc.constantFrom(...TOKEN_WORDS), nastyString(3))).map((edits) =>
        applyTextEdits(VALID, edits),
      ),
    check: checkToken,
  }),
  target({
    name: 'verifySasToken: tokens signed with the key for random audiences and expiries',
    runs: 1000,
    arbitrary: () =>
      fc.record({
        audience: fc.oneof(
          nastyString(30),
          fc.constantFrom(AUDIENCE, `${HOST}/devices/edge-1`, `EDGE-HOST/devices/edge-1/modules/m1`),
          fc
            .tuple(
              fc.constantFrom(HOST, 'edge-host', 'other'),
              nastyString(8),
              fc.option(nastyString(8), { nil: undefined }),
            )
            .map(
              ([host, device, module]) =>
                `${host}/devices/${device}${module === undefined ? '' : `/modules/${module}`}`,
            ),
        ),
        expiry: fc.oneof(fc.integer({ min: 0, max: 2 ** 40 }), fc.constant(EXPIRY)),
      }),
    // finding: the audience went into the (logged) reason as written, control characters included
    examples: [
      {
        audience: `${HOST}/devices/edge-1\n2030-01-01T00:00:00.000Z agent: forged/modules/m1`,
        expiry: EXPIRY,
      },
    ],
    check: ({ audience, expiry }: { audience: string; expiry: number }) => {
      let token: string;
      try {
        token = buildSasToken({ audience, key: KEY, expiry });
      } catch {
        return; // an audience that cannot be URL-encoded (a lone surrogate) makes no token
      }
      const result = verify(token);
      const own = /sig=([^&]+)/.exec(token)![1]!;
      if (!result.ok)
        assertCleanMessage(result.reason, {
          input: token,
          secrets: [KEY, own, decodeURIComponent(own)],
          logged: true,
        });
    },
  }),
];
