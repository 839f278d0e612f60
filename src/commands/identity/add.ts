import { Args, Flags } from '@oclif/core';
import { CliError } from '../../cli/cli-error.js';
import { DaemonCommand } from '../../cli/daemon-command.js';
import { jsonText } from '../../cli/json-text.js';

/** The daemon names body fields; the user typed flags. */
const FLAG_OF: Record<string, string> = {
  deviceId: 'DEVICE_ID',
  parentId: '--parent',
  edge: '--edge',
  'authentication.primaryKey': '--key',
  'authentication.primaryThumbprint': '--thumbprint',
  'authentication.secondaryThumbprint': '--secondary-thumbprint',
};

export default class IdentityAdd extends DaemonCommand {
  static override description =
    'Register a leaf (downstream) device or a child edge device with this gateway and print its connection string';

  static override examples = [
    '<%= config.bin %> identity add thermostat1',
    '<%= config.bin %> identity add thermostat2 --key "$(head -c 32 /dev/urandom | base64)"',
    '<%= config.bin %> identity add camera1 --thumbprint 3C5A...E0F1 --secondary-thumbprint 99B0...42AC',
    '<%= config.bin %> identity add child-1 --edge',
    '<%= config.bin %> identity add sensor7 --parent child-1 --key "$KEY_SENSOR7"',
  ];

  static override args = {
    device_id: Args.string({
      required: true,
      description: 'The device id (IoT Hub rules: up to 128 characters)',
    }),
  };

  static override enableJsonFlag = true;

  static override flags = {
    key: Flags.string({
      description: 'Primary symmetric key, base64 (default: generated); the secondary is generated',
      helpValue: '<BASE64>',
      exclusive: ['thumbprint'],
    }),
    thumbprint: Flags.string({
      description: 'X.509: the SHA-256 or SHA-1 thumbprint (hex) of the certificate the device presents',
      helpValue: '<HEX>',
    }),
    'secondary-thumbprint': Flags.string({
      description: 'X.509: a second accepted thumbprint (hex)',
      helpValue: '<HEX>',
      dependsOn: ['thumbprint'],
    }),
    edge: Flags.boolean({
      description:
        'Register an edge device, a child of this one in a nested edge: its hub may send upstream here on behalf of its modules and devices (SAS only)',
      exclusive: ['thumbprint'],
    }),
    parent: Flags.string({
      description: 'The edge device (registered here with --edge) that this device sits below',
      helpValue: '<DEVICE_ID>',
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(IdentityAdd);
    const authentication =
      flags.thumbprint !== undefined
        ? {
            type: 'x509',
            primaryThumbprint: flags.thumbprint,
            secondaryThumbprint: flags['secondary-thumbprint'],
          }
        : { type: 'sas', primaryKey: flags.key };
    const client = await this.managementClient(flags.host);
    const [{ ManagementApiError }, output] = await Promise.all([
      import('../../cli/management-errors.js'),
      import('../../cli/leaf-device-output.js'),
    ]);
    let created;
    try {
      created = await client.addDevice({
        deviceId: args.device_id,
        authentication,
        ...(flags.edge ? { edge: true } : {}),
        ...(flags.parent === undefined ? {} : { parentId: flags.parent }),
      });
    } catch (error) {
      if (!(error instanceof ManagementApiError) || error.status !== 400) throw error;
      const [field, ...rest] = error.message.split(': ');
      throw new CliError(FLAG_OF[field] ? [FLAG_OF[field], ...rest].join(': ') : error.message);
    }
    process.stdout.write(
      this.jsonEnabled()
        ? jsonText({ ...created, connectionString: output.gatewayConnectionString(created) })
        : output.renderCreatedDevice(created),
    );
  }
}
