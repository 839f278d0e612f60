import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  ConnectionRegistry,
  type ClientLink,
  type Subscription,
} from '../../../src/runtime/hub/connections.js';
import { hubBindingProblem, hubBindings } from '../../../src/runtime/deployment/listen-ports.js';
import { HubRequestError } from '../../../src/runtime/hub/hub-request-error.js';
import { MethodDispatcher } from '../../../src/runtime/hub/methods.js';

function listener(id: string, subscribed = true) {
  const requests: { method: string; requestId: string; payload: string }[] = [];
  const link: ClientLink = {
    identity: { id, deviceId: id.split('/')[0]!, moduleId: id.split('/')[1] },
    subscriptions: new Set<Subscription>(subscribed ? ['methods'] : []),
    deliverInput: () => Promise.resolve(),
    deliverC2D: () => Promise.resolve(),
    sendDesiredPatch: () => undefined,
    sendMethodRequest: (method, requestId, payload) =>
      requests.push({ method, requestId, payload: payload.toString() }),
    close: () => undefined,
  };
  return { link, requests };
}

test('a method request reaches the target and its response comes back by request id', async () => {
  const connections = new ConnectionRegistry();
  const methods = new MethodDispatcher(connections);
  const target = listener('dev/m');
  connections.add(target.link);
  const call = methods.invoke('dev/m', { methodName: 'ping', payload: { n: 1 } });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(target.requests.length, 1);
  assert.deepEqual(target.requests[0]!.payload, '{"n":1}');
  // a response from another identity with the same id is ignored
  methods.respond('dev/other', target.requests[0]!.requestId, 500, Buffer.from('{}'));
  methods.respond('dev/m', target.requests[0]!.requestId, 201, Buffer.from('{"pong":true}'));
  assert.deepEqual(await call, { status: 201, payload: { pong: true } });
});

test('404 when the target is not connected or not listening, after the connect timeout', async () => {
  const connections = new ConnectionRegistry();
  const methods = new MethodDispatcher(connections);
  await assert.rejects(
    methods.invoke('dev/absent', { methodName: 'x', payload: null }),
    (error: HubRequestError) => {
      assert.equal(error.status, 404);
      return true;
    },
  );
  connections.add(listener('dev/deaf', false).link);
  await assert.rejects(
    methods.invoke('dev/deaf', { methodName: 'x', payload: null, connectTimeoutInSeconds: 0.05 }),
    { status: 404 },
  );
});

test('a target that connects within the connect timeout gets the call', async () => {
  const connections = new ConnectionRegistry();
  const methods = new MethodDispatcher(connections);
  const call = methods.invoke('dev/late', { methodName: 'x', payload: 'p', connectTimeoutInSeconds: 5 });
  const late = listener('dev/late');
  connections.add(late.link);
  await new Promise((resolve) => setImmediate(resolve));
  methods.respond('dev/late', late.requests[0]!.requestId, 200, Buffer.from('"ok"'));
  assert.deepEqual(await call, { status: 200, payload: 'ok' });
});

test('504 when no response comes in time; 400 for out-of-range timeouts', async () => {
  const connections = new ConnectionRegistry();
  const methods = new MethodDispatcher(connections);
  connections.add(listener('dev/slow').link);
  await assert.rejects(
    methods.invoke('dev/slow', { methodName: 'x', payload: 1, responseTimeoutInSeconds: 0.05 }),
    {
      status: 504,
    },
  );
  await assert.rejects(
    methods.invoke('dev/slow', { methodName: 'x', payload: 1, responseTimeoutInSeconds: 301 }),
    {
      status: 400,
    },
  );
  methods.close();
});

test('hub ports come from edgeHub PortBindings, else 8883, 443 and 5671 on every address', () => {
  assert.deepEqual(hubBindings(undefined), {
    mqtt: { host: '0.0.0.0', port: 8883 },
    https: { host: '0.0.0.0', port: 443 },
    amqp: { host: '0.0.0.0', port: 5671 },
  });
  assert.deepEqual(
    hubBindings({
      HostConfig: {
        PortBindings: {
          '8883/tcp': [{ HostIp: '127.0.0.1', HostPort: '18883' }],
          '443/tcp': [{ HostPort: '0' }],
          '5671/tcp': [{ HostIp: '::1', HostPort: '15671' }],
        },
      },
    }),
    {
      mqtt: { host: '127.0.0.1', port: 18883 },
      https: { host: '0.0.0.0', port: 0 },
      amqp: { host: '::1', port: 15671 },
    },
  );
  // as an unmapped port of the edgeHub container: bindings without 5671 leave AMQP off
  assert.equal(
    hubBindings({ HostConfig: { PortBindings: { '8883/tcp': [{ HostPort: '8883' }] } } }).amqp,
    undefined,
  );
  assert.deepEqual(
    hubBindingProblem({ HostConfig: { PortBindings: { '5671/tcp': [{ HostPort: '99999' }] } } }),
    { path: 'HostConfig.PortBindings["5671/tcp"][0].HostPort', problem: '"99999" is not a port 0..65535' },
  );
  assert.deepEqual(
    hubBindings({ HostConfig: { PortBindings: { '8883/tcp': [{ HostPort: 'nope' }] } } }).mqtt,
    {
      host: '0.0.0.0',
      port: 8883,
    },
  );
});

test('an identity served in-process answers through its handler, before any connection, until released', async () => {
  const connections = new ConnectionRegistry();
  const methods = new MethodDispatcher(connections);
  const connected = listener('dev/$edgeAgent');
  connections.add(connected.link);
  const calls: unknown[] = [];
  const release = methods.serve('dev/$edgeAgent', async (name, payload) => {
    calls.push([name, payload]);
    if (name === 'fail') throw new Error('it broke');
    if (name === 'slow') return new Promise(() => undefined);
    return { status: 200, payload: { echo: payload } };
  });
  assert.deepEqual(await methods.invoke('dev/$edgeAgent', { methodName: 'ping', payload: { n: 1 } }), {
    status: 200,
    payload: { echo: { n: 1 } },
  });
  assert.deepEqual(calls, [['ping', { n: 1 }]]);
  assert.equal(connected.requests.length, 0, 'the connection was not asked');
  // a handler that fails answers 500 with its message; one that takes too long is 504
  assert.deepEqual(await methods.invoke('dev/$edgeAgent', { methodName: 'fail', payload: null }), {
    status: 500,
    payload: { message: 'it broke' },
  });
  await assert.rejects(
    methods.invoke('dev/$edgeAgent', { methodName: 'slow', payload: null, responseTimeoutInSeconds: 0.05 }),
    { status: 504 },
  );
  // the timeouts are checked as for a connected target
  await assert.rejects(
    methods.invoke('dev/$edgeAgent', { methodName: 'ping', payload: null, responseTimeoutInSeconds: 301 }),
    { status: 400 },
  );
  release();
  const call = methods.invoke('dev/$edgeAgent', { methodName: 'ping', payload: null });
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(connected.requests.length, 1, 'released: the connection gets it');
  methods.respond('dev/$edgeAgent', connected.requests[0]!.requestId, 200, Buffer.alloc(0));
  assert.deepEqual(await call, { status: 200, payload: null });
});
