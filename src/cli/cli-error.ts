/**
 * A failure the user should read as it is: its message is printed on stderr (no stack, no
 * "Error:" prefix) and the command exits with `exitCode` (1 unless the command documents another).
 * Kept free of imports: every command loads it.
 */
export class CliError extends Error {
  override readonly name = 'CliError';

  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/**
 * What a failed command prints on stderr: the message as it is, or with `--json` one line
 * `{"error":{"message":...,"exitCode":...}}`, so that stdout only ever holds the command's own shape.
 */
export function errorText(message: string, exitCode: number, json: boolean): string {
  return json ? `${JSON.stringify({ error: { message, exitCode } })}\n` : `${message}\n`;
}

/** How every daemon command reports a CliError: its message on stderr, its exit code. */
export function reportCliError(error: CliError, json = false): void {
  process.stderr.write(errorText(error.message, error.exitCode, json));
  process.exitCode = error.exitCode;
}

/** True when `--json` is among the arguments (before any `--`). */
export function wantsJson(args: readonly string[]): boolean {
  const end = args.indexOf('--');
  return (end === -1 ? args : args.slice(0, end)).includes('--json');
}
