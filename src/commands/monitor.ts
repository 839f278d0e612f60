import { Flags } from '@oclif/core';
import { CliError } from '../cli/cli-error.js';
import { DaemonCommand } from '../cli/daemon-command.js';

export default class Monitor extends DaemonCommand {
  static override description =
    'Follow messages as the Edge Hub routes them to $upstream (what the cloud receives) or to a module input';

  static override examples = [
    '<%= config.bin %> monitor',
    '<%= config.bin %> monitor --module filter --json',
    '<%= config.bin %> monitor --input filter/input1 --count 5',
    '<%= config.bin %> monitor --device thermostat1 --timeout 30',
  ];

  static override enableJsonFlag = true;

  static override flags = {
    module: Flags.string({ char: 'm', description: 'Only messages sent by this module' }),
    device: Flags.string({ char: 'd', description: 'Only messages sent by this device (or its modules)' }),
    input: Flags.string({
      description: 'Watch the messages routed to this module input (MODULE/INPUT) instead of $upstream',
      helpValue: 'MODULE/INPUT',
    }),
    count: Flags.integer({ char: 'n', description: 'Stop after this many messages', min: 1 }),
    timeout: Flags.integer({
      description: 'Stop after this many seconds without a message (0: never)',
      default: 0,
      min: 0,
    }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Monitor);
    if (flags.input !== undefined && !/^[^/\s]+\/[^/\s]+$/.test(flags.input))
      throw new CliError(`--input: expected MODULE/INPUT (e.g. filter/input1), got "${flags.input}"`);
    for (const flag of ['module', 'device'] as const) {
      const value = flags[flag];
      if (value !== undefined && !/^[^/\s]+$/.test(value))
        throw new CliError(`--${flag}: expected a ${flag} id without "/" or spaces, got "${value}"`);
    }
    const [{ followMonitor, writeOut }, render, client] = await Promise.all([
      import('../cli/monitor-follow.js'),
      import('../cli/monitor-render.js'),
      this.managementClient(flags.host),
    ]);
    const stop = new AbortController();
    const onSignal = () => stop.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    process.stdout.on('error', onSignal);
    const json = this.jsonEnabled();
    const format = json ? render.renderMonitorJson : render.renderMonitorText;
    if (!json && process.stderr.isTTY)
      process.stderr.write(
        `Watching ${flags.input ? `input ${flags.input}` : '$upstream'} (Ctrl-C to stop)\n`,
      );
    try {
      const outcome = await followMonitor(
        (signal) =>
          client.monitor({ input: flags.input, device: flags.device, module: flags.module }, signal),
        { count: flags.count, idleMs: flags.timeout > 0 ? flags.timeout * 1000 : undefined },
        (line) => writeOut(format(line), stop.signal),
        stop.signal,
      );
      if (outcome.end === 'closed')
        throw new CliError('The IoT Edge daemon ended the monitor stream (is it shutting down?)');
      if (outcome.end === 'timeout' && flags.count !== undefined)
        throw new CliError(
          `Only ${outcome.messages} of ${flags.count} messages arrived before ${flags.timeout} second${flags.timeout === 1 ? '' : 's'} passed without one`,
        );
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  }
}
