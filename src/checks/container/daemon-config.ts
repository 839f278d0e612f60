import {
  dnsServers,
  ipv6Setting,
  ipv6Verdict,
  logPolicy,
  logsRotate,
  readDaemonJson,
  type DaemonJsonFile,
} from '../support/daemon-json.js';
import type { CheckDefinition, CheckResult } from '../types.js';
import { errorChain, failed, ignored, ok, warning } from '../types.js';

const DNS_MESSAGE =
  'Container engine is not configured with DNS server setting, which may impact connectivity to IoT Hub.\n' +
  'Please see https://aka.ms/iotedge-prod-checklist-dns for best practices.\n' +
  'You can ignore this warning if you are setting DNS server per module in the Edge deployment.';

const LOGS_MESSAGE =
  'Container engine is not configured to rotate module logs which may cause it run out of disk space.\n' +
  'Please see https://aka.ms/iotedge-prod-checklist-logs for best practices.\n' +
  'You can ignore this warning if you are setting log policy per module in the Edge deployment.';

const IPV6_MESSAGE =
  'Container engine is not configured for IPv6 communication.\n' +
  'Please see https://aka.ms/iotedge-docker-ipv6 for a guide on how to enable IPv6 support.';

const IPV6_WINDOWS_MESSAGE =
  'IPv6 container network configuration is not supported for the Windows operating system.';

const unreadableCauses = (path: string, file: DaemonJsonFile & { kind: 'unreadable' }) => [
  `Could not open container engine config file ${path}`,
  ...errorChain(file.error),
];

const invalidCauses = (path: string, error: unknown) => [
  `Could not parse container engine config file ${path}`,
  ...errorChain(error),
];

/** Reads daemon.json and applies `evaluate` to it; a missing file warns, unparsable content fails. */
async function withDaemonConfig(
  path: string,
  message: string,
  evaluate: (config: Record<string, unknown>) => CheckResult,
  info: (config?: Record<string, unknown>) => Record<string, unknown>,
): Promise<CheckResult> {
  const file = await readDaemonJson(path);
  if (file.kind === 'unreadable') return warning(message, unreadableCauses(path, file), info());
  if (file.kind === 'invalid') return failed(message, invalidCauses(path, file.error), info());
  try {
    return evaluate(file.config);
  } catch (error) {
    return failed(message, invalidCauses(path, error), info());
  }
}

export const containerEngineDnsCheck: CheckDefinition = {
  id: 'container-engine-dns',
  run: async (ctx) => {
    const path = ctx.inputs.containerEngineConfigFile;
    const info = (dns?: string[]) => ({ container_engine_config_path: path, dns: dns ?? null });
    return withDaemonConfig(
      path,
      DNS_MESSAGE,
      (config) => {
        const dns = dnsServers(config);
        return dns && dns.length > 0 ? ok(info(dns)) : warning(DNS_MESSAGE, [], info(dns));
      },
      () => info(),
    );
  },
};

export const containerEngineLogrotateCheck: CheckDefinition = {
  id: 'container-engine-logrotate',
  run: async (ctx) => {
    const path = ctx.inputs.containerEngineConfigFile;
    return withDaemonConfig(
      path,
      LOGS_MESSAGE,
      (config) => {
        const policy = logPolicy(config);
        const info = { daemon_config: policy };
        return logsRotate(policy) ? ok(info) : warning(LOGS_MESSAGE, [], info);
      },
      () => ({ daemon_config: null }),
    );
  },
};

export const containerEngineIpv6Check: CheckDefinition = {
  id: 'container-engine-ipv6',
  needs: ['settings'],
  run: async (ctx) => {
    const network = ctx.fact('settings').moby_runtime.network;
    const expected = typeof network === 'object' && network.ipv6 === true;
    const path = ctx.inputs.containerEngineConfigFile;
    const info = (actual?: boolean) => ({ expected_use_ipv6: expected, actual_use_ipv6: actual ?? null });
    const file = await readDaemonJson(path);
    if (file.kind === 'unreadable') {
      return expected ? failed(IPV6_MESSAGE, unreadableCauses(path, file), info()) : ignored(info());
    }
    let actual: boolean | undefined;
    try {
      if (file.kind === 'invalid') throw file.error;
      actual = ipv6Setting(file.config);
    } catch (error) {
      return failed(IPV6_MESSAGE, invalidCauses(path, error), info());
    }
    switch (ipv6Verdict(expected, actual, process.platform)) {
      case 'ok':
        return ok(info(actual));
      case 'unsupported':
        return failed(IPV6_WINDOWS_MESSAGE, [], info(actual));
      case 'failed':
        return failed(IPV6_MESSAGE, [], info(actual));
      case 'ignored':
        return ignored(info(actual));
    }
  },
};
