/**
 * Deployment manifests (parseDeployment), `$edgeHub` desired properties and module createOptions:
 * every input is accepted or refused with a DeploymentError whose message names the field and
 * never repeats the registry password or createOptions' text.
 */
import assert from 'node:assert/strict';

import fc from 'fast-check';

import { parseCreateOptions } from '../../../src/runtime/deployment/create-options.js';
import { DeploymentError } from '../../../src/runtime/deployment/deployment-error.js';
import { parseDeployment, redactDeployment } from '../../../src/runtime/deployment/manifest.js';
import { parseEdgeHubDesired } from '../../../src/runtime/deployment/edgehub-desired.js';
import { REGISTRY_PASSWORD, validManifest } from '../../helpers/manifest-fixture.js';
import { nastyJson, nastyString } from '../support/arbitraries.js';
import { assertDocumentedError, inputText } from '../support/messages.js';
import { applyJsonEdits, applyTextEdits, jsonEdits, textEdits } from '../support/mutations.js';
import { target } from '../support/target.js';

const CREATE_OPTIONS_SECRET = 'Bearer-q7Xk2Lm9Vt4Rp8Zs';
const SECRETS = [REGISTRY_PASSWORD, CREATE_OPTIONS_SECRET];
const CODES = [400, 412, 417];

/** The valid manifest with a secret in a module's createOptions too. */
function baseManifest(): unknown {
  const document = validManifest();
  const agent = (document.modulesContent.$edgeAgent as Record<string, Record<string, unknown>>)[
    'properties.desired'
  ] as { modules: Record<string, { settings: Record<string, unknown> }> };
  agent.modules.tempSensor!.settings.createOptions = JSON.stringify({
    Env: [`TOKEN=${CREATE_OPTIONS_SECRET}`],
    HostConfig: { Binds: ['/data:/data'] },
  });
  return document;
}

function checkDeployment(document: unknown): void {
  let deployment;
  try {
    deployment = parseDeployment(document);
  } catch (error) {
    assertDocumentedError(error, [DeploymentError], { input: inputText(document), secrets: SECRETS });
    assert.ok(CODES.includes((error as DeploymentError).code), `code ${(error as DeploymentError).code}`);
    return;
  }
  // the agent saves what it accepts as JSON, and shows it redacted
  assert.notEqual(inputText(document), '', 'an accepted manifest can be written as JSON');
  assert.ok(
    !inputText(redactDeployment(deployment)).includes(REGISTRY_PASSWORD),
    'a redacted deployment shows no password',
  );
}

function hubDesired(): unknown {
  return (validManifest().modulesContent.$edgeHub as Record<string, unknown>)['properties.desired'];
}

function checkHubDesired(desired: unknown): void {
  try {
    parseEdgeHubDesired(desired);
  } catch (error) {
    assertDocumentedError(error, [DeploymentError], { input: inputText(desired) });
  }
}

/** Where a deep structure goes in a valid manifest. */
const DEEP_PLACES = ['route', 'twin', 'extra'] as const;
type DeepPlace = (typeof DEEP_PLACES)[number];

/**
 * The valid manifest with a structure `depth` levels deep: a route condition in parentheses, a
 * module twin of objects, or arrays in a field the agent ignores (built here, not by fast-check,
 * whose reports cannot print values that deep).
 */
function deepManifest(place: DeepPlace, depth: number): unknown {
  const document = validManifest() as unknown as {
    modulesContent: Record<string, Record<string, Record<string, unknown>>>;
  };
  const content = document.modulesContent;
  if (place === 'route') {
    content.$edgeHub!['properties.desired']!.routes = {
      deep: `FROM /* WHERE ${'('.repeat(depth)}true${')'.repeat(depth)} INTO $upstream`,
    };
  } else if (place === 'twin') {
    content.tempSensor!['properties.desired'] = JSON.parse(`${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`);
  } else {
    content.$edgeAgent!['properties.desired']!.extra = JSON.parse(`${'['.repeat(depth)}${']'.repeat(depth)}`);
  }
  return document;
}

const VALID_CREATE_OPTIONS = JSON.stringify({
  Env: [`TOKEN=${CREATE_OPTIONS_SECRET}`],
  HostConfig: { PortBindings: { '8883/tcp': [{ HostPort: '8883' }] }, Binds: ['/a:/b'] },
});

const JSON_PIECES = fc.oneof(
  fc.constantFrom(
    '{',
    '}',
    '[',
    ']',
    ',',
    ':',
    '"',
    '\\',
    '\\u',
    'null',
    'true',
    '1e999',
    '-',
    '0',
    ' ',
    '\n',
  ),
  nastyString(6),
);

/** createOptions split into chunks createOptions, createOptions01, ... at random places. */
function chunked(text: string, cuts: number[]): Record<string, unknown> {
  const settings: Record<string, unknown> = {};
  const points = [...new Set(cuts.map((cut) => cut % (text.length + 1)))].sort((a, b) => a - b);
  let start = 0;
  [...points, text.length].forEach((end, index) => {
    const name = index === 0 ? 'createOptions' : `createOptions${String(index).padStart(2, '0')}`;
    settings[name] = text.slice(start, end);
    start = end;
  });
  return settings;
}

function checkCreateOptions(settings: Record<string, unknown>): void {
  try {
    parseCreateOptions(settings, 'modules.m.settings');
  } catch (error) {
    assertDocumentedError(error, [DeploymentError], {
      input: JSON.stringify(settings),
      secrets: [CREATE_OPTIONS_SECRET],
    });
  }
}

export const targets = [
  target({
    name: 'parseDeployment: random JSON',
    runs: 800,
    arbitrary: () => nastyJson,
    check: checkDeployment,
  }),
  target({
    name: 'parseDeployment: a valid manifest with random edits',
    runs: 3000,
    arbitrary: () => jsonEdits.map((edits) => applyJsonEdits(baseManifest(), edits)),
    check: checkDeployment,
  }),
  target({
    name: 'parseDeployment: routes and twins nested up to 100,000 levels deep',
    runs: 40,
    arbitrary: () => fc.tuple(fc.constantFrom(...DEEP_PLACES), fc.integer({ min: 1, max: 100_000 })),
    check: ([place, depth]: [DeepPlace, number]) => checkDeployment(deepManifest(place, depth)),
    // findings: each made parseDeployment throw a RangeError (the stack exhausted), not a 400
    examples: [
      ['route', 5000],
      ['twin', 10_000],
      ['extra', 100_000],
    ],
  }),
  target({
    name: 'parseEdgeHubDesired: valid $edgeHub desired properties with random edits',
    runs: 1000,
    arbitrary: () => jsonEdits.map((edits) => applyJsonEdits(hubDesired(), edits)),
    check: checkHubDesired,
  }),
  target({
    name: 'parseCreateOptions: spliced createOptions JSON in random chunks',
    runs: 1000,
    arbitrary: () =>
      fc
        .tuple(textEdits(JSON_PIECES), fc.array(fc.nat(), { maxLength: 4 }))
        .map(([edits, cuts]) => chunked(applyTextEdits(VALID_CREATE_OPTIONS, edits), cuts)),
    check: checkCreateOptions,
  }),
];
