/**
 * A request the hub refuses or cannot complete (direct methods, cloud-to-device messages, twin
 * patches it could not save), with its HTTP status.
 */
export class HubRequestError extends Error {
  constructor(
    readonly status: 400 | 404 | 413 | 503 | 504,
    message: string,
  ) {
    super(message);
  }
}
