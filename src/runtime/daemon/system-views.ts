import { readFile } from 'node:fs/promises';
import os from 'node:os';

import type { Settings } from '../config/settings.js';
import { provisioningType } from '../identity/device-identity.js';
import type { ProvisioningState } from '../provisioning/provisioner.js';

/**
 * GET /systeminfo's body (as IoT Edge 1.1 has it), with where provisioning stands when the device
 * provisions through DPS (`provisioning.state`).
 */
export async function systemInfoView(
  settings: Settings,
  version: string,
  provisioning?: ProvisioningState,
): Promise<Record<string, unknown>> {
  const osRelease = await readFile('/etc/os-release', 'utf8').catch(() => '');
  const prettyName = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(osRelease)?.[1] ?? os.type();
  return {
    osType: 'linux',
    architecture: process.arch,
    version,
    provisioning: {
      type: provisioningType(settings),
      dynamicReprovisioning: settings.provisioning.dynamic_reprovisioning,
      alwaysReprovisionOnStartup:
        settings.provisioning.source === 'dps' ? settings.provisioning.always_reprovision_on_startup : false,
      ...(provisioning === undefined ? {} : { state: provisioning }),
    },
    server_version: version,
    kernel_version: os.release(),
    operating_system: prettyName,
    cpus: os.cpus().length,
    virtualized: 'unknown',
  };
}

/** GET /systeminfo/resources's body. */
export async function systemResourcesView(): Promise<Record<string, unknown>> {
  const { collectAdditionalInfo } = await import('../system-info.js');
  const info = (await collectAdditionalInfo({})) as { system_info: Record<string, unknown> };
  const usage = process.cpuUsage();
  return {
    host_uptime: Math.round(os.uptime()),
    process_uptime: Math.round(process.uptime()),
    used_cpu: (usage.user + usage.system) / 1e6 / Math.max(process.uptime(), 1),
    used_ram: os.totalmem() - os.freemem(),
    total_ram: os.totalmem(),
    disks: info.system_info.disks,
    docker_stats: '',
  };
}
