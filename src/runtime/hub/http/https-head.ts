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
import type { WebSocketHead } from './websocket-route.js';
import { webSocketUpgrades, type StreamHandler } from './websocket-upgrade.js';

/**
 * The hub's HTTPS port: the direct-method API modules call (`POST /twins/{id}/modules/{m}/methods`)
 * and the device-scope API child edge devices call
 * (`POST /devices/{child}/modules/$edgeHub/devicesAndModulesInTargetDeviceScope`); and MQTT and
 * AMQP over WebSockets at `/$iothub/websocket`, handed to those heads.
 */
export class HttpsHead implements ProtocolHead {
  readonly name = 'HTTPS';
  readonly binding = 'https';

  constructor(
    private readonly hub: EdgeHub,
    private readonly scope: DeviceScopeSource,
    private readonly log: (line: string) => void,
    private readonly webSocketHeads: Record<WebSocketHead, StreamHandler>,
  ) {}

  server(options: tls.TlsOptions): tls.Server {
    const methods = methodsRequestListener(this.hub, this.log);
    const scope = deviceScopeRequestListener(this.scope, this.log);
    const listener = (request: http.IncomingMessage, response: http.ServerResponse) => {
      const match = DEVICE_SCOPE_ROUTE.exec(new URL(request.url ?? '/', 'https://localhost').pathname);
      return match ? scope(request, response, match) : methods(request, response);
    };
    const server = https.createServer(options, guardedListener('hub HTTPS', listener, this.log));
    server.on(
      'upgrade',
      webSocketUpgrades({
        heads: this.webSocketHeads,
        // a WebSocket message carries a packet (MQTT) or frames (AMQP): room for a largest message
        maxMessageBytes: this.hub.maxMessageBytes + 64 * 1024,
        log: this.log,
      }),
    );
    return server;
  }

  async close(): Promise<void> {}
}
