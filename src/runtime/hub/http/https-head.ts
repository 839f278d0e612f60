import https from 'node:https';
import type tls from 'node:tls';

import { guardedListener } from '../../http-guard.js';
import type { EdgeHub } from '../hub.js';
import type { ProtocolHead } from '../protocol-head.js';
import { methodsRequestListener } from './methods-api.js';

/** The hub's HTTPS port: the direct-method API modules call (`POST /twins/{id}/modules/{m}/methods`). */
export class HttpsHead implements ProtocolHead {
  readonly name = 'HTTPS';
  readonly binding = 'https';

  constructor(
    private readonly hub: EdgeHub,
    private readonly log: (line: string) => void,
  ) {}

  server(options: tls.TlsOptions): tls.Server {
    const listener = methodsRequestListener(this.hub, this.log);
    return https.createServer(options, guardedListener('hub HTTPS', listener, this.log));
  }

  async close(): Promise<void> {}
}
