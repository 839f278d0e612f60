/** The part of `ws` 8 the hub uses (the package ships no types). */
declare module 'ws' {
  import type { EventEmitter } from 'node:events';
  import type http from 'node:http';
  import type { Duplex } from 'node:stream';

  export class WebSocket extends EventEmitter {
    constructor(address: string, protocols?: string | string[], options?: Record<string, unknown>);
    readonly protocol: string;
    send(data: Buffer | string): void;
    close(code?: number, reason?: string): void;
    terminate(): void;
  }

  export interface ServerOptions {
    noServer: true;
    maxPayload?: number;
    perMessageDeflate?: boolean;
    handleProtocols?: (protocols: Set<string>, request: http.IncomingMessage) => string | false;
  }

  export class WebSocketServer extends EventEmitter {
    constructor(options: ServerOptions);
    handleUpgrade(
      request: http.IncomingMessage,
      socket: Duplex,
      head: Buffer,
      callback: (socket: WebSocket, request: http.IncomingMessage) => void,
    ): void;
    close(): void;
  }

  export function createWebSocketStream(socket: WebSocket, options?: Record<string, unknown>): Duplex;
}
