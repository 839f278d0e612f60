/**
 * A failure the user should read as it is: its message is printed on stderr (no stack, no
 * "Error:" prefix) and the command exits 1. Kept free of imports: every command loads it.
 */
export class CliError extends Error {
  override readonly name = 'CliError';
}

/** How every daemon command reports a CliError: its message on stderr, exit code 1. */
export function reportCliError(error: CliError): void {
  process.stderr.write(`${error.message}\n`);
  process.exitCode = 1;
}
