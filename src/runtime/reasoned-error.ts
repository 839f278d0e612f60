/**
 * An error whose `reason` tells callers what kind of failure it is, so they can choose a result or a
 * wording without parsing the message. Node built-ins only: the diagnostics image carries this module.
 */
export class ReasonedError<R extends string> extends Error {
  constructor(
    readonly reason: R,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
