import type http from 'node:http';
import https from 'node:https';
import type tls from 'node:tls';

import { guardedListener } from '../../http-guard.js';
import type { EdgeHub } from '../hub.js';
import type { ProtocolHead } from '../protocol-head.js';
import {
  DEVICE_SCOPE_ROUTE,
  deviceScopeRequestListener,
  type DeviceScopeSource,
} from './device-scope-api.js';
import { methodsRequestListener } from './methods-api.js';

/**
 * The hub's HTTPS port: the direct-method API modules call (`POST /twins/{id}/modules/{m}/methods`)
 * and the device-scope API child edge devices call
 * (`POST /devices/{child}/modules/$edgeHub/devicesAndModulesInTargetDeviceScope`).
 */
export class HttpsHead implements ProtocolHead {
  readonly name = 'HTTPS';
  readonly binding = 'https';

  constructor(
    private readonly hub: EdgeHub,
    private readonly scope: DeviceScopeSource,
    private readonly log: (line: string) => void,
  ) {}

  server(options: tls.TlsOptions): tls.Server {
    const methods = methodsRequestListener(this.hub, this.log);
    const scope = deviceScopeRequestListener(this.scope, this.log);
    const listener = (request: http.IncomingMessage, response: http.ServerResponse) => {
      const match = DEVICE_SCOPE_ROUTE.exec(new URL(request.url ?? '/', 'https://localhost').pathname);
      return match ? scope(request, response, match) : methods(request, response);
    };
    return https.createServer(options, guardedListener('hub HTTPS', listener, this.log));
  }

  async close(): Promise<void> {}
}
