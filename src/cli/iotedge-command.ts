import { Command, Errors } from '@oclif/core';
import { CliError, errorText, reportCliError } from './cli-error.js';
import { jsonText } from './json-text.js';

/**
 * The base of every iotedge command. With `--json` (oclif's JSON flag, on every command that
 * prints data) the command's result is printed as plain JSON on stdout, never coloured, and a
 * failure is one JSON line on stderr. A CliError is its message on stderr and its exit code,
 * never a stack trace.
 */
export abstract class IotedgeCommand extends Command {
  override logJson(json: unknown): void {
    process.stdout.write(jsonText(json));
  }

  override async catch(error: Error & { exitCode?: number }): Promise<unknown> {
    if (error instanceof CliError) {
      reportCliError(error, this.jsonEnabled());
      return undefined;
    }
    // `this.exit(code)`: not a failure to report, only an exit code
    if (error instanceof Errors.ExitError) throw error;
    if (this.jsonEnabled()) {
      // oclif's usage errors exit 2; the real tool's parser exits 1
      process.exitCode = 1;
      process.stderr.write(errorText(error.message, 1, true));
      return undefined;
    }
    return super.catch(error);
  }
}
