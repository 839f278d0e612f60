import { backupFile, readProvisioningBackup } from '../../runtime/provisioning/backup.js';
import { parseConnectionString } from '../../runtime/config/connection-string.js';
import type { ManualProvisioning } from '../../runtime/config/settings.js';
import {
  errorChain,
  failed,
  ok,
  type CheckContext,
  type CheckDefinition,
  type CheckResult,
} from '../types.js';

interface HubIdentity {
  iothub_hostname: string | null;
  device_id: string | null;
}

const NO_BACKUP_MESSAGE =
  'Could not retrieve iothub_hostname from provisioning file.\n' +
  'Please specify the backing IoT Hub name using --iothub-hostname switch if you have that information.\n' +
  'If no hostname is provided, all hub connectivity tests will be skipped.';

export const connectionStringCheck: CheckDefinition = {
  id: 'connection-string',
  needs: ['settings'],
  provides: ['iothubHostname'],
  run: async (ctx) => {
    const settings = ctx.fact('settings');
    const given = ctx.inputs.iothubHostname;
    const provisioning = settings.provisioning;
    if (provisioning.source === 'manual') return checkManual(ctx, provisioning);
    // dps and external: the hub is only known after provisioning, from the daemon's backup, which
    // --iothub-hostname replaces (the runner falls back to it when this check provides no hub).
    if (given !== undefined) return ok({ iothub_hostname: given, device_id: null });
    try {
      const identity = await readProvisioningBackup(backupFile(settings.homedir), ctx.signal);
      ctx.provide('iothubHostname', identity.hubName);
      return ok({ iothub_hostname: identity.hubName, device_id: identity.deviceId || null });
    } catch (error) {
      return failed(
        NO_BACKUP_MESSAGE,
        ['Could not restore previous provisioning result', ...errorChain(error)],
        {
          iothub_hostname: null,
          device_id: null,
        },
      );
    }
  },
};

function checkManual(ctx: CheckContext, provisioning: ManualProvisioning): CheckResult {
  const auth = provisioning.authentication;
  let identity: HubIdentity;
  if (auth?.method === 'x509') {
    identity = { iothub_hostname: auth.iothub_hostname, device_id: auth.device_id };
  } else {
    const [cs, setting] =
      auth === undefined
        ? [provisioning.device_connection_string ?? '', 'provisioning.device_connection_string']
        : [auth.device_connection_string, 'provisioning.authentication.device_connection_string'];
    try {
      const parsed = parseConnectionString(cs);
      identity = { iothub_hostname: parsed.hostName, device_id: parsed.deviceId };
    } catch (error) {
      return failed(
        `Invalid connection string format detected.\nPlease check the value of the ${setting} parameter.`,
        errorChain(error),
        { iothub_hostname: null, device_id: null },
      );
    }
  }
  // The configured hub wins over --iothub-hostname, as in IoT Edge 1.1; the flag only stands in
  // when the configuration cannot name one.
  if (identity.iothub_hostname !== null) ctx.provide('iothubHostname', identity.iothub_hostname);
  return ok({ ...identity });
}
