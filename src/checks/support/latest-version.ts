import { Agent, ProxyAgent, request, type Dispatcher } from 'undici';

import { redactProxyUrl } from './proxy-connect.js';
import { formatDuration } from './tls-probe.js';

const MAX_REDIRECTS = 5;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const MAX_BODY_BYTES = 64 * 1024;

export interface FetchLatestVersionOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** `http://[user:password@]proxy:port`, used for every request of the redirect chain. */
  proxy?: string;
}

/** Extracts the daemon version from the document `{"iotedged": "x.y.z"}`. */
export function parseLatestVersions(body: string, url: string): string {
  let document: unknown;
  try {
    document = JSON.parse(body);
  } catch (error) {
    throw new Error(`${url} did not answer with JSON: ${(error as Error).message}`);
  }
  const version = (document as { iotedged?: unknown } | null)?.iotedged;
  if (typeof version !== 'string' || version.trim() === '') {
    throw new Error(`${url} answered JSON without a string "iotedged" field`);
  }
  return version.trim();
}

/**
 * GETs `url`, following up to 5 redirects, and returns the `iotedged` version of the 200 JSON answer.
 * Errors name the URL that failed and never the proxy's credentials.
 */
export async function fetchLatestVersion(url: string, options: FetchLatestVersionOptions): Promise<string> {
  const timeout = new AbortController();
  const timer = setTimeout(() => timeout.abort(), options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout.signal]) : timeout.signal;
  let dispatcher: Dispatcher;
  try {
    // A private dispatcher, closed below, so that no keep-alive socket outlives the check.
    dispatcher = options.proxy === undefined ? new Agent() : new ProxyAgent(options.proxy);
  } catch {
    clearTimeout(timer);
    throw new Error(`invalid proxy URL ${redactProxyUrl(options.proxy ?? '')}`);
  }
  try {
    return await followRedirects(url, dispatcher, signal, options);
  } catch (error) {
    if (timeout.signal.aborted && !options.signal?.aborted) {
      throw new Error(`no answer from ${url} within ${formatDuration(options.timeoutMs)}`, { cause: error });
    }
    throw error;
  } finally {
    clearTimeout(timer);
    await dispatcher.close();
  }
}

async function followRedirects(
  url: string,
  dispatcher: Dispatcher,
  signal: AbortSignal,
  options: FetchLatestVersionOptions,
): Promise<string> {
  let current = url;
  for (let redirects = 0; ; redirects += 1) {
    const response = await get(current, dispatcher, signal, options);
    if (REDIRECT_STATUSES.has(response.statusCode)) {
      await response.body.dump();
      const location = response.headers.location;
      if (typeof location !== 'string')
        throw new Error(`${current} answered ${response.statusCode} without a Location`);
      if (redirects === MAX_REDIRECTS) throw new Error(`${url} redirected more than ${MAX_REDIRECTS} times`);
      current = new URL(location, current).href;
      continue;
    }
    if (response.statusCode !== 200) {
      await response.body.dump();
      throw new Error(`${current} answered HTTP ${response.statusCode}`);
    }
    return parseLatestVersions(await readLimited(response.body, current), current);
  }
}

async function get(
  url: string,
  dispatcher: Dispatcher,
  signal: AbortSignal,
  options: FetchLatestVersionOptions,
): Promise<Dispatcher.ResponseData> {
  try {
    return await request(url, {
      method: 'GET',
      headers: { accept: 'application/json' },
      dispatcher,
      signal,
    });
  } catch (error) {
    const detail = describe(error);
    const via = options.proxy === undefined ? '' : ` through proxy ${redactProxyUrl(options.proxy)}`;
    throw new Error(`could not GET ${url}${via}: ${detail}`, { cause: error });
  }
}

async function readLimited(body: Dispatcher.ResponseData['body'], url: string): Promise<string> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of body) {
    length += (chunk as Buffer).length;
    if (length > MAX_BODY_BYTES) {
      body.destroy();
      throw new Error(`${url} answered more than ${MAX_BODY_BYTES} bytes`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** undici wraps socket errors; the innermost one ("connect ECONNREFUSED …") is what users recognise. */
function describe(error: unknown): string {
  let innermost: unknown = error;
  while (innermost instanceof Error && innermost.cause instanceof Error) innermost = innermost.cause;
  const message = innermost instanceof Error ? innermost.message : String(innermost);
  const code = (innermost as NodeJS.ErrnoException | undefined)?.code;
  return code !== undefined && !message.includes(code) ? `${message} (${code})` : message;
}
