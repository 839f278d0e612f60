/** What every answer of an HTTP API must be, whatever the request: an HTTP status, a clean message, no secret. */
import assert from 'node:assert/strict';

import { assertCleanMessage, secretFragmentIn } from './messages.js';
import { REQUEST_SECRETS, type ApiAnswer, type ApiRequest } from './management-requests.js';

export function checkAnswer(request: ApiRequest, answer: ApiAnswer): void {
  const what = `${request.method} ${request.path}`;
  assert.ok(answer.status >= 200 && answer.status < 600, `${what}: an HTTP status, found ${answer.status}`);
  for (const secret of REQUEST_SECRETS) {
    const piece = secretFragmentIn(answer.body, secret);
    assert.ok(
      piece === undefined,
      `${what}: the answer repeats ${JSON.stringify(piece)} of a secret: ${answer.body.slice(0, 300)}`,
    );
  }
  if (answer.status < 400 || !answer.contentType.includes('json') || answer.body === '') return;
  const parsed = JSON.parse(answer.body) as { message?: unknown };
  if (parsed.message !== undefined) {
    assertCleanMessage(parsed.message, { input: `${request.path} ${request.body?.toString('utf8') ?? ''}` });
  }
}
