import type http from 'node:http';

import { readBodyText, sendJson } from '../../http-json.js';
import { EDGE_HUB_MODULE_ID, inScopeOf } from '../auth-chain.js';
import { parseScopeRequest, scopePage, ScopeRequestError, type ScopeRequest } from '../device-scope.js';
import type { IdentityRegistry } from '../identities.js';
import { scopeDevices } from '../leaf-devices.js';
import type { LeafDevice } from '../leaf-device-spec.js';

/** `POST /devices/{edge device}/modules/$edgeHub/devicesAndModulesInTargetDeviceScope`. */
export const DEVICE_SCOPE_ROUTE =
  /^\/devices\/([^/]+)\/modules\/([^/]+)\/devicesAndModulesInTargetDeviceScope\/?$/;
const MAX_BODY = 16 * 1024;

/** What the scope API reads: who may ask, and the devices registered here. */
export interface DeviceScopeSource {
  identities: IdentityRegistry;
  devices: { list(): LeafDevice[]; get(deviceId: string): LeafDevice | undefined };
}

/**
 * The device-scope API a child edge device's hub calls on its parent's HTTPS port, as IoT Edge's
 * hub serves it: the caller is an edge device registered here, proving itself with its `$edgeHub`
 * token in `Authorization`; it names the target edge device first in the body's `authChain`, which
 * must be itself or an edge device below it; the answer is the target and the devices registered
 * below it, with their credentials, a page at a time. 401 without a valid token, 403 for a target
 * outside the caller's scope, 404 for a target not registered here.
 */
export function deviceScopeRequestListener(source: DeviceScopeSource, log: (line: string) => void) {
  return async (
    request: http.IncomingMessage,
    response: http.ServerResponse,
    match: RegExpExecArray,
  ): Promise<void> => {
    const actor = decodeURIComponent(match[1]!);
    const module = decodeURIComponent(match[2]!);
    /** `detail` goes to the log only: it would tell a caller without credentials which devices exist. */
    const refuse = (status: number, message: string, detail = message) => {
      log(`hub: device scope: refused ${actor}/${module}: ${detail}`);
      sendJson(response, status, { message });
    };
    if (request.method !== 'POST') {
      sendJson(response, 405, { message: 'the device-scope API takes POST' });
      return;
    }
    if (module !== EDGE_HUB_MODULE_ID) {
      refuse(401, `only an edge device's ${EDGE_HUB_MODULE_ID} may ask for a device scope, not ${module}`);
      return;
    }
    const token = String(request.headers.authorization ?? '');
    if (token === '') {
      refuse(401, `Authorization: the SharedAccessSignature of ${actor}/${EDGE_HUB_MODULE_ID} is required`);
      return;
    }
    const auth = await source.identities.authenticateEdgeHub(actor, token);
    if (!auth.ok) {
      refuse(
        401,
        `Unauthorized: not a valid token of an edge device's ${EDGE_HUB_MODULE_ID} registered here (wrong key, audience or expiry, or no such edge device)`,
        auth.reason,
      );
      return;
    }
    const text = await readBodyText(request, MAX_BODY);
    let scopeRequest: ScopeRequest;
    try {
      if (text === undefined)
        throw new ScopeRequestError(`the request body is larger than ${MAX_BODY} bytes`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ScopeRequestError('the request body is not JSON');
      }
      scopeRequest = parseScopeRequest(body);
    } catch (error) {
      if (!(error instanceof ScopeRequestError)) throw error;
      refuse(400, error.message);
      return;
    }
    const target = scopeRequest.targetDeviceId;
    const lookup = scopeDevices(source.devices);
    if (source.devices.get(target) === undefined) {
      refuse(404, `device ${target} is not registered here`);
      return;
    }
    if (!inScopeOf(actor, target, lookup)) {
      refuse(403, `${target} is not in the scope of ${actor}`);
      return;
    }
    sendJson(
      response,
      200,
      scopePage(scopeRequest, source.identities.deviceId, source.devices.list(), lookup),
    );
  };
}
