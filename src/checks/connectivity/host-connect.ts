import { filePathFromSetting } from '../../runtime/config/file-uri.js';
import type { Settings } from '../../runtime/config/settings.js';
import { redactProxyUrl } from '../support/proxy-connect.js';
import { probeTls, TlsProbeError } from '../support/tls-probe.js';
import { readCaFiles } from '../support/trust-store.js';
import {
  errorChain,
  failed,
  ignored,
  ok,
  type CheckContext,
  type CheckDefinition,
  type CheckResult,
  type HubPorts,
} from '../types.js';

/** Budget of one probe (resolve, connect, proxy tunnel, handshake); the real tool's TCP connect timeout. */
const PROBE_TIMEOUT_MS = 10_000;
const DEFAULT_DPS_PORT = 443;

/** `--proxy-uri` wins over the daemon's `agent.env.https_proxy`. */
function proxyFor(ctx: CheckContext): string | undefined {
  const candidates = [ctx.inputs.proxyUri, ctx.fact('settings').agent.env.https_proxy];
  return candidates.find((value): value is string => value !== undefined && value !== '');
}

/** The proxy as shown in additional_info: never with its credentials. */
function displayedProxy(proxy: string | undefined): string | null {
  return proxy === undefined ? null : redactProxyUrl(proxy);
}

/** Modules trust `certificates.trusted_ca_certs` on top of the OS store, so the probe does too. */
async function trustedCaCerts(settings: Settings): Promise<string[]> {
  const setting = settings.certificates?.trusted_ca_certs;
  if (setting === undefined || setting === '') return [];
  return readCaFiles([filePathFromSetting(setting, 'certificates.trusted_ca_certs')]);
}

/**
 * IoT Edge 1.1's first detail line for a probe that failed, with the underlying error as cause:
 * `Could not connect to D : could not resolve hostname` (the target's name: through a proxy only
 * the proxy's is resolved here), `Could not connect to D : could not complete TLS handshake`, or
 * `Could not connect to D` followed by what went wrong (refused, timed out, the proxy's answer).
 */
export function probeFailure(
  display: string,
  error: unknown,
  viaProxy: boolean,
): { message: string; causes: string[] } {
  const reason = error instanceof TlsProbeError ? error.reason : undefined;
  const step =
    reason === 'dns' && !viaProxy
      ? 'could not resolve hostname'
      : reason === 'tls' || reason === 'certificate'
        ? 'could not complete TLS handshake'
        : undefined;
  if (step === undefined) return { message: `Could not connect to ${display}`, causes: errorChain(error) };
  const underlying = (error as Error).cause ?? error;
  return { message: `Could not connect to ${display} : ${step}`, causes: errorChain(underlying) };
}

/** `display` names the target in messages: `host:port`, or for DPS the host alone (as 1.1). */
async function connectAndHandshake(
  ctx: CheckContext,
  target: { host: string; port: number; proxy?: string; display: string },
  additionalInfo: Record<string, unknown>,
): Promise<CheckResult> {
  let ca: string[];
  try {
    ca = await trustedCaCerts(ctx.fact('settings'));
  } catch (error) {
    return failed(
      'Could not load the CA certificates of certificates.trusted_ca_certs',
      errorChain(error),
      additionalInfo,
    );
  }
  const { display, ...endpoint } = target;
  try {
    await probeTls({ ...endpoint, ca, timeoutMs: PROBE_TIMEOUT_MS, signal: ctx.signal });
  } catch (error) {
    const { message, causes } = probeFailure(display, error, endpoint.proxy !== undefined);
    return failed(message, causes, additionalInfo);
  }
  return ok(additionalInfo);
}

export const hostConnectDpsEndpoint: CheckDefinition = {
  id: 'host-connect-dps-endpoint',
  needs: ['settings'],
  run: async (ctx) => {
    const provisioning = ctx.fact('settings').provisioning;
    if (provisioning.source !== 'dps') return ignored();
    const proxy = proxyFor(ctx);
    const info: Record<string, unknown> = {
      dps_endpoint: provisioning.global_endpoint,
      dps_hostname: null,
      proxy: displayedProxy(proxy),
    };
    let url: URL;
    try {
      url = new URL(provisioning.global_endpoint);
    } catch (error) {
      return failed('URL specified in provisioning.global_endpoint is invalid', errorChain(error), info);
    }
    info.dps_endpoint = url.href;
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    if (host === '')
      return failed('URL specified in provisioning.global_endpoint does not have a host', [], info);
    info.dps_hostname = host;
    const port = url.port === '' ? DEFAULT_DPS_PORT : Number(url.port);
    return connectAndHandshake(ctx, { host, port, proxy, display: host }, info);
  },
};

/** One check per IoT Hub protocol port; like 1.4, only the HTTPS / WebSockets port goes through the proxy. */
function hostConnectIothub(protocol: keyof HubPorts): CheckDefinition {
  return {
    id: `host-connect-iothub-${protocol}`,
    needs: ['settings', 'iothubHostname'],
    run: async (ctx) => {
      const host = ctx.fact('iothubHostname');
      const port = ctx.inputs.hubPorts[protocol];
      const proxy = protocol === 'https' ? proxyFor(ctx) : undefined;
      const info = { iothub_hostname: host, port_number: port, proxy: displayedProxy(proxy) };
      return connectAndHandshake(ctx, { host, port, proxy, display: `${host}:${port}` }, info);
    },
  };
}

export const hostConnectIothubAmqp = hostConnectIothub('amqp');
export const hostConnectIothubHttps = hostConnectIothub('https');
export const hostConnectIothubMqtt = hostConnectIothub('mqtt');
