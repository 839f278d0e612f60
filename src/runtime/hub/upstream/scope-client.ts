import https from 'node:https';

import { buildSasToken } from '../../identity/sas.js';
import { parseScopeResult, ScopeResultError } from '../device-scope-wire.js';
import type { LeafDevice } from '../leaf-device-spec.js';
import { formatAddress } from './upstream-address.js';
import { edgeHubAudience } from './upstream-wire.js';

/** The API version IoT Edge's hub names when it asks its parent for a device scope. */
const API_VERSION = '2020-06-30-preview';
const PAGE_SIZE = 100;
/** Enough for 100 000 identities at the page size; a parent answering more is refused. */
const MAX_PAGES = 1000;
const MAX_ANSWER_BYTES = 8 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 15_000;
const TOKEN_SECONDS = 3600;

export interface ScopeClientOptions {
  /** The parent's hub HTTPS port. */
  address: { host: string; port: number };
  /** The device's trust bundle: the parent's server certificate must chain to it. */
  ca: string;
  iothubHostname: string;
  edgeDeviceId: string;
  /** The `$edgeHub` module key (base64) the child signs its tokens with. */
  edgeHubKey: string;
  now?: () => Date;
}

/** Why the scope could not be fetched; the message names the parent and never holds a token. */
export class ScopeFetchError extends Error {}

export interface FetchedScope {
  devices: LeafDevice[];
  /** Identities the parent listed that cannot be used here, with why. */
  skipped: string[];
}

/**
 * Asks the parent's hub for this edge device's device scope over HTTPS, page by page, as IoT Edge's
 * hub asks its parent: `POST /devices/{me}/modules/$edgeHub/devicesAndModulesInTargetDeviceScope`
 * with `{authChain: me, pageSize, continuationLink}` and its `$edgeHub` SAS token.
 */
export async function fetchDeviceScope(options: ScopeClientOptions): Promise<FetchedScope> {
  const now = options.now ?? (() => new Date());
  const devices: LeafDevice[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  let link: string | undefined;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const body = await post(options, {
      authChain: options.edgeDeviceId,
      pageSize: PAGE_SIZE,
      ...(link === undefined ? {} : { continuationLink: link }),
    });
    let parsed;
    try {
      parsed = parseScopeResult(body, options.edgeDeviceId, now());
    } catch (error) {
      if (!(error instanceof ScopeResultError)) throw error;
      throw new ScopeFetchError(`the parent's device scope answer is not usable: ${error.message}`);
    }
    for (const device of parsed.devices) {
      if (seen.has(device.deviceId)) continue;
      seen.add(device.deviceId);
      devices.push(device);
    }
    skipped.push(...parsed.skipped);
    if (parsed.continuationLink === undefined) return { devices, skipped };
    if (parsed.continuationLink === link)
      throw new ScopeFetchError('the parent answered the same continuation link twice');
    link = parsed.continuationLink;
  }
  throw new ScopeFetchError(`the parent's device scope runs past ${MAX_PAGES} pages`);
}

/** One page: the parsed JSON of a 200 answer, or a ScopeFetchError with the parent's message. */
function post(options: ScopeClientOptions, payload: object): Promise<unknown> {
  const now = options.now ?? (() => new Date());
  const { edgeDeviceId } = options;
  const token = buildSasToken({
    audience: edgeHubAudience(options.iothubHostname, edgeDeviceId),
    key: options.edgeHubKey,
    expiry: Math.floor(now().getTime() / 1000) + TOKEN_SECONDS,
  });
  const text = JSON.stringify(payload);
  const where = formatAddress(options.address);
  return new Promise((resolve, reject) => {
    const request = https.request(
      {
        host: options.address.host,
        port: options.address.port,
        method: 'POST',
        path: `/devices/${encodeURIComponent(edgeDeviceId)}/modules/${encodeURIComponent('$edgeHub')}/devicesAndModulesInTargetDeviceScope?api-version=${API_VERSION}`,
        ca: options.ca,
        rejectUnauthorized: true,
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          Authorization: token,
          'Content-Type': 'application/json',
          'Content-Length': Buffer.byteLength(text),
        },
      },
      (response) => {
        const chunks: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > MAX_ANSWER_BYTES) {
            request.destroy(
              new ScopeFetchError(`${where}: the answer is larger than ${MAX_ANSWER_BYTES} bytes`),
            );
            return;
          }
          chunks.push(chunk);
        });
        response.on('error', reject);
        response.on('end', () => {
          const answer = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(answer);
          } catch {
            json = undefined;
          }
          const status = response.statusCode ?? 0;
          if (status !== 200) {
            const message = (json as { message?: unknown } | undefined)?.message;
            reject(
              new ScopeFetchError(
                `${where} answered ${status}${typeof message === 'string' ? `: ${message.slice(0, 300)}` : ''}`,
              ),
            );
          } else if (json === undefined) {
            reject(new ScopeFetchError(`${where}: the answer is not JSON`));
          } else {
            resolve(json);
          }
        });
      },
    );
    request.on('timeout', () =>
      request.destroy(new ScopeFetchError(`${where}: no answer within ${REQUEST_TIMEOUT_MS / 1000} s`)),
    );
    request.on('error', (error: Error & { code?: string }) =>
      reject(
        error instanceof ScopeFetchError
          ? error
          : new ScopeFetchError(`${where}: ${error.code ?? error.message}`),
      ),
    );
    request.end(text);
  });
}
