/** Management API versions, oldest first (IoT Edge 1.1's set). A route is served from its version on. */
export const API_VERSIONS = ['2018-06-28', '2019-01-30', '2019-10-22', '2019-11-05', '2020-07-07'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

export const CLIENT_API_VERSION: ApiVersion = '2020-07-07';

export function parseApiVersion(value: string | null): ApiVersion | undefined {
  return API_VERSIONS.find((version) => version === value);
}

/** True when `requested` is at least `introduced`. ISO dates compare as strings. */
export function servesVersion(requested: ApiVersion, introduced: ApiVersion): boolean {
  return requested >= introduced;
}
