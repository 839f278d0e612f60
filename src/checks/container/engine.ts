import { release } from 'node:os';

import { connectEngine, ContainerEngineError } from '../../runtime/modules/docker/docker-engine.js';
import type { CheckDefinition, CheckResult } from '../types.js';
import { errorChain, failed, fatal, ignored, ok, warning } from '../types.js';

/** The engine the Windows installer sets up; other engines are not supported for production on Windows. */
export const WINDOWS_MOBY_URI = 'npipe://./pipe/iotedge_moby_engine';

const NOT_RUNNING_ADVICE = 'Please check your moby-engine installation and ensure the service is running.';

export const containerEngineUriCheck: CheckDefinition = {
  id: 'container-engine-uri',
  needs: ['settings'],
  provides: ['docker'],
  run: async (ctx) => {
    const uri = ctx.fact('settings').moby_runtime.uri;
    try {
      const engine = await connectEngine(uri, ctx.signal);
      ctx.provide('docker', engine);
      return ok({ docker_host_arg: uri, docker_server_version: engine.serverVersion });
    } catch (error) {
      const info = { docker_host_arg: uri, docker_server_version: null };
      const causes = errorChain(error);
      if (error instanceof ContainerEngineError && error.reason === 'invalid-uri') {
        const scheme = /^([^:/]*):/.exec(uri)?.[1] ?? uri;
        return failed(
          `Could not communicate with container engine at ${uri}. The scheme ${scheme} is invalid.`,
          [error.message],
          info,
        );
      }
      if (error instanceof ContainerEngineError && error.reason === 'permission-denied') {
        return fatal(
          `Could not communicate with container engine at ${uri}.\n${NOT_RUNNING_ADVICE}\nYou might need to run this command as root.`,
          causes,
          info,
        );
      }
      return failed(
        `Could not communicate with container engine at ${uri}.\n${NOT_RUNNING_ADVICE}`,
        causes,
        info,
      );
    }
  },
};

/** Windows containers need a host of the same build as the images: 10.0.17763 (Windows Server 2019). */
export function windowsHostVersionVerdict(osRelease: string): string | undefined {
  const [major, minor, build] = osRelease.split('.').map(Number);
  if (major === 10 && minor === 0 && build === 17763) return undefined;
  return (
    `The host has an unsupported OS version ${osRelease}. IoT Edge on Windows only supports OS version 10.0.17763.\n` +
    'Please see https://aka.ms/iotedge-platsup for details.'
  );
}

const onWindows = process.platform === 'win32';

/** A check that applies on Windows only, judging the configured container engine URI. */
function windowsEngineCheck(id: string, judge: (uri: string) => CheckResult): CheckDefinition {
  return {
    id,
    // On Linux the check is not applicable even when the configuration could not be read.
    needs: onWindows ? ['settings'] : [],
    run: async (ctx) => (onWindows ? judge(ctx.fact('settings').moby_runtime.uri) : ignored()),
  };
}

export const windowsHostVersionCheck = windowsEngineCheck('windows-host-version', (uri) => {
  if (uri !== WINDOWS_MOBY_URI) return ignored({ moby_runtime_uri: uri });
  const version = release();
  const problem = windowsHostVersionVerdict(version);
  const info = { moby_runtime_uri: uri, os_version: version };
  return problem === undefined ? ok(info) : fatal(problem, [], info);
});

export const containerEngineIsMobyCheck = windowsEngineCheck('container-engine-is-moby', (uri) =>
  uri === WINDOWS_MOBY_URI
    ? ok({ moby_runtime_uri: uri })
    : warning(
        'Device is not using a production-supported container engine (moby-engine).\n' +
          'Please see https://aka.ms/iotedge-prod-checklist-moby for details.',
        [],
        { moby_runtime_uri: uri },
      ),
);
