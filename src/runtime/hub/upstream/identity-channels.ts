import { EDGE_HUB_MODULE_ID } from '../auth-chain.js';
import type { ClientIdentity } from '../connections.js';
import type { EdgeHub } from '../hub.js';
import { HubRequestError } from '../hub-request-error.js';
import {
  ManagedChannel,
  methodAnswer,
  methodPayload,
  type DownstreamMessage,
  type MethodAnswer,
} from './managed-channel.js';
import type { TwinProperties } from '../twin/twin-document.js';
import { ReportedMirror } from './reported-mirror.js';
import type { UpstreamLink } from './upstream-link.js';

/** How long an identity's upstream connection stays after its local client left. */
const LINGER_MS = 60_000;
/** How long a client's twin read waits for its twin's first read upstream (then it gets the hub's copy). */
const FIRST_READ_WAIT_MS = 5_000;

interface Managed {
  channel: ManagedChannel;
  mirror: ReportedMirror;
  release?: NodeJS.Timeout;
  /** Settles once upstream's desired properties are in the hub's twin, or after the wait. */
  firstRead?: Promise<void>;
}

/** A promise settled by `settle()` or after `ms`, whichever comes first. */
function settledWithin(ms: number): { promise: Promise<void>; settle: () => void } {
  let settle!: () => void;
  const promise = new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms);
    timer.unref();
    settle = () => {
      clearTimeout(timer);
      resolve();
    };
  });
  return { promise, settle };
}

/**
 * The identities below a child edge device that upstream manages: the device's modules and the
 * leaf devices connected to its hub. While one is connected here, it also has a managed channel
 * upstream: its desired properties come down into the hub's twins (the connected client hears the
 * change as a desired patch), its reported properties go up (the difference upstream lacks, also
 * what was reported while the parent was away or before a restart: the hub's twins are durable),
 * and direct methods and cloud-to-device messages from upstream reach it through the hub, answered
 * upstream as the hub answers them locally (404 not connected, 504 no answer in time). The channel
 * closes a minute after the client left.
 */
export class IdentityChannels {
  private readonly managed = new Map<string, Managed>();

  constructor(
    private readonly hub: EdgeHub,
    private readonly link: Pick<UpstreamLink, 'manage' | 'release' | 'online'>,
    private readonly log: (line: string) => void,
    private readonly options: { desiredFromUpstream: boolean; lingerMs?: number; firstReadWaitMs?: number },
  ) {
    hub.onClients({
      connected: (identity) => this.connected(identity),
      disconnected: (identity) => this.disconnected(identity),
    });
    hub.onReportedSaved((id) => void this.managed.get(id)?.mirror.sync());
    // as IoT Edge's hub reads a twin from the cloud while it is online: a module that reads its
    // twin as it starts gets the desired properties upstream holds, not an empty or stale copy
    if (options.desiredFromUpstream) hub.gateTwinReads((id) => this.managed.get(id)?.firstRead);
  }

  private connected(identity: ClientIdentity): void {
    if (identity.deviceId === this.hub.deviceId && identity.moduleId === EDGE_HUB_MODULE_ID) return;
    if (identity.deviceId === this.hub.deviceId && identity.moduleId === '$edgeAgent') return;
    const existing = this.managed.get(identity.id);
    if (existing) {
      clearTimeout(existing.release);
      existing.release = undefined;
      return;
    }
    const events: { connected?: (reported: Record<string, unknown>) => void } = {};
    const firstRead =
      this.options.desiredFromUpstream && this.link.online
        ? settledWithin(this.options.firstReadWaitMs ?? FIRST_READ_WAIT_MS)
        : undefined;
    const channel = new ManagedChannel(
      identity.moduleId === undefined
        ? { deviceId: identity.deviceId }
        : { deviceId: identity.deviceId, moduleId: identity.moduleId },
      {
        connected: (twin) => events.connected?.(twin.reported),
        ...(this.options.desiredFromUpstream
          ? {
              desired: (desired: TwinProperties) => {
                this.hub.setUpstreamDesired(identity.id, desired);
                firstRead?.settle();
              },
            }
          : {}),
        method: (name, payload) => this.method(identity.id, name, payload),
        ...(identity.moduleId === undefined
          ? { c2d: (message: DownstreamMessage) => this.c2d(identity.deviceId, message) }
          : {}),
      },
      this.log,
    );
    const mirror = new ReportedMirror(channel, () => this.hub.reportedOf(identity.id), this.log);
    events.connected = (reported) => mirror.connected(reported as never);
    const managed: Managed = { channel, mirror };
    if (firstRead) {
      managed.firstRead = firstRead.promise;
      void firstRead.promise.then(() => delete managed.firstRead);
    }
    this.managed.set(identity.id, managed);
    this.link.manage(channel);
  }

  private disconnected(identity: ClientIdentity): void {
    const managed = this.managed.get(identity.id);
    if (!managed || managed.release) return;
    managed.release = setTimeout(() => {
      this.managed.delete(identity.id);
      this.link.release(managed.channel);
    }, this.options.lingerMs ?? LINGER_MS);
    managed.release.unref();
  }

  private async method(target: string, methodName: string, payload: Buffer): Promise<MethodAnswer> {
    try {
      return methodAnswer(
        await this.hub.invokeMethod(target, { methodName, payload: methodPayload(payload) }),
      );
    } catch (error) {
      if (error instanceof HubRequestError)
        return methodAnswer({ status: error.status, payload: { message: error.message } });
      throw error;
    }
  }

  private async c2d(deviceId: string, message: DownstreamMessage): Promise<void> {
    const { messageId, correlationId } = message.systemProperties;
    await this.hub.sendToDevice(deviceId, {
      body: message.body,
      properties: message.properties,
      ...(messageId === undefined ? {} : { messageId }),
      ...(correlationId === undefined ? {} : { correlationId }),
    });
  }

  close(): void {
    for (const managed of this.managed.values()) {
      clearTimeout(managed.release);
      this.link.release(managed.channel);
    }
    this.managed.clear();
  }
}
