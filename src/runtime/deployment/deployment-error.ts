/**
 * Why a deployment was not applied, with the code IoT Edge reports in `lastDesiredStatus.code`:
 * 400 malformed, 406 agent not running, 412 unsupported schema
 * version, 417 empty configuration, 500 a step of the plan failed.
 */
export type DeploymentErrorCode = 400 | 406 | 412 | 417 | 500;

export class DeploymentError extends Error {
  constructor(
    readonly code: DeploymentErrorCode,
    message: string,
    /** Dotted path of the offending field, e.g. `modules.tempSensor.restartPolicy`. */
    readonly path?: string,
  ) {
    super(message);
    this.name = 'DeploymentError';
  }
}

/** A malformed field (400); the message starts with the field's path. */
export function malformed(path: string, problem: string): DeploymentError {
  return new DeploymentError(400, `${path}: ${problem}`, path);
}
