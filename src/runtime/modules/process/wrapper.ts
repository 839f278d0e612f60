/**
 * The supervisor of one module run: a /bin/sh started detached (its own session and process group,
 * so it outlives iotedged) that runs the program and records what iotedged must not miss:
 *
 * - run/pid: written by a second sh that then execs the program, so the pid is the program's.
 * - run/exit: `$?` of the program (128+N when killed by signal N), written when it ends.
 *
 * iotedged opens both files and hands them over as fds 5 and 6: the wrapper never opens a path
 * itself, so it works the same when it runs as the module's user, who cannot reach the module's
 * directory (the program never sees these fds).
 *
 * The program runs in the foreground: an asynchronous list would start it with SIGINT and SIGQUIT
 * ignored. The wrapper traps TERM/INT/HUP/QUIT with a handler rather than ignoring them, since an
 * ignored signal stays ignored across exec; a handled one is reset, so the program sees the
 * default dispositions while the wrapper survives a signal sent to the whole process group and
 * records the exit. Only shell builtins are used: the module's PATH may not reach any utility.
 *
 * The module's output FIFOs arrive as fds 3 and 4 and become the program's stdout and stderr; the
 * wrapper's own stdout and stderr are /dev/null, so the shell's job messages ("Terminated") stay
 * out of the module's log, while exec's own errors ("not found") go into it. (dash applies a
 * command's redirections in the parent, so they must be made inside the second sh.)
 *
 * Environment: sh sets and exports PWD (bash also SHLVL) and drops variables whose names are not
 * shell identifiers ("A.B", "A-B"). The first are unset; those the module did set, and the odd
 * names, travel as IOTEDGED_ENV_<i>="NAME=VALUE" (environment, not argv, so not in `ps`) and are
 * handed to /usr/bin/env, which puts them back just before the program starts.
 */
const INNER = [
  'echo $$ >&5',
  'unset PWD OLDPWD SHLVL',
  'shift',
  'exec >&3 2>&4 3>&- 4>&- 5>&- 6>&-',
  '[ -n "${IOTEDGED_ENV_COUNT:-}" ] || exec "$@"',
  'i=$IOTEDGED_ENV_COUNT; unset IOTEDGED_ENV_COUNT',
  'while [ "$i" -gt 0 ]; do eval "set -- \\"\\$IOTEDGED_ENV_$i\\" \\"\\$@\\"; unset IOTEDGED_ENV_$i"; i=$((i - 1)); done',
  'exec /usr/bin/env "$@"',
].join('\n');

const quoted = (text: string) => `'${text.replace(/'/g, `'\\''`)}'`;

export const WRAPPER_SCRIPT = [
  'trap : TERM INT HUP QUIT',
  'run=$1; shift',
  `/bin/sh -c ${quoted(INNER)} iotedged "$run" "$@"`,
  'code=$?',
  'echo "$code" >&6',
].join('\n');

/** Variables that sh itself exports (dash: PWD; bash: PWD, SHLVL), unset by INNER. */
const SHELL_ADDED = ['PWD', 'OLDPWD', 'SHLVL'];
const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export interface WrapperInvocation {
  argv: string[];
  env: Record<string, string>;
}

/** `/bin/sh` arguments and environment that run `command args` with exactly `env`. */
export function wrapperInvocation(
  runDir: string,
  env: Record<string, string>,
  command: string,
  args: string[],
): WrapperInvocation {
  const wrapperEnv: Record<string, string> = {};
  const odd: string[] = [];
  for (const [name, value] of Object.entries(env)) {
    if (SHELL_NAME.test(name) && !SHELL_ADDED.includes(name)) wrapperEnv[name] = value;
    else odd.push(`${name}=${value}`);
  }
  odd.forEach((assignment, index) => (wrapperEnv[`IOTEDGED_ENV_${index + 1}`] = assignment));
  if (odd.length) wrapperEnv.IOTEDGED_ENV_COUNT = String(odd.length);
  return { argv: ['-c', WRAPPER_SCRIPT, 'iotedged-module', runDir, command, ...args], env: wrapperEnv };
}
