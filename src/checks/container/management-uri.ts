import { stat } from 'node:fs/promises';

import { unixSocketPath } from '../../runtime/socket-uri.js';
import { runDiagnostics, type DiagnosticsRunResult } from '../support/run-diagnostics.js';
import type { CheckDefinition } from '../types.js';
import { errorChain, failed, ok } from '../types.js';
import { containerFailure, defaultNetwork } from './common.js';

export type ManagementUriPlan =
  /** Run the diagnostics container; bind `socketPath` into it when set. */
  { kind: 'run'; socketPath?: string } | { kind: 'invalid'; message: string };

const schemeOf = (uri: string): string => /^([a-z][a-z0-9+.-]*):/i.exec(uri)?.[1]?.toLowerCase() ?? '';

/** Which (connect, listen) scheme pairs can work, and what a container needs to reach the endpoint. */
export function planManagementUri(connectUri: string, listenUri: string): ManagementUriPlan {
  const connect = schemeOf(connectUri);
  const listen = schemeOf(listenUri);
  if (connect === 'http' && listen === 'http') return { kind: 'run' };
  if (connect === 'unix' && (listen === 'unix' || listen === 'fd')) {
    let socketPath = '';
    try {
      socketPath = unixSocketPath(new URL(connectUri)) ?? '';
    } catch {
      // reported below
    }
    if (!socketPath.startsWith('/')) {
      return {
        kind: 'invalid',
        message: 'Could not parse connect.management_uri: does not represent a valid file path',
      };
    }
    return { kind: 'run', socketPath };
  }
  if (connect !== listen) {
    return {
      kind: 'invalid',
      message: `config.yaml has invalid combination of schemes for connect.management_uri ("${connect}") and listen.management_uri ("${listen}")`,
    };
  }
  return { kind: 'invalid', message: `Could not parse connect.management_uri: scheme ${connect} is invalid` };
}

export const connectManagementUriCheck: CheckDefinition = {
  id: 'connect-management-uri',
  needs: ['settings', 'docker', 'diagnosticsImage'],
  run: async (ctx) => {
    const settings = ctx.fact('settings');
    const connectUri = settings.connect.management_uri;
    const info = {
      connect_management_uri: connectUri,
      listen_management_uri: settings.listen.management_uri,
    };
    const plan = planManagementUri(connectUri, settings.listen.management_uri);
    if (plan.kind === 'invalid') return failed(plan.message, [], info);

    const binds: string[] = [];
    if (plan.socketPath) {
      // Binding a path that is not there would make the engine create a directory in the socket's place.
      const found = await stat(plan.socketPath).catch(() => undefined);
      if (!found?.isSocket()) {
        const what = found ? 'is not a socket' : 'does not exist';
        return failed(
          `Could not connect to the management endpoint at ${connectUri}: ${plan.socketPath} ${what}.`,
          ['Is iotedged running?'],
          info,
        );
      }
      binds.push(`${plan.socketPath}:${plan.socketPath}`);
    }
    const env = Object.entries(settings.agent.env ?? {}).map(([name, value]) => `${name}=${value}`);
    let result: DiagnosticsRunResult;
    try {
      result = await runDiagnostics(
        ctx.fact('docker'),
        ctx.fact('diagnosticsImage'),
        ['edge-agent', '--management-uri', connectUri],
        {
          // A unix socket needs no network at all; an http endpoint is reached like a module would.
          network: plan.socketPath ? 'none' : defaultNetwork(ctx.inputs.env),
          binds,
          env,
          signal: ctx.signal,
        },
      );
    } catch (error) {
      return failed(
        `Could not run the diagnostics container to reach ${connectUri}`,
        errorChain(error),
        info,
      );
    }
    if (result.exitCode === 0) return ok(info);
    const { reason, causes } = containerFailure(result);
    return failed(reason, causes, info);
  },
};
