import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  credentialFor,
  normalizeHost,
  redact,
  registryHost,
  withDefaultTag,
} from '../../src/runtime/modules/docker/image-ref.js';
import { engineMessage } from '../../src/runtime/modules/docker/engine-call.js';

test('registry host of an image reference', () => {
  assert.equal(registryHost('busybox'), 'docker.io');
  assert.equal(registryHost('library/busybox:1'), 'docker.io');
  assert.equal(registryHost('example.azurecr.io/mod:1'), 'example.azurecr.io');
  assert.equal(registryHost('127.0.0.1:5000/mod'), '127.0.0.1:5000');
  assert.equal(registryHost('localhost/mod'), 'localhost');
  assert.equal(normalizeHost('https://Index.Docker.io/v1/'), 'docker.io');
});

test('credentials are matched by registry host', () => {
  const credentials = [
    { address: 'https://127.0.0.1:5000', username: 'a', password: 'pa' },
    { address: 'example.azurecr.io', username: 'b', password: 'pb' },
  ];
  assert.equal(credentialFor('127.0.0.1:5000/mod:1', credentials)?.username, 'a');
  assert.equal(credentialFor('example.azurecr.io/x', credentials)?.username, 'b');
  assert.equal(credentialFor('busybox', credentials), undefined);
});

test('default tag and redaction', () => {
  assert.equal(withDefaultTag('127.0.0.1:5000/mod'), '127.0.0.1:5000/mod:latest');
  assert.equal(withDefaultTag('mod:2'), 'mod:2');
  assert.equal(withDefaultTag('mod@sha256:ab'), 'mod@sha256:ab');
  assert.equal(redact('bad password s3cret for s3cret', ['s3cret', '']), 'bad password *** for ***');
});

test("the engine's message without dockerode's decoration", () => {
  const error = Object.assign(
    new Error('(HTTP code 500) server error - Get "https://r/v2/": unauthorized '),
    {
      statusCode: 500,
    },
  );
  assert.equal(engineMessage(error), 'Get "https://r/v2/": unauthorized');
  assert.equal(
    engineMessage({ statusCode: 404, json: { message: 'No such image: x ' } }),
    'No such image: x',
  );
});
