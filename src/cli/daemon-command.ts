import { Flags } from '@oclif/core';
import { IotedgeCommand } from './iotedge-command.js';
import type { ManagementClient } from './management-client.js';
import { DEFAULT_MANAGEMENT_HOST } from './management-host.js';

/**
 * The base of every command that talks to iotedged: the `-H/--host` flag (env IOTEDGE_HOST) and
 * the CLI's one way of reporting failures (see IotedgeCommand).
 */
export abstract class DaemonCommand extends IotedgeCommand {
  static override baseFlags = {
    host: Flags.string({
      char: 'H',
      description: 'Daemon socket to connect to',
      env: 'IOTEDGE_HOST',
      default: DEFAULT_MANAGEMENT_HOST,
      helpValue: '<HOST>',
    }),
  };

  /** A client for `host`; loaded on demand so that oclif's start-up stays light. */
  protected async managementClient(host: string): Promise<ManagementClient> {
    const { ManagementClient } = await import('./management-client.js');
    return new ManagementClient(host);
  }
}
