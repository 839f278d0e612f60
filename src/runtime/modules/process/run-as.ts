import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';

import {
  findPasswdEntry,
  parseUserSpec,
  runAsFor,
  type PasswdEntry,
  type RunAs,
  type UserSpec,
} from './user-spec.js';

export type { RunAs } from './user-spec.js';

/**
 * The user database entry for `spec`: through `getent passwd` (which also asks NSS: LDAP,
 * systemd-userdb, ...), or /etc/passwd where there is no getent.
 */
function lookUp(spec: UserSpec): Promise<PasswdEntry | undefined> {
  const key = 'name' in spec ? spec.name : String(spec.uid);
  return new Promise((resolve, reject) => {
    execFile('getent', ['passwd', key], { timeout: 10_000 }, (error, stdout) => {
      if (!error) return resolve(findPasswdEntry(stdout, spec));
      // exit 2: no such entry
      if (error.code === 2) return resolve(undefined);
      if (error.code !== 'ENOENT')
        return reject(new Error(`the user database could not be read: ${error.message}`));
      readFile('/etc/passwd', 'utf8').then((text) => resolve(findPasswdEntry(text, spec)), reject);
    });
  });
}

/**
 * Whom a process module's `settings.user` means now, for running its program. Throws an Error
 * whose message reads after `settings.user: ` (no such user; a user other than iotedged's own when
 * iotedged is not root).
 */
export async function resolveRunAs(setting: string): Promise<RunAs> {
  const spec = parseUserSpec(setting);
  if ('problem' in spec) throw new Error(spec.problem);
  const needsEntry = 'name' in spec || spec.gid === undefined;
  const runAs = runAsFor(spec, needsEntry ? await lookUp(spec) : undefined);
  const own = { uid: process.getuid?.(), gid: process.getgid?.() };
  if (own.uid !== undefined && own.uid !== 0 && (runAs.uid !== own.uid || runAs.gid !== own.gid)) {
    throw new Error(
      `iotedged runs as ${own.uid}:${own.gid}: only root can run a module as another user or group`,
    );
  }
  return runAs;
}
