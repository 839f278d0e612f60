import { Args, Flags } from '@oclif/core';
import { CliError } from '../cli/cli-error.js';
import { DaemonCommand } from '../cli/daemon-command.js';
import { withSpinner } from '../cli/progress.js';

function parsePayload(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new CliError(`--payload: not valid JSON (${(error as Error).message})`);
  }
}

export default class Invoke extends DaemonCommand {
  static override description =
    "Invoke a direct method on a module, a leaf device or a child edge device's module through the Edge Hub; prints {status, payload} as JSON";

  static override examples = [
    '<%= config.bin %> invoke tempSensor reset',
    `<%= config.bin %> invoke filter setThreshold --payload '{"threshold": 30}' --timeout 10`,
    '<%= config.bin %> invoke thermostat1 reboot --connect-timeout 5',
    '<%= config.bin %> invoke child-1/filter reset',
    `<%= config.bin %> invoke '$edgeAgent' RestartModule --payload '{"schemaVersion": "1.0", "id": "tempSensor"}'`,
  ];

  static override args = {
    target: Args.string({
      required: true,
      description:
        "A module of this device ('$edgeAgent' for the agent's methods), a leaf device registered with `iotedge identity add`, or CHILD/MODULE: a module of a child edge device",
    }),
    method: Args.string({ required: true, description: 'The method name' }),
  };

  static override enableJsonFlag = true;

  static override flags = {
    payload: Flags.string({ description: 'The request payload, as JSON (default null)' }),
    timeout: Flags.integer({
      description: 'Seconds to wait for the response',
      default: 30,
      min: 0,
      max: 300,
    }),
    'connect-timeout': Flags.integer({
      description: 'Seconds to wait for the target to connect',
      default: 0,
      min: 0,
      max: 300,
    }),
  };

  async run(): Promise<unknown> {
    const { args, flags } = await this.parse(Invoke);
    const payload = parsePayload(flags.payload);
    const client = await this.managementClient(flags.host);
    const json = this.jsonEnabled();
    const result = await withSpinner(`Invoking ${args.method} on ${args.target}`, { json }, () =>
      client.invokeMethod({
        target: args.target,
        methodName: args.method,
        payload,
        responseTimeoutInSeconds: flags.timeout,
        connectTimeoutInSeconds: flags['connect-timeout'],
      }),
    );
    if (result.status < 200 || result.status > 299) process.exitCode = 1;
    if (json) return result;
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return undefined;
  }
}
