import { Args, Flags } from '@oclif/core';
import { CliError } from '../cli/cli-error.js';
import { DaemonCommand } from '../cli/daemon-command.js';
import { jsonText } from '../cli/json-text.js';

/** How long `deploy --wait` waits without --timeout: long enough for image pulls on a slow link. */
const DEFAULT_WAIT_SECONDS = 300;

export default class Deploy extends DaemonCommand {
  static override description =
    "Replace the device's deployment (or with --device, a child edge device's) with a manifest file and print what changes (the resulting status with --json), or print the current status";

  static override examples = [
    '<%= config.bin %> deploy ./deployment.json',
    '<%= config.bin %> deploy ./deployment.json --json',
    '<%= config.bin %> deploy ./deployment.json --wait --timeout 120',
    '<%= config.bin %> deploy --status',
    '<%= config.bin %> deploy --status --hub',
    '<%= config.bin %> deploy --device child-1 ./child-deployment.json',
    '<%= config.bin %> deploy --status --device child-1',
  ];

  static override args = {
    manifest: Args.string({
      required: false,
      description: 'Deployment manifest (JSON, as IoT Hub takes it)',
    }),
  };

  static override enableJsonFlag = true;

  static override flags = {
    status: Flags.boolean({ description: "Print the agent's reported properties as JSON (deploys nothing)" }),
    hub: Flags.boolean({
      description: "With --status: the Edge Hub's reported properties ($edgeHub: routes, clients)",
      dependsOn: ['status'],
    }),
    device: Flags.string({
      description:
        'A child edge device registered here (`identity add ID --edge`): set its deployment, or with --status print what its agent reported',
      helpValue: '<DEVICE_ID>',
    }),
    wait: Flags.boolean({
      description:
        "After deploying, wait until the deployment's modules run (exit 0) or one fails (exit 2), at most --timeout seconds (exit 3)",
      exclusive: ['status', 'device'],
    }),
    timeout: Flags.integer({
      description: `With --wait: the most seconds to wait (default ${DEFAULT_WAIT_SECONDS})`,
      min: 1,
      max: 86_400,
      dependsOn: ['wait'],
    }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Deploy);
    const json = this.jsonEnabled();
    const printJson = (value: unknown): void => {
      process.stdout.write(jsonText(value));
    };
    const twin = flags.hub ? '$edgeHub' : '$edgeAgent';
    if (flags.status) {
      if (args.manifest !== undefined) throw new CliError('--status takes no manifest file');
      const client = await this.managementClient(flags.host);
      if (flags.device === undefined) {
        const { reported, source } = await client.deploymentStatusWithSource(twin);
        printJson(reported);
        // stdout stays the reported JSON; where the deployment came from goes beside it
        if (source !== undefined && twin === '$edgeAgent')
          process.stderr.write(`Deployment source: ${source}\n`);
        return;
      }
      const reported = await client.deviceDeploymentStatus(flags.device, twin);
      printJson(reported);
      if (!json && Object.keys(reported).length === 0) {
        const { notReportedNote } = await import('../cli/deploy-output.js');
        process.stderr.write(notReportedNote(flags.device, twin));
      }
      return;
    }
    if (args.manifest === undefined) {
      throw new CliError('Missing the deployment manifest: iotedge deploy <manifest.json> (or --status)');
    }
    const { readManifestFile } = await import('../cli/manifest-file.js');
    const manifest = await readManifestFile(args.manifest);
    const client = await this.managementClient(flags.host);
    if (flags.device !== undefined) {
      const answer = await client.deployToDevice(flags.device, manifest);
      if (json) return printJson(answer);
      const { deviceDeploymentSummary } = await import('../cli/deploy-output.js');
      process.stdout.write(deviceDeploymentSummary(answer.deviceId, answer.version));
      return;
    }
    const [{ ManagementApiError }, output] = await Promise.all([
      import('../cli/management-errors.js'),
      import('../cli/deploy-output.js'),
    ]);
    let answer: Awaited<ReturnType<typeof client.deploy>>;
    try {
      answer = await client.deploy(manifest);
    } catch (error) {
      if (!(error instanceof ManagementApiError)) throw error;
      if (json && output.lastDesiredStatus(error.body)) printJson(error.body);
      throw new CliError(output.refusalMessage(error.status, error.body, error.message));
    }
    for (const warning of answer.notes.warnings ?? []) process.stderr.write(`Warning: ${warning}\n`);
    const desired = output.lastDesiredStatus(answer.reported);
    const refused = desired !== undefined && desired.code !== 200;
    if (json && (!flags.wait || refused)) printJson(answer.reported);
    if (!json) process.stdout.write(output.deploymentSummary(answer.notes.changes, answer.reported));
    if (refused) throw new CliError(output.deploymentFailure(desired.code, desired.description));
    if (flags.wait) await this.waitForModules(client, flags.timeout ?? DEFAULT_WAIT_SECONDS, json);
  }

  /** `--wait`: the modules' outcome, with the reported properties it was read from under --json. */
  private async waitForModules(
    client: Awaited<ReturnType<Deploy['managementClient']>>,
    timeoutSeconds: number,
    json: boolean,
  ): Promise<void> {
    const [{ waitForModules }, { failedMessage, runningLine, WAIT_EXIT }] = await Promise.all([
      import('../cli/deploy-wait-run.js'),
      import('../cli/deploy-wait.js'),
    ]);
    const { verdict, reported } = await waitForModules(client, { timeoutSeconds, json });
    if (json) process.stdout.write(jsonText(reported));
    if (verdict.outcome === 'failed') throw new CliError(failedMessage(verdict), WAIT_EXIT.failed);
    if (!json) process.stdout.write(`${runningLine(verdict)}\n`);
  }
}
