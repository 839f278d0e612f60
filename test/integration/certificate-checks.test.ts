import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Settings } from '../../src/runtime/config/settings.js';
import type { CheckDefinition, CheckResult } from '../../src/checks/types.js';
import { DAY_MS } from '../../src/checks/support/certificates.js';
import {
  createIdentityCertificateExpiryCheck,
  identityCertificateExpiryCheck,
} from '../../src/checks/certificates/identity-certificate-expiry.js';
import {
  certificatesQuickstartCheck,
  createCertificatesQuickstartCheck,
} from '../../src/checks/certificates/certificates-quickstart.js';
import {
  certificatesExpiryCheck,
  createCertificatesExpiryCheck,
} from '../../src/checks/certificates/certificates-expiry.js';
import { createCa, createLeaf, pemBundle, type TestCertificate } from '../helpers/cert-factory.js';
import { testContext, testSettings } from '../helpers/check-context.js';

// Whole seconds: certificate times carry no milliseconds.
const NOW = new Date('2024-06-01T12:00:00Z');
const clock = () => NOW;
const days = (count: number) => new Date(NOW.getTime() + count * DAY_MS);
const YEAR_AGO = days(-365);

let dir: string;
let root: TestCertificate;
let caCounter = 0;

before(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'cert-checks-'));
  root = createCa('Test Root CA', YEAR_AGO, days(3650));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh homedir, optionally holding a quickstart device CA file. */
async function homedir(quickstartPem?: string, fileName = 'device_ca_alias.cert.pem'): Promise<string> {
  const home = await mkdtemp(path.join(dir, 'home-'));
  if (quickstartPem !== undefined) {
    await mkdir(path.join(home, 'hsm', 'certs'), { recursive: true });
    await writeFile(path.join(home, 'hsm', 'certs', fileName), quickstartPem);
  }
  return home;
}

async function pemFile(name: string, content: string): Promise<string> {
  const file = path.join(await mkdtemp(path.join(dir, 'pem-')), name);
  await writeFile(file, content);
  return file;
}

function deviceCa(notAfter: Date, notBefore = YEAR_AGO): TestCertificate {
  caCounter += 1;
  return createLeaf(root, `device ca ${caCounter}`, notBefore, notAfter, true);
}

/** Settings whose homedir holds no quickstart certificate unless a test passes one. */
const settings = (overrides: Partial<Settings>): Settings =>
  testSettings({ homedir: '/nonexistent', ...overrides });

function production(deviceCaCert: string, trustedCaCerts: string, home = '/nonexistent'): Settings {
  return settings({
    homedir: home,
    certificates: {
      device_ca_cert: deviceCaCert,
      device_ca_pk: '/nonexistent/device_ca.key.pem',
      trusted_ca_certs: trustedCaCerts,
      auto_generated_ca_lifetime_days: 90,
    },
  });
}

/** Runs `check` with the settings fact; using or providing an undeclared fact fails the test. */
const run = (check: CheckDefinition, value: Settings): Promise<CheckResult> =>
  check.run(testContext({ check, facts: { settings: value } }));

const messageOf = (result: CheckResult) =>
  result.kind === 'warning' || result.kind === 'failed' || result.kind === 'fatal' ? result.message : '';

// ---------------------------------------------------------------- identity-certificate-expiry

function dpsX509(identityCert: string): Settings {
  return settings({
    provisioning: {
      source: 'dps',
      dynamic_reprovisioning: false,
      global_endpoint: 'https://global.azure-devices-provisioning.net',
      scope_id: '0ne00000000',
      always_reprovision_on_startup: true,
      attestation: {
        method: 'x509',
        identity_cert: identityCert,
        identity_pk: 'file:///nonexistent/id.key.pem',
      },
    },
  });
}

function manualX509(identityCert: string): Settings {
  return settings({
    provisioning: {
      source: 'manual',
      dynamic_reprovisioning: false,
      authentication: {
        method: 'x509',
        iothub_hostname: 'h.example',
        device_id: 'd',
        identity_cert: identityCert,
        identity_pk: '/nonexistent/id.key.pem',
      },
    },
  });
}

test('identity-certificate-expiry: a valid DPS identity certificate given as file URI is OK', async () => {
  const leaf = createLeaf(root, 'device-1', YEAR_AGO, days(200));
  const file = await pemFile('identity.pem', pemBundle(leaf, root));
  const result = await run(createIdentityCertificateExpiryCheck(clock), dpsX509(pathToFileURL(file).href));
  assert.deepEqual(result, {
    kind: 'ok',
    additionalInfo: {
      provisioning_mode: 'dps-x509',
      certificate_info: {
        cert_name: 'DPS identity certificate',
        cert_path: file,
        not_after: '2024-12-18T12:00:00Z',
        not_before: '2023-06-02T12:00:00Z',
      },
    },
  });
});

test('identity-certificate-expiry: 3 days left warns, naming the file', async () => {
  const file = await pemFile('identity.pem', createLeaf(root, 'device-2', YEAR_AGO, days(3)).certPem);
  const result = await run(createIdentityCertificateExpiryCheck(clock), manualX509(file));
  assert.equal(result.kind, 'warning');
  assert.equal(
    messageOf(result),
    `Manual authentication identity certificate at ${file} will expire soon (2024-06-04 12:00:00 UTC, in 3 days)`,
  );
  assert.equal(result.additionalInfo?.provisioning_mode, 'manual-x509');
});

test('identity-certificate-expiry: expired and not-yet-valid certificates fail', async () => {
  const expired = await pemFile('expired.pem', createLeaf(root, 'device-3', YEAR_AGO, days(-2)).certPem);
  const early = await pemFile('early.pem', createLeaf(root, 'device-4', days(1), days(300)).certPem);
  const check = createIdentityCertificateExpiryCheck(clock);
  const expiredResult = await run(check, dpsX509(expired));
  assert.equal(expiredResult.kind, 'failed');
  assert.equal(
    messageOf(expiredResult),
    `DPS identity certificate at ${expired} expired at 2024-05-30 12:00:00 UTC`,
  );
  const earlyResult = await run(check, manualX509(early));
  assert.equal(earlyResult.kind, 'failed');
  assert.match(messageOf(earlyResult), /has not-before time 2024-06-02 12:00:00 UTC which is in the future$/);
});

test('identity-certificate-expiry: only the first certificate of the file counts', async () => {
  const file = await pemFile(
    'identity.pem',
    pemBundle(createLeaf(root, 'device-5', YEAR_AGO, days(100)), deviceCa(days(-1))),
  );
  assert.equal((await run(createIdentityCertificateExpiryCheck(clock), dpsX509(file))).kind, 'ok');
});

test('identity-certificate-expiry: an unreadable file fails naming the file', async () => {
  const missing = path.join(dir, 'missing', 'identity.pem');
  const result = await run(identityCertificateExpiryCheck, dpsX509(missing));
  assert.equal(result.kind, 'failed');
  assert.equal(messageOf(result), `Could not parse ${missing} as a valid certificate file`);
  assert.ok(result.kind === 'failed' && result.causes?.[0]?.includes('ENOENT'));
  const notPem = await pemFile('garbage.pem', 'not a certificate\n');
  assert.equal(
    messageOf(await run(identityCertificateExpiryCheck, manualX509(notPem))),
    `Could not parse ${notPem} as a valid certificate file`,
  );
});

test('identity-certificate-expiry: non-X.509 provisioning is ignored with its mode', async () => {
  const tpm = settings({
    provisioning: {
      source: 'dps',
      dynamic_reprovisioning: false,
      global_endpoint: 'https://global.azure-devices-provisioning.net',
      scope_id: 's',
      always_reprovision_on_startup: true,
      attestation: { method: 'tpm', registration_id: 'r' },
    },
  });
  const external = settings({
    provisioning: { source: 'external', dynamic_reprovisioning: false, endpoint: 'http://localhost:1' },
  });
  for (const [value, mode] of [
    [tpm, 'dps-other'],
    [settings({}), 'manual-other'],
    [external, 'external'],
  ] as const) {
    assert.deepEqual(await run(identityCertificateExpiryCheck, value), {
      kind: 'ignored',
      additionalInfo: { provisioning_mode: mode, certificate_info: null },
    });
  }
});

// ---------------------------------------------------------------- certificates-quickstart

test('certificates-quickstart: a valid quickstart certificate still warns', async () => {
  const home = await homedir(pemBundle(deviceCa(days(80)), root));
  const result = await run(createCertificatesQuickstartCheck(clock), settings({ homedir: home }));
  assert.equal(result.kind, 'warning');
  const lines = messageOf(result).split('\n');
  assert.equal(
    lines[0],
    'The Edge device is using self-signed automatically-generated development certificates.',
  );
  assert.match(lines[1], /^They will expire in 80 days \(at 2024-08-20 12:00:00 UTC\)/);
  assert.match(
    messageOf(result),
    /certificates\.device_ca_cert, certificates\.device_ca_pk and certificates\.trusted_ca_certs/,
  );
  assert.equal(
    result.additionalInfo?.device_ca_cert_path,
    path.join(home, 'hsm', 'certs', 'device_ca_alias.cert.pem'),
  );
});

test('certificates-quickstart: finds device_ca_alias*.cert.pem among other files; expired fails', async () => {
  const home = await homedir(deviceCa(days(-1)).certPem, 'device_ca_alias_abc.cert.pem');
  await writeFile(path.join(home, 'hsm', 'certs', 'edge_owner_ca.cert.pem'), deviceCa(days(500)).certPem);
  const result = await run(createCertificatesQuickstartCheck(clock), settings({ homedir: home }));
  assert.equal(result.kind, 'failed');
  assert.match(
    messageOf(result),
    /The certs expired at 2024-05-31 12:00:00 UTC\. Restart the IoT Edge daemon/,
  );
});

test('certificates-quickstart: no quickstart certificate fails and says the daemon creates it', async () => {
  for (const home of [await homedir(), await homedir('x', 'unrelated.pem')]) {
    const result = await run(certificatesQuickstartCheck, settings({ homedir: home }));
    assert.equal(result.kind, 'failed');
    const [first, second] = messageOf(result).split('\n');
    assert.equal(first, `Could not find device CA certificate under ${path.join(home, 'hsm', 'certs')}.`);
    assert.match(second, /daemon generates a quickstart device CA certificate there when it first starts/);
  }
});

test('certificates-quickstart: production certificates are OK, warn within 90 days, fail once expired', async () => {
  const check = createCertificatesQuickstartCheck(clock);
  const trusted = await pemFile('trusted.pem', root.certPem);
  const fine = await pemFile('ca.pem', pemBundle(deviceCa(days(365)), root));
  assert.equal((await run(check, production(fine, trusted))).kind, 'ok');

  const thirty = await pemFile('ca.pem', deviceCa(days(30)).certPem);
  const warned = await run(check, production(pathToFileURL(thirty).href, trusted));
  assert.equal(warned.kind, 'warning');
  assert.match(
    messageOf(warned),
    /^The device CA cert will expire within the next 90 days, at 2024-07-01 12:00:00 UTC \(30 days left\)/,
  );

  const expired = await pemFile('ca.pem', deviceCa(days(-10)).certPem);
  const failedResult = await run(check, production(expired, trusted));
  assert.equal(failedResult.kind, 'failed');
  assert.match(messageOf(failedResult), /^The device CA cert has expired at 2024-05-22 12:00:00 UTC\./);
  // The quickstart directory is not consulted when certificates are configured.
  const home = await homedir(deviceCa(days(-1)).certPem);
  assert.equal((await run(check, production(fine, trusted, home))).kind, 'ok');
});

// ---------------------------------------------------------------- certificates-expiry

test('certificates-expiry: every certificate of the chain and trust bundle is OK beyond 30 days', async () => {
  const ca = deviceCa(days(45));
  const chain = await pemFile('chain.pem', pemBundle(ca, root));
  const trusted = await pemFile('trusted.pem', pemBundle(root, createCa('Other Root', YEAR_AGO, days(31))));
  const result = await run(createCertificatesExpiryCheck(clock), production(chain, trusted));
  assert.deepEqual(result, {
    kind: 'ok',
    additionalInfo: {
      soonest_expiry: '2024-07-02T12:00:00Z',
      days_left: 31,
      cert_path: trusted,
      subject: 'CN=Other Root',
    },
  });
});

test('certificates-expiry: the soonest expiry in a bundle warns at 30, 7 and 1 day(s)', async () => {
  const check = createCertificatesExpiryCheck(clock);
  const trusted = await pemFile('trusted.pem', root.certPem);
  const expectations: [number, RegExp][] = [
    [30, /^$/],
    [29, /will expire in 29 days, at 2024-06-30 12:00:00 UTC\.\nRenew it before this date/],
    [6, /will expire in 6 days, .*\nRenew it immediately to avoid an outage\./],
    [0.5, /expires in less than a day, at 2024-06-02 00:00:00 UTC\.\nRenew it now/],
  ];
  for (const [left, expected] of expectations) {
    const ca = deviceCa(days(left));
    const chain = await pemFile('chain.pem', pemBundle(deviceCa(days(900)), ca, root));
    const result = await run(check, production(chain, trusted));
    assert.equal(result.kind, left >= 30 ? 'ok' : 'warning', `${left} days left`);
    assert.match(messageOf(result), expected);
    if (result.kind === 'warning')
      assert.ok(
        messageOf(result).startsWith(`Certificate "CN=${ca.cert.subject.getField('CN').value}" in ${chain}`),
      );
    assert.equal(result.additionalInfo?.days_left, Math.trunc(left));
  }
});

test('certificates-expiry: expired or not-yet-valid certificates fail naming file and subject', async () => {
  const chain = await pemFile('chain.pem', pemBundle(deviceCa(days(300)), root));
  const trusted = await pemFile(
    'trusted.pem',
    pemBundle(createCa('Old Root', days(-900), days(-3)), createCa('Future Root', days(2), days(900))),
  );
  const result = await run(createCertificatesExpiryCheck(clock), production(chain, trusted));
  assert.equal(result.kind, 'failed');
  const lines = messageOf(result).split('\n');
  assert.equal(lines[0], `Certificate "CN=Old Root" in ${trusted} expired at 2024-05-29 12:00:00 UTC.`);
  assert.equal(
    lines[1],
    `Certificate "CN=Future Root" in ${trusted} has not-before time 2024-06-03 12:00:00 UTC which is in the future.`,
  );
  assert.equal(result.additionalInfo?.soonest_expiry, '2024-05-29T12:00:00Z');
  assert.equal(result.additionalInfo?.days_left, -3);
});

test('certificates-expiry: checks the quickstart device CA when no certificates are configured', async () => {
  const home = await homedir(pemBundle(deviceCa(days(10)), root));
  const result = await run(createCertificatesExpiryCheck(clock), settings({ homedir: home }));
  assert.equal(result.kind, 'warning');
  assert.match(
    messageOf(result),
    /will expire in 10 days.*\nIt is the auto-generated quickstart device CA certificate/,
  );

  const expiredHome = await homedir(deviceCa(days(-1)).certPem);
  const expired = await run(createCertificatesExpiryCheck(clock), settings({ homedir: expiredHome }));
  assert.equal(expired.kind, 'failed');
  assert.match(messageOf(expired), /Restart the IoT Edge daemon to generate new development certs\./);

  const missing = await run(certificatesExpiryCheck, settings({ homedir: await homedir() }));
  assert.equal(missing.kind, 'failed');
  assert.match(messageOf(missing), /^Could not find device CA certificate under /);
});

test('certificates-expiry: an unreadable trust bundle fails naming the file', async () => {
  const chain = await pemFile('chain.pem', pemBundle(deviceCa(days(300)), root));
  const missing = path.join(dir, 'nope', 'trusted.pem');
  const result = await run(certificatesExpiryCheck, production(chain, missing));
  assert.equal(result.kind, 'failed');
  assert.equal(messageOf(result), `Could not parse ${missing} as a valid certificate file`);
  const bad = await run(certificatesExpiryCheck, production(chain, 'https://example.invalid/trusted.pem'));
  assert.equal(
    messageOf(bad),
    "URI https://example.invalid/trusted.pem is unsupported for 'certificates.trusted_ca_certs'",
  );
});
