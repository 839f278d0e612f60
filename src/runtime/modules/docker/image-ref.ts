/** Where an image comes from and which registry credentials apply to it. */

export interface RegistryCredential {
  address: string;
  username: string;
  password: string;
}

const DOCKER_HUB = 'docker.io';
const DOCKER_HUB_ALIASES = new Set([
  'docker.io',
  'index.docker.io',
  'registry-1.docker.io',
  'registry.hub.docker.com',
]);

/** The registry host of an image reference (Docker's rule: a first component with `.` or `:`, or `localhost`). */
export function registryHost(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return DOCKER_HUB;
  const first = image.slice(0, slash);
  if (first.includes('.') || first.includes(':') || first === 'localhost') return normalizeHost(first);
  return DOCKER_HUB;
}

/** `https://Host:5000/v1/` → `host:5000`; Docker Hub aliases → `docker.io`. */
export function normalizeHost(address: string): string {
  const host = address
    .trim()
    .replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
    .replace(/\/.*$/, '')
    .toLowerCase();
  return DOCKER_HUB_ALIASES.has(host) ? DOCKER_HUB : host;
}

/** The first credential whose address names the image's registry. */
export function credentialFor(
  image: string,
  credentials: RegistryCredential[],
): RegistryCredential | undefined {
  const host = registryHost(image);
  return credentials.find((credential) => normalizeHost(credential.address) === host);
}

/** `name` → `name:latest` when no tag or digest is given (what the engine pulls and stores). */
export function withDefaultTag(image: string): string {
  if (image.includes('@')) return image;
  const lastSlash = image.lastIndexOf('/');
  return image.slice(lastSlash + 1).includes(':') ? image : `${image}:latest`;
}

/** Removes every occurrence of `secret` from a message meant for users. */
export function redact(message: string, secrets: string[]): string {
  return secrets
    .filter((secret) => secret.length > 0)
    .reduce((text, secret) => text.split(secret).join('***'), message);
}
