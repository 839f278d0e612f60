import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import device from 'azure-iot-device';
import { openModuleClient, runModule, say } from '../module-client.js';
import { DEFAULT_POLICY, nextMachineTemperature, reading, sensorSettings } from './readings.js';

/**
 * The simulated temperature sensor module: every SendInterval seconds (5 by default) a reading on
 * output `temperatureOutput`, MessageCount readings in all (500 by default; 0 or less: no end). The
 * direct method `reset` brings the machine temperature back to its minimum.
 */
runModule(async () => {
  const settings = sensorSettings(process.env);
  const policy = DEFAULT_POLICY;
  const client = await openModuleClient();
  let temperature = policy.machineTemperatureMin;
  client.onMethod('reset', (_request, response) => {
    temperature = policy.machineTemperatureMin;
    say('reset: machine temperature back to its minimum');
    response?.send(200, { temperature }, () => undefined);
  });
  const batchId = randomUUID();
  for (
    let sequence = 1;
    settings.messageCount === undefined || sequence <= settings.messageCount;
    sequence++
  ) {
    const message = new device.Message(JSON.stringify(reading(temperature, policy, Math.random, new Date())));
    message.contentType = 'application/json';
    message.contentEncoding = 'utf-8';
    message.properties.add('sequenceNumber', String(sequence));
    message.properties.add('batchId', batchId);
    try {
      await client.sendOutputEvent('temperatureOutput', message);
      say(`sent reading ${sequence}: machine temperature ${temperature.toFixed(2)}`);
    } catch (error) {
      say(`reading ${sequence} not sent: ${(error as Error).message}`);
    }
    temperature = nextMachineTemperature(temperature, policy, Math.random);
    await sleep(settings.sendIntervalMs);
  }
  say(`sent ${settings.messageCount} readings; done`);
});
