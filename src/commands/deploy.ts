import { Args, Flags } from '@oclif/core';
import { CliError } from '../cli/cli-error.js';
import { DaemonCommand } from '../cli/daemon-command.js';

export default class Deploy extends DaemonCommand {
  static override description =
    "Replace the device's deployment with a manifest file and print the resulting status, or print the current status";

  static override examples = [
    '<%= config.bin %> deploy ./deployment.json',
    '<%= config.bin %> deploy --status',
    '<%= config.bin %> deploy --status --hub',
  ];

  static override args = {
    manifest: Args.string({
      required: false,
      description: 'Deployment manifest (JSON, as IoT Hub takes it)',
    }),
  };

  static override flags = {
    status: Flags.boolean({ description: "Print the agent's reported properties as JSON (deploys nothing)" }),
    hub: Flags.boolean({
      description: "With --status: the Edge Hub's reported properties ($edgeHub: routes, clients)",
      dependsOn: ['status'],
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Deploy);
    if (flags.status) {
      if (args.manifest !== undefined) throw new CliError('--status takes no manifest file');
      const client = await this.managementClient(flags.host);
      process.stdout.write(
        `${JSON.stringify(await client.deploymentStatus(flags.hub ? '$edgeHub' : '$edgeAgent'), null, 2)}\n`,
      );
      return;
    }
    if (args.manifest === undefined) {
      throw new CliError('Missing the deployment manifest: iotedge deploy <manifest.json> (or --status)');
    }
    const { readManifestFile } = await import('../cli/manifest-file.js');
    const manifest = await readManifestFile(args.manifest);
    const client = await this.managementClient(flags.host);
    const { ManagementApiError } = await import('../cli/management-errors.js');
    let reported: Record<string, unknown>;
    try {
      reported = await client.deploy(manifest);
    } catch (error) {
      if (error instanceof ManagementApiError) {
        const code = typeof error.body.code === 'number' ? error.body.code : error.status;
        throw new CliError(`Deployment failed (${code}): ${error.message}`);
      }
      throw error;
    }
    process.stdout.write(`${JSON.stringify(reported, null, 2)}\n`);
    const desired = reported.lastDesiredStatus as { code?: unknown; description?: unknown } | undefined;
    if (desired && typeof desired.code === 'number' && desired.code !== 200) {
      throw new CliError(
        `Deployment failed (${desired.code}): ${String(desired.description ?? '')}`.trimEnd(),
      );
    }
  }
}
