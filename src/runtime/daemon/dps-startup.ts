import type { DpsProvisioning, Settings } from '../config/settings.js';
import { readTrustedCaCerts } from '../identity/certificates/configured-ca.js';
import { dpsCredentials } from '../provisioning/dps-credentials.js';
import { DPS_BACKOFF, DpsProvisioner, type Provisioned } from '../provisioning/provisioner.js';
import type { DaemonLogReader } from './daemon-log.js';
import { startManagementServer } from './management-server.js';
import { provisioningBackend } from './provisioning-backend.js';
import type { Reprovisioning } from './reprovision.js';

/** The longest wait between two registrations (seconds), for tests; a minute unless set. */
const BACKOFF_MAX_ENV = 'IOTEDGE_DPS_BACKOFF_MAX_SECS';

export type DpsStartup =
  | { kind: 'provisioned'; provisioner: DpsProvisioner; result: Provisioned }
  | { kind: 'stopped' }
  | { kind: 'refused'; message: string };

export interface DpsStartupOptions {
  settings: Settings;
  provisioning: DpsProvisioning;
  /** Where the management API answers while the device waits for DPS. */
  socketPath: string;
  version: string;
  daemonLog: DaemonLogReader;
  log(line: string): void;
}

function backoff() {
  const max = Number(process.env[BACKOFF_MAX_ENV]);
  return Number.isFinite(max) && max > 0
    ? { initialMs: Math.min(DPS_BACKOFF.initialMs, max * 1000), maxMs: max * 1000 }
    : DPS_BACKOFF;
}

/**
 * The device's identity from DPS at start. What can never work (TPM attestation, unreadable
 * credentials or trusted CAs) is refused at once. Without an assignment (none cached, DPS not
 * answering), the management API answers meanwhile (`iotedge system status` shows the provisioning
 * state; `iotedge system reprovision` tries at once) while registrations go on with backoff, until
 * one succeeds or SIGTERM/SIGINT stops the daemon.
 */
export async function provisionAtStart(options: DpsStartupOptions): Promise<DpsStartup> {
  const { settings, provisioning, log } = options;
  let trustedCaPem: string | undefined;
  try {
    await dpsCredentials(provisioning.attestation);
    const trusted = settings.certificates?.trusted_ca_certs;
    trustedCaPem = trusted ? await readTrustedCaCerts(trusted) : undefined;
  } catch (error) {
    return { kind: 'refused', message: (error as Error).message };
  }
  const provisioner = new DpsProvisioner({
    provisioning,
    homedir: settings.homedir,
    ...(trustedCaPem === undefined ? {} : { trustedCaPem }),
    log,
    backoff: backoff(),
  });
  const first = await provisioner.startup();
  if (first) return { kind: 'provisioned', provisioner, result: first };

  const stop = new AbortController();
  let requested: Provisioned | undefined;
  const reprovisioning: Reprovisioning = {
    get state() {
      return provisioner.state;
    },
    reprovision: async () => {
      const result = await provisioner.reprovision();
      requested = result;
      // after this request's answer is written
      setImmediate(() => stop.abort());
      return {
        deviceId: result.identity.deviceId,
        iothubHostname: result.identity.iothubHostname,
        changed: false,
      };
    },
  };
  let server: Awaited<ReturnType<typeof startManagementServer>>;
  try {
    server = await startManagementServer(
      options.socketPath,
      provisioningBackend({
        settings,
        version: options.version,
        provisioning: reprovisioning,
        daemonLog: options.daemonLog,
      }),
      log,
    );
  } catch (error) {
    return { kind: 'refused', message: (error as Error).message };
  }
  log(`iotedged ${options.version}: management API on unix://${options.socketPath} while waiting for DPS`);
  const onSignal = (signal: string) => {
    log(`iotedged: ${signal} received while waiting for DPS`);
    stop.abort();
  };
  const onTerm = () => onSignal('SIGTERM');
  const onInt = () => onSignal('SIGINT');
  process.on('SIGTERM', onTerm);
  process.on('SIGINT', onInt);
  let result: Provisioned | undefined;
  try {
    result = await provisioner.untilProvisioned(stop.signal);
  } catch {
    result = requested;
  } finally {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    const closing = setTimeout(() => server.closeAllConnections(), 2000);
    await new Promise<void>((resolve) => server.close(() => resolve()));
    clearTimeout(closing);
  }
  return result ? { kind: 'provisioned', provisioner, result } : { kind: 'stopped' };
}
