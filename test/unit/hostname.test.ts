import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostnameMatchesMachine, isValidDnsName } from '../../src/runtime/config/hostname.js';

const LABEL = 'a'.repeat(63);
const LONGEST = `${LABEL}.${LABEL}.${LABEL}.${'a'.repeat(255 - 63 * 3 - 3)}`;

test('RFC 1035 names accepted', () => {
  assert.equal(LONGEST.length, 255);
  for (const name of [
    'foobar',
    'foobar.baz',
    LABEL,
    `${LABEL}.${LABEL}.${LABEL}`,
    LONGEST,
    'xn--v9ju72g90p.com',
    'xn--a-kz6a.xn--b-kn6b.xn--c-ibu',
    'FOOBAR',
    'FoObAr01.bAz',
    'a',
    'a-b.c1',
  ]) {
    assert.equal(isValidDnsName(name), true, name);
  }
});

test('RFC 1035 names rejected', () => {
  for (const name of [
    '',
    `${LABEL}a`,
    `${LONGEST}a`,
    '01.org',
    '1host',
    '今日は',
    '今日は.com',
    'a今.b日.cは',
    'FoObAr01.bAz-',
    'under_score',
    'trailing.',
    '.leading',
    'double..dot',
    '-dash',
    'has space',
  ]) {
    assert.equal(isValidDnsName(name), false, name);
  }
});

test('the configured hostname matches the machine when equal or a FQDN starting with it', () => {
  assert.equal(hostnameMatchesMachine('edge1', 'edge1'), true);
  assert.equal(hostnameMatchesMachine('edge1.contoso.com', 'edge1'), true);
  assert.equal(hostnameMatchesMachine('edge12', 'edge1'), false);
  assert.equal(hostnameMatchesMachine('edge1-contoso.com', 'edge1'), false);
  assert.equal(hostnameMatchesMachine('edge', 'edge1'), false);
  assert.equal(hostnameMatchesMachine('contoso.edge1', 'edge1'), false);
  // 1.1 compares case-sensitively.
  assert.equal(hostnameMatchesMachine('Edge1', 'edge1'), false);
  assert.equal(hostnameMatchesMachine('EDGE1.contoso.com', 'edge1'), false);
});
