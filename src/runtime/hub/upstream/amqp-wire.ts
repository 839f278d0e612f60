/**
 * What the hub's upstream link puts on the AMQP wire for one identity it speaks for, as IoT Hub's
 * devices address it: link addresses `/devices/{d}[/modules/{m}]/…` (ids percent-encoded), the CBS
 * audience of the identity, and the put-token that authenticates it. The hub's own identity
 * (`{edge}/$edgeHub`) puts its own token; every other identity puts that same `$edgeHub` token with
 * an `auth-chain` (target first, this edge device last), as nested IoT Edge acts on behalf of the
 * identities in its scope, and names that chain again on each of its links' attach as
 * `com.microsoft:auth-chain`, where IoT Edge's hub (and IoT Hub) read it. Pure: no I/O.
 */
import { AUTH_CHAIN_PROPERTY, SAS_TOKEN_TYPE } from '../amqp-head/cbs.js';
import { authChainFor, type UpstreamIdentity } from './upstream-wire.js';

export type AmqpLinkKind = 'events' | 'twin' | 'methods' | 'devicebound';

const SUFFIXES: Record<AmqpLinkKind, string> = {
  events: 'messages/events',
  twin: 'twin',
  methods: 'methods/devicebound',
  devicebound: 'messages/devicebound',
};

/** `/devices/{d}[/modules/{m}]` with each id percent-encoded. */
function identityPath(identity: UpstreamIdentity): string {
  const device = `/devices/${encodeURIComponent(identity.deviceId)}`;
  return identity.moduleId === undefined
    ? device
    : `${device}/modules/${encodeURIComponent(identity.moduleId)}`;
}

/** The address of one of an identity's links. */
export const amqpLinkAddress = (identity: UpstreamIdentity, kind: AmqpLinkKind): string =>
  `${identityPath(identity)}/${SUFFIXES[kind]}`;

/** The CBS audience (put-token `name`) of an identity: `{hub}/devices/{d}[/modules/{m}]`. */
export const cbsAudience = (iothubHostname: string, identity: UpstreamIdentity): string =>
  `${iothubHostname}${identityPath(identity)}`;

/** The application properties of the put-token for `identity`, acted for by `edgeDeviceId`. */
export function putTokenProperties(
  iothubHostname: string,
  identity: UpstreamIdentity,
  edgeDeviceId: string,
): Record<string, string> {
  const chain = authChainFor(identity, edgeDeviceId);
  return {
    operation: 'put-token',
    type: SAS_TOKEN_TYPE,
    name: cbsAudience(iothubHostname, identity),
    ...(chain === undefined ? {} : { [AUTH_CHAIN_PROPERTY]: chain }),
  };
}

/** The link attach property that names the auth-chain, as the C# SDK sets it for IoT Edge's hub. */
export const LINK_AUTH_CHAIN_PROPERTY = 'com.microsoft:auth-chain';

/** The attach properties naming the auth-chain of a link for `identity`; none for the hub itself. */
export function linkAuthChainProperties(
  identity: UpstreamIdentity,
  edgeDeviceId: string,
): Record<string, string> {
  const chain = authChainFor(identity, edgeDeviceId);
  return chain === undefined ? {} : { [LINK_AUTH_CHAIN_PROPERTY]: chain };
}
