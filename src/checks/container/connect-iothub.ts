import { networkName } from '../../runtime/config/settings.js';
import { redactProxyUrl } from '../support/proxy-connect.js';
import { runDiagnostics, type DiagnosticsRunResult } from '../support/run-diagnostics.js';
import type { CheckDefinition, HubPorts } from '../types.js';
import { errorChain, failed, ignored, ok } from '../types.js';
import { containerFailure, defaultNetwork, trustedCaMount } from './common.js';

type Protocol = keyof HubPorts;

/**
 * A container (on the engine's default network, or on the network IoT Edge modules join) performs a TLS
 * handshake with the hub. The default-network variants are Unix-only, as in the real tool.
 */
function makeCheck(protocol: Protocol, onModuleNetwork: boolean): CheckDefinition {
  const applicable = onModuleNetwork || process.platform !== 'win32';
  return {
    id: `container-${onModuleNetwork ? 'module' : 'default'}-connect-iothub-${protocol}`,
    needs: applicable ? ['settings', 'iothubHostname', 'docker', 'diagnosticsImage'] : [],
    run: async (ctx) => {
      if (!applicable) return ignored();
      const settings = ctx.fact('settings');
      const hostname = ctx.fact('iothubHostname');
      const image = ctx.fact('diagnosticsImage');
      const port = ctx.inputs.hubPorts[protocol];
      const network = onModuleNetwork ? networkName(settings) : defaultNetwork(ctx.inputs.env);
      // As in IoT Edge 1.4, only the HTTPS / WebSockets port goes through the proxy: modules use a proxy
      // only with the WebSocket transports, which run on 443.
      const proxy =
        protocol === 'https' ? (settings.agent.env?.https_proxy ?? ctx.inputs.proxyUri) : undefined;
      const info = {
        port_number: port,
        iothub_hostname: hostname,
        network_name: network ?? null,
        diagnostics_image_name: image,
        proxy: proxy === undefined ? null : redactProxyUrl(proxy),
      };

      const trust = await trustedCaMount(settings);
      const args = ['iothub', '--hostname', hostname, '--port', String(port), ...trust.args];
      if (proxy !== undefined) args.push('--proxy', proxy);
      const message = `Container on the ${onModuleNetwork ? networkName(settings) : 'default'} network could not connect to ${hostname}:${port}`;
      let result: DiagnosticsRunResult;
      try {
        result = await runDiagnostics(ctx.fact('docker'), image, args, {
          network,
          binds: trust.binds,
          signal: ctx.signal,
        });
      } catch (error) {
        return failed(message, errorChain(error), info);
      }
      if (result.exitCode === 0) return ok(info);
      const { reason, causes } = containerFailure(result);
      return failed(message, [reason, ...causes], info);
    },
  };
}

export const containerDefaultConnectIothubAmqpCheck = makeCheck('amqp', false);
export const containerDefaultConnectIothubHttpsCheck = makeCheck('https', false);
export const containerDefaultConnectIothubMqttCheck = makeCheck('mqtt', false);
export const containerModuleConnectIothubAmqpCheck = makeCheck('amqp', true);
export const containerModuleConnectIothubHttpsCheck = makeCheck('https', true);
export const containerModuleConnectIothubMqttCheck = makeCheck('mqtt', true);
