import type http from 'node:http';

import { readBodyText, sendJson } from '../http-json.js';

import type { EdgeCa } from '../identity/certificates/edge-ca.js';
import { CertificateError } from '../identity/certificates/errors.js';
import { issueModuleIdentityCertificate } from '../identity/certificates/identity-cert.js';
import { issueLeaf, type IssuedCertificate } from '../identity/certificates/leaf.js';
import { workloadSign, type ModuleKeyId } from '../identity/module-keys.js';

/** What the workload API needs from the daemon. */
export interface WorkloadContext {
  deviceId: string;
  iothubHostname: string;
  /** The edge device's symmetric key (base64), when it is provisioned with one. */
  deviceKey(): string | undefined;
  /** The module's current generation id; undefined once it has left the deployment. */
  generationId(module: string): Promise<string | undefined>;
  edgeCa(): Promise<EdgeCa>;
  now(): Date;
}

const SERVER_CERT_MAX_MS = 90 * 24 * 60 * 60 * 1000;

class WorkloadError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

async function readJson(request: http.IncomingMessage): Promise<Record<string, unknown>> {
  const text = await readBodyText(request, 64 * 1024);
  if (text === undefined) throw new WorkloadError(413, 'Request body is too large');
  try {
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value))
      return value as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new WorkloadError(400, 'Request body is malformed');
}

function certificateResponse(issued: IssuedCertificate) {
  return {
    privateKey: { type: 'key', bytes: issued.privateKeyPem },
    certificate: issued.chainPem,
    expiration: issued.notAfter.toISOString(),
  };
}

function expirationOf(body: Record<string, unknown>, required: boolean): Date | undefined {
  if (body.expiration === undefined && !required) return undefined;
  const expiration = typeof body.expiration === 'string' ? new Date(body.expiration) : undefined;
  if (!expiration || Number.isNaN(expiration.getTime()))
    throw new WorkloadError(400, 'Request body is malformed');
  return expiration;
}

const SIGN = /^\/modules\/([^/]+)\/genid\/([^/]+)\/sign$/;
const SERVER_CERT = /^\/modules\/([^/]+)\/genid\/([^/]+)\/certificate\/server$/;
const IDENTITY_CERT = /^\/modules\/([^/]+)\/certificate\/identity$/;

/**
 * The workload API of one module's socket (as IoT Edge 1.1 has it). The socket says who the
 * caller is: a module may sign and get certificates only for itself (404 otherwise, as 1.1).
 */
export function workloadRequestListener(
  caller: string,
  context: WorkloadContext,
  log: (line: string) => void,
): (request: http.IncomingMessage, response: http.ServerResponse) => Promise<void> {
  const ownModule = (encoded: string) => {
    const name = decodeURIComponent(encoded);
    if (name !== caller) throw new WorkloadError(404, `Module not found: ${name}`);
    return name;
  };
  return async (request, response) => {
    const url = new URL(request.url ?? '/', 'http://localhost');
    if (!url.searchParams.get('api-version')) {
      sendJson(response, 400, { message: 'Missing api-version query parameter' });
      return;
    }
    const path = url.pathname;
    try {
      let match: RegExpExecArray | null;
      if (request.method === 'GET' && path === '/trust-bundle') {
        sendJson(response, 200, { certificate: (await context.edgeCa()).trustBundlePem });
      } else if (request.method === 'POST' && (match = SIGN.exec(path))) {
        const module = ownModule(match[1]!);
        const body = await readJson(request);
        if (body.keyId !== 'primary' && body.keyId !== 'secondary')
          throw new WorkloadError(400, 'keyId must be "primary" or "secondary"');
        if (body.algo !== 'HMACSHA256') throw new WorkloadError(400, 'algo must be "HMACSHA256"');
        if (typeof body.data !== 'string') throw new WorkloadError(400, 'data must be a base64 string');
        const deviceKey = context.deviceKey();
        if (!deviceKey) throw new WorkloadError(500, 'this device is not provisioned with a symmetric key');
        const generationId = decodeURIComponent(match[2]!);
        // a module removed (or removed and deployed again) signs with its old generation id no more
        if ((await context.generationId(module)) !== generationId)
          throw new WorkloadError(404, `Module not found: ${module} with generation id ${generationId}`);
        const digest = workloadSign(
          deviceKey,
          module,
          body.keyId as ModuleKeyId,
          generationId,
          Buffer.from(body.data, 'base64'),
        );
        sendJson(response, 200, { digest });
      } else if (request.method === 'POST' && (match = SERVER_CERT.exec(path))) {
        const module = ownModule(match[1]!);
        const body = await readJson(request);
        const commonName = typeof body.commonName === 'string' ? body.commonName : '';
        if (commonName.trim() === '') throw new WorkloadError(400, 'Request body is malformed');
        const isIp = /^[\d.]+$|:/.test(commonName);
        const issued = await issueLeaf(await context.edgeCa(), {
          commonName,
          profile: 'server',
          dnsNames: isIp ? [module] : [commonName, module],
          ipAddresses: isIp ? [commonName] : [],
          now: context.now(),
          maxLifetimeMs: SERVER_CERT_MAX_MS,
          expiration: expirationOf(body, true),
        });
        sendJson(response, 201, certificateResponse(issued));
      } else if (request.method === 'POST' && (match = IDENTITY_CERT.exec(path))) {
        const module = ownModule(match[1]!);
        const body = await readJson(request);
        const issued = await issueModuleIdentityCertificate(await context.edgeCa(), {
          iothubHostname: context.iothubHostname,
          deviceId: context.deviceId,
          moduleId: module,
          expiration: expirationOf(body, false),
          now: context.now(),
        });
        sendJson(response, 201, certificateResponse(issued));
      } else {
        sendJson(response, 404, { message: `No route for ${request.method} ${path}` });
      }
    } catch (error) {
      if (error instanceof WorkloadError) sendJson(response, error.status, { message: error.message });
      else if (error instanceof CertificateError && error.code === 'invalid')
        sendJson(response, 400, { message: 'Request body is malformed' });
      else if (error instanceof URIError)
        sendJson(response, 400, { message: 'The request path has a malformed %-escape' });
      else {
        log(`workload: ${caller}: ${request.method} ${path}: ${(error as Error).message}`);
        sendJson(response, 500, { message: (error as Error).message });
      }
    }
  };
}
