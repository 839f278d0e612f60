import { GroupCommit } from '../../group-commit.js';
import { withoutMetadata } from '../twin/twin-document.js';
import { diffPatch, type TwinObject } from '../twin/twin-json.js';
import { TwinRequestError, type ManagedChannel } from './managed-channel.js';

/**
 * The reported patch that brings what upstream holds (`acknowledged`) to the local state
 * (`current`): changed values, and nulls for what is gone. Empty when upstream is up to date.
 */
export function reportedPatchToSend(acknowledged: TwinObject, current: TwinObject): TwinObject {
  return diffPatch(withoutMetadata(acknowledged), withoutMetadata(current));
}

/**
 * Keeps an identity's reported properties upstream equal to a local state: on every connection it
 * starts from the reported properties upstream holds (read with the twin), then sends only the
 * difference, whenever `sync` is called. Offline, nothing is sent and nothing is lost: the next
 * connection sends the difference as it is then, however many changes it merges, and a restarted
 * device sends what changed while it was down the same way.
 */
export class ReportedMirror {
  private acknowledged: TwinObject | undefined;
  /** One send at a time; calls during one share the send after it. */
  private readonly sends = new GroupCommit(() => this.sendOnce());
  /** A patch upstream refused (4xx): not sent again until the state changes. */
  private refused: string | undefined;

  constructor(
    private readonly channel: ManagedChannel,
    private readonly current: () => TwinObject | undefined,
    private readonly log: (line: string) => void,
  ) {}

  /** Upstream's reported properties, as the twin read on connecting holds them. */
  connected(reported: TwinObject): void {
    this.acknowledged = withoutMetadata(reported);
    void this.sync();
  }

  /** Sends what changed since upstream last acknowledged; one patch at a time. */
  sync(): Promise<void> {
    return this.sends.run();
  }

  private async sendOnce(): Promise<void> {
    const acknowledged = this.acknowledged;
    const state = this.current();
    if (acknowledged === undefined || state === undefined || !this.channel.online) return;
    const snapshot = withoutMetadata(state);
    const patch = reportedPatchToSend(acknowledged, snapshot);
    if (Object.keys(patch).length === 0) return;
    const text = JSON.stringify(patch);
    if (text === this.refused) return;
    try {
      await this.channel.patchReported(patch);
      if (this.acknowledged === acknowledged) this.acknowledged = snapshot;
      this.refused = undefined;
    } catch (error) {
      if (error instanceof TwinRequestError && error.status >= 400 && error.status < 500) this.refused = text;
      this.log(
        `hub: upstream: ${this.channel.id}: reported properties not sent: ${(error as Error).message}`,
      );
    }
  }
}
