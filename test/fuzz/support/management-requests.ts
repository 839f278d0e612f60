/**
 * Random requests to the management API: methods, paths with awkward segments, queries and
 * bodies (random bytes, random JSON, and valid bodies edited or cut short, some holding secrets).
 */
import http from 'node:http';

import fc from 'fast-check';

import { REGISTRY_PASSWORD, validManifest } from '../../helpers/manifest-fixture.js';
import { nastyJson, nastyString } from './arbitraries.js';
import { applyJsonEdits, applyTextEdits, jsonEdits, textEdits } from './mutations.js';

/** A leaf device key sent in request bodies: no answer may repeat it, nor the registry password. */
export const LEAF_KEY = Buffer.from('leaf device key: 32 secret bytes').toString('base64');
export const REQUEST_SECRETS = [LEAF_KEY, REGISTRY_PASSWORD];

export interface ApiRequest {
  method: string;
  path: string;
  body?: Buffer;
}

export interface ApiAnswer {
  status: number;
  contentType: string;
  body: string;
}

/** A path segment as a client would send it: percent-encoded text, or raw awkward escapes. */
const segment = fc.oneof(
  fc.constantFrom(
    'm1',
    'edgeAgent',
    'edgeHub',
    'leaf-1',
    '',
    '.',
    '..',
    '%zz',
    '%',
    '%2F',
    '%00',
    '%E2%82',
    'a%20b',
  ),
  nastyString(10).map((text) => encodeURIComponent(text.replace(/[\uD800-\uDFFF]/g, '\uFFFD'))),
);

/** The API's routes (`{}` a path segment), and paths it does not serve. */
const ROUTES: [string, string][] = [
  ['GET', '/modules'], ['GET', '/modules/{}'], ['POST', '/modules/{}/start'], ['POST', '/modules/{}/stop'],
  ['POST', '/modules/{}/restart'], ['GET', '/modules/{}/logs'], ['GET', '/identities'], ['GET', '/systeminfo'],
  ['GET', '/systeminfo/resources'], ['GET', '/systeminfo/logs'], ['POST', '/deployment'], ['POST', '/methods'],
  ['GET', '/devices'], ['POST', '/devices'], ['DELETE', '/devices/{}'], ['POST', '/devices/{}/messages'],
  ['GET', '/deployment/status'], ['GET', '/deployment/status/edgeHub'], ['POST', '/devices/{}/deployment'],
  ['GET', '/devices/{}/deployment/status'], ['GET', '/devices/{}/deployment/status/edgeHub'],
]; // prettier-ignore
const METHODS = ['GET', 'POST', 'DELETE', 'PUT', 'PATCH', 'OPTIONS', 'HEAD'];
const OTHER_PATHS = ['/identities/', '/devices/', '/{}', '/{}/{}', '/modules/{}/{}', '/', '/deployment/'];

const route = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...ROUTES) },
  {
    weight: 1,
    arbitrary: fc.tuple(
      fc.constantFrom(...METHODS),
      fc.constantFrom(...ROUTES.map(([, path]) => path), ...OTHER_PATHS),
    ),
  },
);

const API_VERSIONS = [
  '2018-06-28',
  '2019-11-05',
  '2020-07-07',
  '2021-12-07',
  '2099-01-01',
  '',
  'x',
  '2020-07-07&api-version=1',
];
const apiVersion = fc.oneof(
  { weight: 4, arbitrary: fc.constant('2020-07-07') },
  { weight: 1, arbitrary: fc.constantFrom(...API_VERSIONS) },
);

const query = fc
  .tuple(
    fc.option(apiVersion, { nil: undefined, freq: 10 }),
    fc.array(
      fc.tuple(fc.constantFrom('since', 'until', 'tail', 'follow', 'timestamps', 'x'), nastyString(8)),
      { maxLength: 3 },
    ),
  )
  .map(([version, pairs]) => {
    const params = new URLSearchParams(
      pairs.map(([key, value]) => [key, value.replace(/[\uD800-\uDFFF]/g, '')] as [string, string]),
    );
    if (version !== undefined) params.set('api-version', version);
    return params.toString();
  });

/** Valid bodies of the API's POST routes, each with a secret where the API takes one. */
const VALID_BODIES: unknown[] = [
  validManifest(),
  { deviceId: 'leaf-1', authentication: { type: 'sas', primaryKey: LEAF_KEY, secondaryKey: LEAF_KEY } },
  { target: 'm1', methodName: 'reboot', payload: { delay: 5 }, responseTimeoutInSeconds: 30 },
  { data: 'hello', properties: { a: '1' }, messageId: 'x', ackTimeoutInSeconds: 10 },
];

/** A valid body with characters inserted, deleted or replaced: mostly no longer JSON. */
const editedBody = fc
  .tuple(fc.constantFrom(...VALID_BODIES), textEdits(fc.constantFrom('{', '}', '"', ',', ':', 'x', '')))
  .map(([valid, edits]) => Buffer.from(applyTextEdits(JSON.stringify(valid), edits)));

const body = fc.oneof(
  fc.constant(undefined),
  fc.uint8Array({ maxLength: 200 }).map((bytes) => Buffer.from(bytes)),
  nastyJson.map((value) => Buffer.from(JSON.stringify(value) ?? 'null')),
  fc
    .tuple(fc.constantFrom(...VALID_BODIES), jsonEdits)
    .map(([valid, edits]) => Buffer.from(JSON.stringify(applyJsonEdits(valid, edits)))),
  editedBody,
);

export const apiRequest: fc.Arbitrary<ApiRequest> = fc
  .record({ route, first: segment, second: segment, query, body })
  .map(({ route: [method, template], first, second, query, body }) => {
    const path = template.replace('{}', first).replace('{}', second);
    return {
      method,
      path: query === '' ? path : `${path}?${query}`,
      ...(body === undefined ? {} : { body }),
    };
  });

/** Sends `request` on a fresh connection to the unix socket and reads the whole answer. */
export function send(socketPath: string, request: ApiRequest, timeoutMs = 10_000): Promise<ApiAnswer> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request(
      { socketPath, method: request.method, path: request.path, agent: false, timeout: timeoutMs },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode ?? 0,
            contentType: String(response.headers['content-type'] ?? ''),
            body: Buffer.concat(chunks).toString('utf8'),
          }),
        );
        response.on('error', reject);
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    outgoing.on('error', reject);
    if (request.body !== undefined) outgoing.setHeader('Content-Type', 'application/json');
    outgoing.end(request.body);
  });
}

/** Edited bodies (holding secrets) sent to the routes that read a body. */
export const editedBodyRequest: fc.Arbitrary<ApiRequest> = fc
  .tuple(
    fc.constantFrom(
      '/deployment',
      '/methods',
      '/devices',
      '/devices/leaf-1/messages',
      '/devices/child-1/deployment',
    ),
    editedBody,
  )
  .map(([path, body]) => ({ method: 'POST', path: `${path}?api-version=2020-07-07`, body }));

/** A finding: the API's 400 quoted the malformed body around the error, a key included. */
export const ECHO_REGRESSION: ApiRequest = {
  method: 'POST',
  path: '/devices?api-version=2020-07-07',
  body: Buffer.from(`{"deviceId":"leaf-1","authentication":{"type":"sas","primaryKey":${LEAF_KEY}}}`),
};
