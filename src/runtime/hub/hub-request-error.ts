/** A request the hub refuses or cannot complete (direct methods, cloud-to-device messages), with its HTTP status. */
export class HubRequestError extends Error {
  constructor(
    readonly status: 400 | 404 | 504,
    message: string,
  ) {
    super(message);
  }
}
