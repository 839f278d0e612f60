/**
 * `settings.user` of a process module: whom its program runs as. Either a user name (its uid and
 * primary group come from the user database) or numeric `uid` / `uid:gid`.
 */
export type UserSpec = { name: string } | { uid: number; gid?: number };

/** The user and group a program runs as. */
export interface RunAs {
  uid: number;
  gid: number;
}

/** One passwd line's fields that matter here. */
export interface PasswdEntry {
  name: string;
  uid: number;
  gid: number;
}

const NAME = /^[A-Za-z_][A-Za-z0-9._-]{0,31}\$?$/;
const NUMERIC = /^(\d{1,10})(?::(\d{1,10}))?$/;
/** uid_t is 32 bits and (uid_t)-1 means "no change". */
const MAX_ID = 2 ** 32 - 2;

export const USER_SETTING_HINT = 'expected a user name or uid[:gid], e.g. "nobody" or "1000:1000"';

/** The setting as written, or a problem in words (for `settings.user: <problem>`). */
export function parseUserSpec(text: string): UserSpec | { problem: string } {
  const numeric = NUMERIC.exec(text);
  if (numeric) {
    const uid = Number(numeric[1]);
    const gid = numeric[2] === undefined ? undefined : Number(numeric[2]);
    if (uid > MAX_ID || (gid !== undefined && gid > MAX_ID)) return { problem: `ids go up to ${MAX_ID}` };
    return gid === undefined ? { uid } : { uid, gid };
  }
  if (NAME.test(text)) return { name: text };
  return { problem: USER_SETTING_HINT };
}

/** The entry of a `passwd` text (/etc/passwd, `getent passwd`) matching `spec`, if any. */
export function findPasswdEntry(text: string, spec: UserSpec): PasswdEntry | undefined {
  for (const line of text.split('\n')) {
    const [name, , uid, gid] = line.split(':');
    if (name === undefined || uid === undefined || gid === undefined) continue;
    if (!/^\d+$/.test(uid) || !/^\d+$/.test(gid)) continue;
    const entry = { name, uid: Number(uid), gid: Number(gid) };
    if ('name' in spec ? entry.name === spec.name : entry.uid === spec.uid) return entry;
  }
  return undefined;
}

/**
 * Whom `spec` means, given its user database entry (undefined when there is none): a name needs
 * an entry; a uid alone takes its entry's group and needs one; `uid:gid` needs none. Throws an
 * Error whose message reads after `settings.user: `.
 */
export function runAsFor(spec: UserSpec, entry: PasswdEntry | undefined): RunAs {
  if ('name' in spec) {
    if (!entry) throw new Error(`no such user ${JSON.stringify(spec.name)}`);
    return { uid: entry.uid, gid: entry.gid };
  }
  if (spec.gid !== undefined) return { uid: spec.uid, gid: spec.gid };
  if (!entry) {
    throw new Error(
      `uid ${spec.uid} has no entry in the user database, so its group is unknown: give it, as "${spec.uid}:GID"`,
    );
  }
  return { uid: spec.uid, gid: entry.gid };
}
