import device from 'azure-iot-device';
import { openModuleClient, runModule, say } from '../module-client.js';
import { DEFAULT_THRESHOLD, isAlert, thresholdFrom } from './threshold.js';

/**
 * The filter module: readings arriving on input `input1` go on to output `output1`, with the
 * application property `MessageType: Alert`, when their machine temperature is above the threshold
 * (the twin's desired `TemperatureThreshold`, 25 until set; a desired patch changes it at once).
 */
runModule(async () => {
  const client = await openModuleClient();
  let threshold = DEFAULT_THRESHOLD;
  const twin = await client.getTwin();
  const useDesired = (desired: unknown) => {
    const value = thresholdFrom(desired);
    if (value === undefined || value === threshold) return;
    threshold = value;
    say(`temperature threshold: ${threshold}`);
  };
  useDesired(twin.properties.desired);
  twin.on('properties.desired', useDesired);
  client.on('inputMessage', (inputName: string, message: device.Message) => {
    void forward(inputName, message);
  });

  async function forward(inputName: string, message: device.Message): Promise<void> {
    try {
      const body = message.getBytes() as Buffer;
      if (inputName === 'input1' && isAlert(body, threshold)) {
        const alert = new device.Message(body);
        for (let index = 0; index < message.properties.count(); index++) {
          const { key, value } = message.properties.getItem(index);
          // `$.`-named entries are system properties the hub added on the way in, not the sender's
          if (!key.startsWith('$.')) alert.properties.add(key, value);
        }
        alert.properties.add('MessageType', 'Alert');
        alert.contentType = message.contentType;
        alert.contentEncoding = message.contentEncoding;
        await client.sendOutputEvent('output1', alert);
      }
    } catch (error) {
      say(`message not forwarded: ${(error as Error).message}`);
    } finally {
      client.complete(message, () => undefined);
    }
  }
  say(`filtering input1 to output1 above ${threshold}`);
});
