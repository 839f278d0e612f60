import { ConfigError, loadConfig } from '../../runtime/config/load.js';
import { errorChain, failed, fatal, ok, type CheckDefinition, type CheckResult } from '../types.js';

/**
 * The result for a config file that could not be loaded. Pure, so every branch is testable without
 * needing an unreadable file (root reads anything).
 */
export function configLoadFailure(error: unknown, configFile: string, verbose: boolean): CheckResult {
  const code = error instanceof ConfigError ? error.code : undefined;
  const causes = error instanceof ConfigError && error.cause !== undefined ? errorChain(error.cause) : [];
  if (code === 'EACCES' || code === 'EPERM') {
    return fatal(
      `Could not open file ${configFile}. You might need to run this command as root (sudo iotedge check).`,
      causes,
    );
  }
  if (code !== undefined) return failed(`Could not open file ${configFile}`, causes);
  const message = `The IoT Edge daemon's configuration file ${configFile} is not well-formed.`;
  const note = verbose
    ? '\nNote: In case of syntax errors, the error may not be exactly at the reported line number and position.'
    : '';
  return failed(message + note, errorChain(error));
}

export const configYamlWellFormedCheck: CheckDefinition = {
  id: 'config-yaml-well-formed',
  provides: ['settings'],
  run: async (ctx) => {
    const { configFile, env, verbose } = ctx.inputs;
    try {
      ctx.provide('settings', await loadConfig(configFile, env));
      return ok();
    } catch (error) {
      return configLoadFailure(error, configFile, verbose);
    }
  },
};
