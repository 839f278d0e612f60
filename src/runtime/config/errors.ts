/**
 * Why config.yaml could not be turned into Settings. The message always names the file, and the key
 * path or the YAML position when there is one; it never repeats a value that may hold a secret.
 */
export interface ConfigErrorDetails {
  file: string;
  /** Dotted key path as written in the YAML, e.g. `provisioning.attestation.method`. */
  keyPath?: string;
  /** 1-based position of a YAML syntax error. */
  line?: number;
  column?: number;
  /** errno code (`EACCES`, `ENOENT`, …) when the file could not be read. */
  code?: string;
  cause?: unknown;
}

export class ConfigError extends Error {
  readonly file: string;
  readonly keyPath?: string;
  readonly line?: number;
  readonly column?: number;
  readonly code?: string;

  constructor(message: string, details: ConfigErrorDetails) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.name = 'ConfigError';
    this.file = details.file;
    this.keyPath = details.keyPath;
    this.line = details.line;
    this.column = details.column;
    this.code = details.code;
  }
}

/**
 * A value that does not fit the schema, found before the file name is known to the validator.
 * The loader turns it into a ConfigError.
 */
export class SchemaViolation extends Error {
  constructor(
    readonly keyPath: string,
    readonly problem: string,
  ) {
    super(`${keyPath}: ${problem}`);
    this.name = 'SchemaViolation';
  }
}
