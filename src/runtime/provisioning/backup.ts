import { readBoundedText } from '../files/bounded-read.js';
import { FILE_LIMITS } from '../files/file-limits.js';
import { writeJsonAtomically } from '../json-file.js';
import path from 'node:path';

/**
 * `<homedir>/cache/provisioning_backup.json`: the last assignment DPS gave, so that a device that
 * starts offline runs with it (as IoT Edge 1.1 keeps it). It holds no key: the credentials come
 * from config.yaml each time.
 */
export interface ProvisioningBackup {
  /** The IoT Hub (or parent edge device's hub) DPS assigned. */
  hubName: string;
  deviceId: string;
  registrationId?: string;
}

export const backupFile = (homedir: string): string =>
  path.join(homedir, 'cache', 'provisioning_backup.json');

/**
 * The backup's `hub_name` and `device_id`. The file may be edited by hand, so problems name the file
 * but never quote its content.
 */
export async function readProvisioningBackup(
  file: string,
  signal?: AbortSignal,
): Promise<ProvisioningBackup> {
  const text = await readBoundedText(file, { maxBytes: FILE_LIMITS.settings, ...(signal ? { signal } : {}) });
  let backup: unknown;
  try {
    backup = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not valid JSON`);
  }
  const fields = (backup ?? {}) as Record<string, unknown>;
  const { hub_name: hubName, device_id: deviceId, registration_id: registrationId } = fields;
  if (typeof hubName !== 'string' || hubName === '') throw new Error(`${file} has no hub_name`);
  return {
    hubName,
    deviceId: typeof deviceId === 'string' ? deviceId : '',
    ...(typeof registrationId === 'string' ? { registrationId } : {}),
  };
}

/** Written atomically, mode 0600, with 1.1's field names. */
export function writeProvisioningBackup(file: string, backup: ProvisioningBackup): Promise<void> {
  return writeJsonAtomically(file, {
    hub_name: backup.hubName,
    device_id: backup.deviceId,
    ...(backup.registrationId === undefined ? {} : { registration_id: backup.registrationId }),
  });
}
