import { readFileSync } from 'node:fs';

import rhea, { type Connection, type EventContext, type Receiver, type Sender } from 'rhea';

/** How a link or a delivery ended: opened/accepted, or the AMQP error condition the hub gave. */
export type Outcome = { ok: true } | { ok: false; condition: string; description: string };

/**
 * A raw AMQP 1.0 client (rhea) for tests that speak to the hub below the SDK: it opens links,
 * puts tokens to `$cbs` and sends messages, each step resolving with what the hub answered.
 */
export class AmqpTestClient {
  private constructor(
    readonly connection: Connection,
    private readonly cbs: {
      sender: Sender;
      receiver: Receiver;
      replies: Map<string, (status: number) => void>;
    },
  ) {}

  /** Connects over TLS to 127.0.0.1:`port` trusting `caFile` (SASL PLAIN when `plain` is given). */
  static async connect(port: number, caFile: string, plain?: { username: string; password: string }) {
    const container = rhea.create_container();
    container.on('error', () => undefined);
    const connection = container.connect({
      host: '127.0.0.1',
      port,
      transport: 'tls',
      ca: readFileSync(caFile),
      servername: 'localhost',
      reconnect: false,
      ...(plain ? { username: plain.username, password: plain.password } : {}),
    } as never);
    await new Promise<void>((resolve, reject) => {
      connection.once('connection_open', () => resolve());
      connection.once('connection_error', (context: EventContext) =>
        reject(new Error(String((context.connection.error as { description?: string })?.description))),
      );
      connection.once('disconnected', (context: EventContext) =>
        reject(new Error(`disconnected: ${String((context as { error?: unknown }).error ?? '')}`)),
      );
    });
    const replies = new Map<string, (status: number) => void>();
    const receiver = connection.open_receiver({ source: { address: '$cbs' } } as never);
    receiver.on('message', (context: EventContext) => {
      const message = context.message!;
      replies.get(String(message.correlation_id))?.(Number(message.application_properties?.['status-code']));
    });
    const sender = connection.open_sender({ target: { address: '$cbs' } } as never);
    await Promise.all([opened(sender), opened(receiver)]);
    return new AmqpTestClient(connection, { sender, receiver, replies });
  }

  /**
   * Puts `token` for `audience` to `$cbs`, as the Node SDK does (Service Bus's token type) or with
   * another `type` (the C# SDK's: `azure-devices.net:sastoken`); resolves with the status code the hub answered.
   */
  putToken(audience: string, token: string, type = 'servicebus.windows.net:sastoken'): Promise<number> {
    const id = rhea.generate_uuid();
    return new Promise((resolve) => {
      this.cbs.replies.set(id, resolve);
      this.cbs.sender.send({
        message_id: id,
        reply_to: 'cbs',
        to: '$cbs',
        application_properties: {
          operation: 'put-token',
          type,
          name: audience,
        },
        body: token,
      } as never);
    });
  }

  /** Opens a link to send to `address`; resolves with the link and whether the hub kept it open. */
  async sender(
    address: string,
    properties?: Record<string, string>,
  ): Promise<{ link: Sender; outcome: Outcome }> {
    const link = this.connection.open_sender({
      target: { address },
      ...(properties ? { properties } : {}),
    } as never);
    return { link, outcome: await opened(link) };
  }

  async receiver(address: string): Promise<{ link: Receiver; outcome: Outcome }> {
    const link = this.connection.open_receiver({ source: { address }, autoaccept: false } as never);
    return { link, outcome: await opened(link) };
  }

  /** Sends one message once the link has credit; resolves with the hub's disposition. */
  static send(link: Sender, message: Record<string, unknown>): Promise<Outcome> {
    return new Promise((resolve) => {
      const go = () => {
        const delivery = link.send(message as never);
        const settle = (context: EventContext) => {
          if (context.delivery !== delivery) return;
          link.removeListener('accepted', settle);
          link.removeListener('rejected', settle);
          const remote = (
            delivery as unknown as { remote_state?: { error?: { condition?: string; description?: string } } }
          ).remote_state;
          resolve(
            remote?.error
              ? {
                  ok: false,
                  condition: String(remote.error.condition),
                  description: String(remote.error.description),
                }
              : { ok: true },
          );
        };
        link.on('accepted', settle);
        link.on('rejected', settle);
      };
      if (link.sendable()) go();
      else link.once('sendable', go);
    });
  }

  close(): void {
    this.connection.close();
  }
}

/** A body as the SDK sends it: an AMQP data section. */
export const dataBody = (text: string): unknown => rhea.message.data_section(Buffer.from(text));

/** Resolves once the hub answered the link's attach: open, or detached with an error. */
export function opened(link: Sender | Receiver): Promise<Outcome> {
  return new Promise((resolve) => {
    const kind = link.is_sender() ? 'sender' : 'receiver';
    // a refused link is answered with an attach naming no terminus for this end, then a detach
    link.once(`${kind}_open`, () => {
      const attach = (link as unknown as { remote: { attach?: { source?: unknown; target?: unknown } } })
        .remote.attach;
      const end = (kind === 'sender' ? attach?.target : attach?.source) as
        { value?: unknown } | null | undefined;
      // rhea hands a null terminus over as a typed null
      if (end !== null && end !== undefined && end.value !== null) resolve({ ok: true });
    });
    link.once(`${kind}_error`, () => {
      const error = link.error as { condition?: string; description?: string } | undefined;
      resolve({ ok: false, condition: String(error?.condition), description: String(error?.description) });
    });
    link.once(`${kind}_close`, () => {
      const error = link.error as { condition?: string; description?: string } | undefined;
      resolve({ ok: false, condition: String(error?.condition), description: String(error?.description) });
    });
  });
}
