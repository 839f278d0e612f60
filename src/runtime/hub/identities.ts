import { X509Certificate } from 'node:crypto';

import { matchesThumbprint } from '../identity/certificates/client-auth.js';
import { validityOf } from '../identity/certificates/pem.js';
import { deriveModuleKey, edgeHubModuleKey } from '../identity/module-keys.js';
import {
  parseSasToken,
  SasTokenError,
  verifySasToken,
  type SasToken,
  type SasVerifyOptions,
} from '../identity/sas.js';
import { admissionLost, EDGE_HUB_MODULE_ID, parseAuthChain, scopeProblem } from './auth-chain.js';
import type { ClientIdentity } from './connections.js';
import { scopeDevices, type LeafDeviceLookup } from './leaf-devices.js';

export interface IdentityOptions {
  deviceId: string;
  iothubHostname: string;
  /** This device's hostname (config.yaml `hostname`): SAS audiences may name it instead of the hub. */
  edgeHostname: string;
  /** The device's symmetric key (base64) when provisioned with one. */
  deviceKey?: string;
  /** The generation id the agent gave a deployed module; undefined for any other name. */
  generationId(module: string): Promise<string | undefined>;
  /** The leaf devices registered with this gateway; looked up at each authentication. */
  leafDevices?: LeafDeviceLookup;
  /** A child's identities learnt from its parent (its device scope); the local registrations win. */
  scopeIdentities?: ScopeIdentityLookup;
  now(): Date;
}

/** Identities from upstream: looked up like local ones; an unknown client asks for them again first. */
export interface ScopeIdentityLookup extends LeafDeviceLookup {
  /** Resolves once the identities are fresh (or a refresh was not due, or failed). */
  refreshForUnknown(deviceId: string): Promise<void>;
}

/**
 * `expiresAt`: when the SAS token presented stops being valid (the connection it opened ends then);
 * a certificate's validity is checked when the client connects, and sets none.
 */
export type Authentication =
  | { ok: true; identity: ClientIdentity; expiresAt?: Date }
  /** `full`: the credentials are good but the hub has as many clients as MaxConnectedClients allows. */
  | { ok: false; reason: string; full?: true };

/** Verifies a SAS token and says when it expires; the reason is safe to log (no signature, no key). */
function verifyToken(
  text: string,
  options: SasVerifyOptions,
): { ok: true; expiresAt: Date } | { ok: false; reason: string } {
  let token: SasToken;
  try {
    token = parseSasToken(text);
  } catch (error) {
    if (error instanceof SasTokenError) return { ok: false, reason: error.message };
    throw error;
  }
  const verification = verifySasToken(token, options);
  return verification.ok ? { ok: true, expiresAt: new Date(token.expiry * 1000) } : verification;
}

/**
 * The identities the hub knows in its device scope: the edge device and its modules (keys derived
 * from the device key and each module's generation id, as the workload API signs), and the leaf
 * devices registered with the gateway (their own keys or X.509 thumbprints; they have no modules).
 * A module may also present a token signed with the device key, as IoT Edge accepts.
 */
export class IdentityRegistry {
  /** Local registrations first, then the identities from upstream. */
  private readonly devices: LeafDeviceLookup;

  constructor(private readonly options: IdentityOptions) {
    const { leafDevices, scopeIdentities } = options;
    this.devices = { get: (deviceId) => leafDevices?.get(deviceId) ?? scopeIdentities?.get(deviceId) };
  }

  get deviceId(): string {
    return this.options.deviceId;
  }

  get iothubHostname(): string {
    return this.options.iothubHostname;
  }

  async authenticateSas(
    deviceId: string,
    moduleId: string | undefined,
    token: string,
  ): Promise<Authentication> {
    const id = moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`;
    if (deviceId !== this.options.deviceId) {
      await this.knowOrAskUpstream(deviceId);
      return this.authenticateLeafSas(deviceId, moduleId, token);
    }
    const deviceKey = this.options.deviceKey;
    if (!deviceKey) return { ok: false, reason: `unknown identity ${id}` };
    const keys: string[] = [];
    if (moduleId !== undefined) {
      const generationId = await this.options.generationId(moduleId);
      if (generationId === undefined) return { ok: false, reason: `unknown module identity ${id}` };
      keys.push(
        deriveModuleKey(deviceKey, moduleId, 'primary', generationId),
        deriveModuleKey(deviceKey, moduleId, 'secondary', generationId),
      );
    }
    keys.push(deviceKey);
    const verification = verifyToken(token, {
      identity: { deviceId, moduleId },
      keys,
      hostnames: [this.options.iothubHostname, this.options.edgeHostname],
      now: this.options.now(),
    });
    if (!verification.ok) return { ok: false, reason: `${id}: ${verification.reason}` };
    return { ok: true, identity: { id, deviceId, moduleId }, expiresAt: verification.expiresAt };
  }

  /**
   * A client certificate (the TLS peer's DER bytes) for a leaf device registered with X.509
   * thumbprints: its SHA-256 or SHA-1 thumbprint must be the primary or secondary one, and it must
   * be valid now.
   */
  async authenticateCertificate(
    deviceId: string,
    moduleId: string | undefined,
    peerCertificate: Buffer,
  ): Promise<Authentication> {
    const id = moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`;
    if (deviceId !== this.options.deviceId) await this.knowOrAskUpstream(deviceId);
    const device = this.devices.get(deviceId);
    if (!device || deviceId === this.options.deviceId)
      return { ok: false, reason: `no X.509 identity ${id}` };
    if (moduleId !== undefined) return { ok: false, reason: `${id}: leaf device ${deviceId} has no modules` };
    const auth = device.authentication;
    if (auth.type !== 'x509')
      return { ok: false, reason: `${id}: this device authenticates with SAS tokens` };
    let certificate: X509Certificate;
    try {
      certificate = new X509Certificate(peerCertificate);
    } catch {
      return { ok: false, reason: `${id}: the client certificate cannot be read` };
    }
    if (!matchesThumbprint(certificate, [auth.primaryThumbprint, auth.secondaryThumbprint]))
      return { ok: false, reason: `${id}: the client certificate's thumbprint is not the device's` };
    const { notBefore, notAfter } = validityOf(certificate);
    const now = this.options.now();
    if (now < notBefore || now > notAfter)
      return { ok: false, reason: `${id}: the client certificate is not valid at ${now.toISOString()}` };
    return { ok: true, identity: { id, deviceId } };
  }

  /**
   * A connection "on behalf of" `deviceId`/`moduleId` (nested edge): the `auth-chain` names that
   * target first and the acting child edge device last; the token must be that child's `$edgeHub`
   * token, and the target must lie in the child's scope (the child itself, its modules, the devices
   * registered here below it). The connection is then the target's. On a child, an actor or target
   * it does not know yet (an edge device registered above since the last refresh, two layers below
   * the top) is asked of its parent first.
   */
  async onBehalfOf(
    deviceId: string,
    moduleId: string | undefined,
    authChain: string,
    token: string,
  ): Promise<Authentication> {
    const id = moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`;
    const parsed = parseAuthChain(authChain, id);
    if (!parsed.ok) return { ok: false, reason: `${id}: ${parsed.reason}` };
    const { claim } = parsed;
    if (deviceId === this.options.deviceId)
      return { ok: false, reason: `${id}: this device's own identities cannot be acted for` };
    await this.knowOrAskUpstream(claim.actorDeviceId);
    await this.knowOrAskUpstream(deviceId);
    const actor = this.authenticateLeafSas(claim.actorDeviceId, EDGE_HUB_MODULE_ID, token);
    if (!actor.ok) return actor;
    const outOfScope = scopeProblem(claim, scopeDevices(this.devices));
    if (outOfScope !== undefined) return { ok: false, reason: `${id}: ${outOfScope}` };
    const chain = claim.chain;
    return {
      ok: true,
      identity:
        moduleId === undefined
          ? { id, deviceId, authChain: chain }
          : { id, deviceId, moduleId, authChain: chain },
      ...(actor.expiresAt ? { expiresAt: actor.expiresAt } : {}),
    };
  }

  /**
   * Why a connection of `identity` admitted earlier would be refused now (a device it depends on
   * was removed), or undefined while it would still be admitted.
   */
  admissionLost(identity: ClientIdentity): string | undefined {
    return admissionLost(identity, this.options.deviceId, {
      ...scopeDevices(this.devices),
      isRegistered: (deviceId) => this.devices.get(deviceId) !== undefined,
    });
  }

  /**
   * A child edge device's hub, by the token of its `$edgeHub` module identity (as it asks this
   * parent for its device scope): it must be an edge device registered here, or (on a child) one its
   * own parent has below it, asked for when not known yet.
   */
  async authenticateEdgeHub(edgeDeviceId: string, token: string): Promise<Authentication> {
    if (edgeDeviceId === this.options.deviceId)
      return {
        ok: false,
        reason: `${edgeDeviceId}/${EDGE_HUB_MODULE_ID}: this device's own hub asks no one here`,
      };
    await this.knowOrAskUpstream(edgeDeviceId);
    return this.authenticateLeafSas(edgeDeviceId, EDGE_HUB_MODULE_ID, token);
  }

  /** A client no registration knows: the identities from upstream are asked for again first. */
  private async knowOrAskUpstream(deviceId: string): Promise<void> {
    const { scopeIdentities } = this.options;
    if (scopeIdentities && this.devices.get(deviceId) === undefined)
      await scopeIdentities.refreshForUnknown(deviceId);
  }

  private authenticateLeafSas(deviceId: string, moduleId: string | undefined, token: string): Authentication {
    const id = moduleId === undefined ? deviceId : `${deviceId}/${moduleId}`;
    const device = this.devices.get(deviceId);
    if (!device) return { ok: false, reason: `unknown identity ${id}` };
    const edgeHub = device.edge === true && moduleId === EDGE_HUB_MODULE_ID;
    if (moduleId !== undefined && !edgeHub) {
      return {
        ok: false,
        reason: device.edge
          ? `${id}: modules of edge device ${deviceId} connect through its own hub (auth-chain)`
          : `${id}: leaf device ${deviceId} has no modules`,
      };
    }
    const auth = device.authentication;
    if (auth.type !== 'sas') return { ok: false, reason: `${id}: this device authenticates with X.509` };
    const verification = verifyToken(token, {
      identity: moduleId === undefined ? { deviceId } : { deviceId, moduleId },
      keys: edgeHub
        ? [
            edgeHubModuleKey(auth.primaryKey),
            edgeHubModuleKey(auth.primaryKey, 'secondary'),
            edgeHubModuleKey(auth.secondaryKey),
            edgeHubModuleKey(auth.secondaryKey, 'secondary'),
          ]
        : [auth.primaryKey, auth.secondaryKey],
      hostnames: [this.options.iothubHostname, this.options.edgeHostname],
      now: this.options.now(),
    });
    if (!verification.ok) return { ok: false, reason: `${id}: ${verification.reason}` };
    const identity: ClientIdentity = moduleId === undefined ? { id, deviceId } : { id, deviceId, moduleId };
    return { ok: true, identity, expiresAt: verification.expiresAt };
  }
}
