import assert from 'node:assert/strict';

import { eventually, hubPorts, manifest, type TestDaemon } from './daemon.js';

/**
 * The SDK transports the conformance tests run with, by the name sdk-module.js takes. The
 * WebSocket ones dial the gateway's port 443 (`wss://{gateway}:443/$iothub/websocket`, no way to
 * name another in the SDK but a `webSocketAgent` in the transport options), where the hub's HTTPS
 * head listens.
 */
export type SdkTransport = 'mqtt' | 'amqp' | 'mqttws' | 'amqpws';

/**
 * The deployment of the SDK tests: a receiver and a sender module (process or container entries,
 * as the caller makes them), a route with a $body condition from the sender's output to the
 * receiver's input, and the receiver's desired properties. AMQP is on IoT Hub's 5671, as the SDK
 * reaches a gateway named without a port.
 */
export function sdkDeployment(
  modules: { receiver: Record<string, unknown>; sender: Record<string, unknown> },
  desired: Record<string, unknown>,
  transport: SdkTransport = 'mqtt',
) {
  const document = manifest(modules);
  const agent = document.modulesContent.$edgeAgent['properties.desired'] as {
    systemModules: { edgeHub: { settings: { createOptions: string } } };
  };
  // IoT Hub's own ports, on loopback: the SDK's invokeMethod always calls https://{gateway}:443 and
  // breaks on a gateway name with a port, so MQTT must be on 8883 for it to work
  // (MQTT stays on 8883 for the WebSocket transports too: modules are told the MQTT port in their
  // gateway name when it is another, and the SDK's WebSocket URL would then carry two ports)
  agent.systemModules.edgeHub.settings.createOptions = hubPorts(
    8883,
    443,
    0,
    transport === 'amqp' ? 5671 : undefined,
  );
  return {
    modulesContent: {
      ...document.modulesContent,
      $edgeHub: {
        'properties.desired': {
          schemaVersion: '1.1',
          routes: {
            warm: 'FROM /messages/modules/sender/outputs/out1 WHERE $body.temperature > 21 INTO BrokeredEndpoint("/modules/receiver/inputs/in1")',
            all: 'FROM /messages/* INTO $upstream',
          },
          storeAndForwardConfiguration: { timeToLiveSecs: 7200 },
        },
      },
      receiver: { 'properties.desired': desired },
    },
  };
}

/** What a module printed (`iotedge logs`), and a wait for a line to appear. */
export function moduleLogs(daemon: TestDaemon) {
  const logs = (module: string) => daemon.cli(['logs', module]).stdout;
  const logged = (module: string, text: string | RegExp) =>
    eventually(
      async () => {
        const output = logs(module);
        return (typeof text === 'string' ? output.includes(text) : text.test(output)) ? output : undefined;
      },
      `${module} to log ${text}`,
      30_000,
    );
  return { logs, logged };
}

/**
 * Once sdkDeployment({ threshold: 5 }) runs: only the sender's messages the route's condition lets
 * through reach the receiver, in order; the receiver read its desired properties and reported; the
 * sender's direct method call reached the receiver and came back.
 */
export async function expectSdkExchange(daemon: TestDaemon): Promise<void> {
  const { logs, logged } = moduleLogs(daemon);
  const received = await logged('receiver', 'seq=4');
  const inputs = received.split('\n').filter((line) => line.startsWith('input '));
  assert.deepEqual(
    inputs.map((line) => line.split(' body=')[0]),
    ['input in1 seq=2', 'input in1 seq=3', 'input in1 seq=4'],
    `only messages the condition lets through arrive, in order; the sender said:\n${logs('sender')}`,
  );
  assert.match(inputs[0]!, /body=\{"seq":2,"temperature":22\}/);

  await logged('receiver', 'reported');
  // over AMQP the SDK may print its reported acknowledgement before the desired event of its twin
  const desired = /^desired (.*)$/m.exec(await logged('receiver', /^desired /m))?.[1];
  assert.equal(JSON.parse(desired ?? '{}').threshold, 5);

  const sender = await logged('sender', 'invoked');
  assert.match(sender, /sent 5/);
  assert.match(sender, /invoked \{"status":200,"payload":\{"pong":\{"hello":"there"\},"from":"receiver"\}\}/);
  assert.match(logs('receiver'), /method ping \{"hello":"there"\}/);
}
