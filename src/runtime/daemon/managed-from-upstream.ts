import type { Agent } from '../agent/agent.js';
import { UpstreamDeployments } from '../agent/upstream-deployments.js';
import { EDGE_HUB_MODULE_ID } from '../hub/auth-chain.js';
import type { TwinObject } from '../hub/twin/twin-json.js';
import type { InProcessMethodHandler } from '../hub/methods.js';
import { ManagedChannel, methodAnswer, methodPayload } from '../hub/upstream/managed-channel.js';
import { ReportedMirror } from '../hub/upstream/reported-mirror.js';
import type { HubService } from './hub-service.js';

/** How often the agent's and the hub's reported properties are compared with what upstream holds. */
const REPORT_INTERVAL_MS = 1_000;

export interface ManagedFromUpstreamOptions {
  hub: HubService;
  agent: Agent;
  deviceId: string;
  /** config.yaml `agent.env.ConfigSource` is `local`: the deployment does not come from upstream. */
  localConfigSource: boolean;
  /** Answers the direct methods upstream invokes on `$edgeAgent` (those served locally too). */
  agentMethods: InProcessMethodHandler;
  log(line: string): void;
}

/**
 * A child edge device managed from above: its `$edgeAgent` and `$edgeHub` identities stay connected
 * to the parent; their desired properties are the device's deployment (unless the ConfigSource is
 * local), and their reported properties (what `iotedge deploy --status` and `--status --hub` print)
 * are kept equal upstream, sending only what changed. Direct methods upstream invokes on
 * `$edgeAgent` are answered by the agent's method handler.
 */
export function manageFromUpstream(options: ManagedFromUpstreamOptions): { close(): void } {
  const { hub, agent, log } = options;
  const deployments = options.localConfigSource
    ? undefined
    : new UpstreamDeployments(agent, log, () => sync());
  const twin = (
    moduleId: string,
    current: () => TwinObject | undefined,
    desired: (properties: Record<string, unknown>) => void,
    methods?: InProcessMethodHandler,
  ) => {
    const events: { connected?: (reported: TwinObject) => void } = {};
    const channel = new ManagedChannel(
      { deviceId: options.deviceId, moduleId },
      {
        connected: (twinDocument) => events.connected?.(twinDocument.reported),
        desired,
        ...(methods
          ? {
              method: async (name: string, payload: Buffer) =>
                methodAnswer(await methods(name, methodPayload(payload))),
            }
          : {}),
      },
      log,
    );
    const mirror = new ReportedMirror(channel, current, log);
    events.connected = (reported) => mirror.connected(reported);
    return { channel, mirror };
  };
  const agentTwin = twin(
    '$edgeAgent',
    () => agent.reported() as TwinObject,
    (desired) => deployments?.edgeAgentDesired(desired),
    options.agentMethods,
  );
  const hubTwin = twin(
    EDGE_HUB_MODULE_ID,
    () => hub.edgeHub.reported() as TwinObject,
    (desired) => deployments?.edgeHubDesired(desired),
  );
  const sync = () => {
    void agentTwin.mirror.sync();
    void hubTwin.mirror.sync();
  };
  hub.manageUpstream(hubTwin.channel);
  hub.manageUpstream(agentTwin.channel);
  const timer = setInterval(sync, REPORT_INTERVAL_MS);
  timer.unref();
  return {
    close() {
      clearInterval(timer);
      deployments?.close();
      hub.releaseUpstream(agentTwin.channel);
      hub.releaseUpstream(hubTwin.channel);
    },
  };
}
