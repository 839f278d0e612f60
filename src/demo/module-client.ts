import device from 'azure-iot-device';
import mqtt from 'azure-iot-device-mqtt';

/** One line on stdout, which `iotedge logs MODULE` shows. */
export const say = (text: string): void => console.log(text);

/**
 * The module's client as every IoT Edge module makes it: from the environment and workload socket the
 * agent gives it, over MQTT; closed on SIGTERM or SIGINT, after which the process exits 0.
 */
export async function openModuleClient(): Promise<device.ModuleClient> {
  const client = await device.ModuleClient.fromEnvironment(mqtt.Mqtt);
  client.on('error', (error: Error) => say(`client error: ${error.message}`));
  await client.open();
  const stop = () => client.close(() => process.exit(0));
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  say(`connected as ${process.env.IOTEDGE_DEVICEID}/${process.env.IOTEDGE_MODULEID}`);
  return client;
}

/** Runs a module's main: a failure to start is one line on stderr and exit code 1, not a stack trace. */
export function runModule(main: () => Promise<void>): void {
  main().catch((error: unknown) => {
    console.error(
      `${process.env.IOTEDGE_MODULEID ?? 'module'}: ${(error as Error).message ?? String(error)}`,
    );
    process.exit(1);
  });
}
