import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Settings } from '../../src/runtime/config/settings.js';
import {
  DAY_MS,
  expiryStatus,
  formatUtc,
  parsePemCertificates,
  rfc3339,
} from '../../src/checks/support/certificates.js';
import { quickstartResult } from '../../src/checks/certificates/certificates-quickstart.js';
import {
  identityCertificate,
  identityCertificateResult,
} from '../../src/checks/certificates/identity-certificate-expiry.js';
import {
  certificatesExpiryResult,
  type SourcedCertificate,
} from '../../src/checks/certificates/certificates-expiry.js';
import { createCa, createLeaf, pemBundle } from '../helpers/cert-factory.js';

const NOW = new Date('2024-06-01T12:00:00Z');
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);
const window = (notAfterOffsetMs: number, notBeforeOffsetMs = -365 * DAY_MS) => ({
  notBefore: at(notBeforeOffsetMs),
  notAfter: at(notAfterOffsetMs),
});

test('expiryStatus: exactly at the threshold is still valid, one millisecond less is expiring', () => {
  for (const days of [7, 30, 90]) {
    assert.deepEqual(expiryStatus(window(days * DAY_MS), NOW, { warnWithinDays: days }), {
      state: 'valid',
      daysLeft: days,
    });
    assert.deepEqual(expiryStatus(window(days * DAY_MS - 1), NOW, { warnWithinDays: days }), {
      state: 'expiring',
      daysLeft: days - 1,
    });
  }
});

test('expiryStatus: valid at the instant of not-after, expired one millisecond later', () => {
  assert.equal(expiryStatus(window(0), NOW, { warnWithinDays: 7 }).state, 'expiring');
  assert.deepEqual(expiryStatus(window(-1), NOW, { warnWithinDays: 7 }), { state: 'expired', daysLeft: 0 });
  assert.deepEqual(expiryStatus(window(-3 * DAY_MS - 5), NOW, { warnWithinDays: 7 }), {
    state: 'expired',
    daysLeft: -3,
  });
});

test('expiryStatus: a not-before in the future wins over everything else', () => {
  assert.deepEqual(expiryStatus(window(400 * DAY_MS, 1), NOW, { warnWithinDays: 7 }), {
    state: 'not-yet-valid',
    daysLeft: 400,
  });
  assert.equal(expiryStatus(window(-1, 1), NOW, { warnWithinDays: 7 }).state, 'not-yet-valid');
  assert.equal(expiryStatus(window(400 * DAY_MS, 0), NOW, { warnWithinDays: 7 }).state, 'valid');
});

test('expiryStatus: daysLeft truncates partial days', () => {
  assert.equal(expiryStatus(window(2.9 * DAY_MS), NOW, { warnWithinDays: 7 }).daysLeft, 2);
  assert.equal(expiryStatus(window(0.5 * DAY_MS), NOW, { warnWithinDays: 1 }).daysLeft, 0);
});

test('time formats follow iotedge check (messages) and RFC 3339 (JSON)', () => {
  assert.equal(formatUtc(new Date('2024-01-02T03:04:05Z')), '2024-01-02 03:04:05 UTC');
  assert.equal(rfc3339(new Date('2024-01-02T03:04:05Z')), '2024-01-02T03:04:05Z');
});

test('parsePemCertificates returns every certificate of a bundle and skips key blocks', () => {
  const ca = createCa('Test Root', new Date('2024-01-01T00:00:00Z'), new Date('2034-01-01T00:00:00Z'));
  const leaf = createLeaf(
    ca,
    'device ca',
    new Date('2024-02-01T00:00:00Z'),
    new Date('2025-02-01T10:20:30Z'),
    true,
  );
  const parsed = parsePemCertificates(`${leaf.keyPem}${pemBundle(leaf, ca)}`);
  assert.deepEqual(parsed, [
    {
      subject: 'CN=device ca',
      notBefore: new Date('2024-02-01T00:00:00Z'),
      notAfter: new Date('2025-02-01T10:20:30Z'),
    },
    {
      subject: 'CN=Test Root',
      notBefore: new Date('2024-01-01T00:00:00Z'),
      notAfter: new Date('2034-01-01T00:00:00Z'),
    },
  ]);
});

test('parsePemCertificates rejects text without certificates and malformed blocks, never echoing keys', () => {
  const ca = createCa('Test Root', new Date('2024-01-01T00:00:00Z'), new Date('2034-01-01T00:00:00Z'));
  assert.throws(() => parsePemCertificates(ca.keyPem), /no PEM-encoded certificate found/);
  assert.throws(
    () => parsePemCertificates(`${ca.certPem}-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n`),
    (error: Error) =>
      error.message === 'certificate 2 of 2 is malformed' && !error.message.includes('PRIVATE'),
  );
});

test('quickstartResult: auto-generated certificates always warn unless expired', () => {
  const longLived = quickstartResult(window(5000 * DAY_MS), true, NOW);
  assert.equal(longLived.kind, 'warning');
  assert.match(longLived.kind === 'warning' ? longLived.message : '', /They will expire in 5000 days/);
  assert.match(longLived.kind === 'warning' ? longLived.message : '', /certificates\.device_ca_cert/);
  const expired = quickstartResult(window(-1), true, NOW);
  assert.equal(expired.kind, 'failed');
  assert.match(
    expired.kind === 'failed' ? expired.message : '',
    /The certs expired at 2024-06-01 11:59:59 UTC/,
  );
});

test('quickstartResult: production certificates warn within 90 days and fail once expired', () => {
  assert.equal(quickstartResult(window(90 * DAY_MS), false, NOW).kind, 'ok');
  const soon = quickstartResult(window(90 * DAY_MS - 1000), false, NOW);
  assert.equal(soon.kind, 'warning');
  assert.match(soon.kind === 'warning' ? soon.message : '', /within the next 90 days.*\(89 days left\)/);
  const expired = quickstartResult(window(-DAY_MS), false, NOW);
  assert.equal(expired.kind, 'failed');
  assert.match(expired.kind === 'failed' ? expired.message : '', /^The device CA cert has expired at /);
});

test('identityCertificateResult: 7-day warning, expired and not-yet-valid failures', () => {
  const cert = (offsetMs: number, notBeforeOffsetMs?: number) => ({
    subject: 'CN=x',
    ...window(offsetMs, notBeforeOffsetMs),
  });
  const name = 'DPS identity certificate';
  assert.equal(identityCertificateResult(name, '/c.pem', cert(7 * DAY_MS), NOW, {}).kind, 'ok');
  assert.deepEqual(identityCertificateResult(name, '/c.pem', cert(3 * DAY_MS), NOW, { a: 1 }), {
    kind: 'warning',
    message: 'DPS identity certificate at /c.pem will expire soon (2024-06-04 12:00:00 UTC, in 3 days)',
    additionalInfo: { a: 1 },
  });
  const expired = identityCertificateResult(name, '/c.pem', cert(-1000), NOW, {});
  assert.equal(
    expired.kind === 'failed' && expired.message,
    'DPS identity certificate at /c.pem expired at 2024-06-01 11:59:59 UTC',
  );
  const early = identityCertificateResult(name, '/c.pem', cert(30 * DAY_MS, DAY_MS), NOW, {});
  assert.equal(
    early.kind === 'failed' && early.message,
    'DPS identity certificate at /c.pem has not-before time 2024-06-02 12:00:00 UTC which is in the future',
  );
});

test('identityCertificate maps every provisioning form to its mode', () => {
  const base = { dynamic_reprovisioning: false };
  const dps = {
    ...base,
    source: 'dps',
    global_endpoint: 'https://g',
    scope_id: 's',
    always_reprovision_on_startup: true,
  } as const;
  const cases: [Settings['provisioning'], string, string | undefined][] = [
    [
      {
        ...dps,
        attestation: { method: 'x509', identity_cert: 'file:///id.pem', identity_pk: 'file:///id.key' },
      },
      'dps-x509',
      'file:///id.pem',
    ],
    [{ ...dps, attestation: { method: 'tpm', registration_id: 'r' } }, 'dps-other', undefined],
    [
      { ...dps, attestation: { method: 'symmetric_key', registration_id: 'r', symmetric_key: 'k' } },
      'dps-other',
      undefined,
    ],
    [
      {
        ...base,
        source: 'manual',
        authentication: {
          method: 'x509',
          iothub_hostname: 'h',
          device_id: 'd',
          identity_cert: '/m.pem',
          identity_pk: '/m.key',
        },
      },
      'manual-x509',
      '/m.pem',
    ],
    [
      { ...base, source: 'manual', device_connection_string: 'HostName=h;DeviceId=d;SharedAccessKey=a2V5' },
      'manual-other',
      undefined,
    ],
    [{ ...base, source: 'external', endpoint: 'http://localhost:9000' }, 'external', undefined],
  ];
  for (const [provisioning, mode, certValue] of cases) {
    const result = identityCertificate({ provisioning } as Settings);
    assert.equal(result.mode, mode);
    assert.equal(result.cert?.value, certValue);
  }
});

const sourced = (
  subject: string,
  offsetMs: number,
  notBeforeOffsetMs?: number,
  autoGenerated = false,
): SourcedCertificate => ({
  subject,
  path: `/certs/${subject}.pem`,
  autoGenerated,
  ...window(offsetMs, notBeforeOffsetMs),
});

test('certificatesExpiryResult: ok beyond 30 days, with the soonest expiry in additional info', () => {
  const result = certificatesExpiryResult([sourced('a', 400 * DAY_MS), sourced('b', 30 * DAY_MS)], NOW);
  assert.deepEqual(result, {
    kind: 'ok',
    additionalInfo: {
      soonest_expiry: '2024-07-01T12:00:00Z',
      days_left: 30,
      cert_path: '/certs/b.pem',
      subject: 'b',
    },
  });
});

test('certificatesExpiryResult: wording grows more urgent at 30, 7 and 1 day(s)', () => {
  const message = (offsetMs: number) => {
    const result = certificatesExpiryResult([sourced('a', 400 * DAY_MS), sourced('b', offsetMs)], NOW);
    assert.equal(result.kind, 'warning');
    return result.kind === 'warning' ? result.message : '';
  };
  assert.match(
    message(30 * DAY_MS - 1),
    /^Certificate "b" in \/certs\/b\.pem will expire in 29 days, at .*\nRenew it before this date/,
  );
  assert.match(
    message(7 * DAY_MS - 1),
    /will expire in 6 days, .*\nRenew it immediately to avoid an outage\./,
  );
  assert.match(message(2 * DAY_MS - 1), /will expire in 1 day, /);
  assert.match(
    message(DAY_MS - 1),
    /expires in less than a day, at .*\nRenew it now: modules and downstream devices will fail/,
  );
});

test('certificatesExpiryResult: the auto-generated device CA gets quickstart advice', () => {
  const result = certificatesExpiryResult([sourced('quick', 10 * DAY_MS, undefined, true)], NOW);
  assert.match(
    result.kind === 'warning' ? result.message : '',
    /restart the IoT Edge daemon to generate a new one/,
  );
});

test('certificatesExpiryResult: every expired or not-yet-valid certificate is named, one per line', () => {
  const result = certificatesExpiryResult(
    [sourced('fine', 400 * DAY_MS), sourced('old', -DAY_MS), sourced('early', 400 * DAY_MS, DAY_MS)],
    NOW,
  );
  assert.equal(result.kind, 'failed');
  const lines = (result.kind === 'failed' ? result.message : '').split('\n');
  assert.deepEqual(lines.slice(0, 2), [
    'Certificate "old" in /certs/old.pem expired at 2024-05-31 12:00:00 UTC.',
    'Certificate "early" in /certs/early.pem has not-before time 2024-06-02 12:00:00 UTC which is in the future.',
  ]);
  assert.match(lines[2], /Renew the expired certificates.*host clock/);
  assert.deepEqual(result.additionalInfo, {
    soonest_expiry: '2024-05-31T12:00:00Z',
    days_left: -1,
    cert_path: '/certs/old.pem',
    subject: 'old',
  });
});
