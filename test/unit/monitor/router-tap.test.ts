import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseEdgeHubDesired } from '../../../src/runtime/deployment/edgehub-desired.js';
import { storedEndpoints } from '../../../src/runtime/hub/endpoints/endpoint-factory.js';
import { memoryStores } from '../../../src/runtime/hub/endpoints/memory-store.js';
import { MessageTap, type TapEvent } from '../../../src/runtime/hub/monitor/tap.js';
import { Router } from '../../../src/runtime/hub/router.js';
import type { HubMessage } from '../../../src/runtime/routing/message.js';

const sent = (moduleId: string, output: string, temperature: number): HubMessage => ({
  body: Buffer.from(JSON.stringify({ temperature })),
  properties: {},
  systemProperties: {
    connectionDeviceId: 'edge-1',
    connectionModuleId: moduleId,
    outputName: output,
    contentType: 'application/json',
    contentEncoding: 'utf-8',
  },
  source: `/messages/modules/${moduleId}/outputs/${output}`,
});

function router(tap: MessageTap): Router {
  const routes = new Router(
    'edge-1',
    storedEndpoints({
      receivers: { receiver: () => undefined, watch: () => () => undefined },
      stores: memoryStores(),
    }),
    tap,
  );
  routes.apply(
    parseEdgeHubDesired({
      schemaVersion: '1.1',
      routes: {
        toFilter:
          'FROM /messages/modules/sensor/outputs/* INTO BrokeredEndpoint("/modules/filter/inputs/input1")',
        hot: 'FROM /messages/modules/sensor/outputs/* WHERE $body.temperature > 25 INTO $upstream',
      },
      storeAndForwardConfiguration: { timeToLiveSecs: 7200 },
    }),
  );
  return routes;
}

test('the router shows a routed message once per endpoint it goes to, as it holds it', async () => {
  const tap = new MessageTap();
  const routes = router(tap);
  const upstream = tap.watch({ endpoint: '$upstream' });
  const input = tap.watch({ endpoint: 'edge-1/filter/inputs/input1' });
  await routes.route(sent('sensor', 'temperatureOutput', 20));
  await routes.route(sent('sensor', 'temperatureOutput', 30));
  await routes.route(sent('other', 'out', 99)); // no route: never shown
  const take = async (watcher: AsyncIterable<TapEvent>, count: number) => {
    const iterator = watcher[Symbol.asyncIterator]();
    const bodies: string[] = [];
    for (let index = 0; index < count; index++) {
      const event = (await iterator.next()).value as TapEvent;
      bodies.push(event.kind === 'message' ? `${event.endpoint} ${event.message.body}` : 'dropped');
    }
    return bodies;
  };
  assert.deepEqual(await take(upstream, 1), ['$upstream {"temperature":30}']);
  assert.deepEqual(await take(input, 2), [
    'edge-1/filter/inputs/input1 {"temperature":20}',
    'edge-1/filter/inputs/input1 {"temperature":30}',
  ]);
  upstream.close();
  input.close();
  routes.close();
});

test('with nobody watching the router routes as before and the tap holds nothing', async () => {
  const tap = new MessageTap();
  const routes = router(tap);
  assert.equal(await routes.route(sent('sensor', 'temperatureOutput', 30)), 2);
  const late = tap.watch({ endpoint: '$upstream' });
  await routes.route(sent('sensor', 'temperatureOutput', 40));
  const first = (await late[Symbol.asyncIterator]().next()).value as TapEvent;
  // only what was routed after the watch began
  assert.equal(first.kind === 'message' && first.message.body.toString(), '{"temperature":40}');
  late.close();
  routes.close();
});
