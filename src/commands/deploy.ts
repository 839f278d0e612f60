import { Args, Flags } from '@oclif/core';
import { CliError } from '../cli/cli-error.js';
import { DaemonCommand } from '../cli/daemon-command.js';

export default class Deploy extends DaemonCommand {
  static override description =
    "Replace the device's deployment with a manifest file and print what changes (the resulting status with --json), or print the current status";

  static override examples = [
    '<%= config.bin %> deploy ./deployment.json',
    '<%= config.bin %> deploy ./deployment.json --json',
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
    json: Flags.boolean({
      description: "Print the agent's reported properties after the deployment as JSON instead of a summary",
    }),
    hub: Flags.boolean({
      description: "With --status: the Edge Hub's reported properties ($edgeHub: routes, clients)",
      dependsOn: ['status'],
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Deploy);
    const printJson = (value: unknown) => process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    if (flags.status) {
      if (args.manifest !== undefined) throw new CliError('--status takes no manifest file');
      const client = await this.managementClient(flags.host);
      const { reported, source } = await client.deploymentStatusWithSource(
        flags.hub ? '$edgeHub' : '$edgeAgent',
      );
      printJson(reported);
      // stdout stays the reported JSON; where the deployment came from goes beside it
      if (source !== undefined && !flags.hub) process.stderr.write(`Deployment source: ${source}\n`);
      return;
    }
    if (args.manifest === undefined) {
      throw new CliError('Missing the deployment manifest: iotedge deploy <manifest.json> (or --status)');
    }
    const { readManifestFile } = await import('../cli/manifest-file.js');
    const manifest = await readManifestFile(args.manifest);
    const client = await this.managementClient(flags.host);
    const [{ ManagementApiError }, output] = await Promise.all([
      import('../cli/management-errors.js'),
      import('../cli/deploy-output.js'),
    ]);
    let answer: Awaited<ReturnType<typeof client.deploy>>;
    try {
      answer = await client.deploy(manifest);
    } catch (error) {
      if (!(error instanceof ManagementApiError)) throw error;
      if (flags.json && output.lastDesiredStatus(error.body)) printJson(error.body);
      throw new CliError(output.refusalMessage(error.status, error.body, error.message));
    }
    for (const warning of answer.notes.warnings ?? []) process.stderr.write(`Warning: ${warning}\n`);
    if (flags.json) printJson(answer.reported);
    else process.stdout.write(output.deploymentSummary(answer.notes.changes, answer.reported));
    const desired = output.lastDesiredStatus(answer.reported);
    if (desired && desired.code !== 200)
      throw new CliError(output.deploymentFailure(desired.code, desired.description));
  }
}
