import { parseUserSpec } from '../modules/process/user-spec.js';
import type { HealthProbe, ProcessSettings } from '../modules/types.js';
import { malformed } from './deployment-error.js';
import { Fields } from './manifest-fields.js';

/**
 * `settings` of a `"type": "process"` module: a program that iotedged runs and supervises itself,
 * without a container engine. Unknown fields are rejected so that a typo is not silently ignored.
 *
 * ```json
 * "settings": {
 *   "command": "/usr/bin/node",              // required: program path, or a name looked up in PATH
 *   "args": ["sensor.js", "--rate", "5"],    // optional, default []
 *   "cwd": "/opt/sensor",                    // optional, absolute; default <homedir>/modules/<name>
 *   "user": "sensor",                        // optional: a user name or uid[:gid]; default iotedged's
 *   "healthProbe": {                         // optional; without it a running module is healthy
 *     "command": "/opt/sensor/check", "args": ["--quick"],   // healthy when it exits with 0, or
 *     "http": "http://127.0.0.1:8080/health",                // healthy on a 2xx answer to GET
 *     "intervalSecs": 10,                    // optional, default 10 (fractions allowed)
 *     "timeoutSecs": 5,                      // optional, default 5
 *     "failureThreshold": 3                  // optional, default 3 failures in a row -> unhealthy
 *   }
 * }
 * ```
 * Environment variables come from the module's `env`, as for docker modules. Whether `user`
 * exists is checked by the process runtime when the deployment arrives (see ModuleRuntime.check).
 */
export function parseProcessSettings(settings: Fields): ProcessSettings {
  settings.onlyKeys(['command', 'args', 'cwd', 'user', 'healthProbe']);
  const result: ProcessSettings = {
    command: settings.nonEmptyString('command'),
    args: settings.stringArray('args', []),
  };
  if (settings.has('cwd')) {
    const cwd = settings.nonEmptyString('cwd');
    if (!cwd.startsWith('/')) settings.fail('cwd', 'must be an absolute path');
    result.cwd = cwd;
  }
  if (settings.has('user')) {
    const user = settings.nonEmptyString('user');
    const parsed = parseUserSpec(user);
    if ('problem' in parsed) settings.fail('user', parsed.problem);
    result.user = user;
  }
  const probe = settings.optionalObject('healthProbe');
  if (probe !== undefined) result.healthProbe = parseHealthProbe(probe);
  return result;
}

export const PROBE_DEFAULTS = { intervalSecs: 10, timeoutSecs: 5, failureThreshold: 3 } as const;
/**
 * A probe at most ten times a second (each one may start a program) and at least once a day; a
 * timeout of at most an hour (beyond what a timer can hold, a healthy module would read unhealthy).
 */
export const PROBE_LIMITS = {
  intervalSecs: [0.1, 86_400],
  timeoutSecs: [0.01, 3_600],
} as const satisfies Record<string, readonly [number, number]>;

function parseHealthProbe(probe: Fields): HealthProbe {
  probe.onlyKeys(['command', 'args', 'http', 'intervalSecs', 'timeoutSecs', 'failureThreshold']);
  const timing = {
    intervalSecs: probe.numberInRange(
      'intervalSecs',
      ...PROBE_LIMITS.intervalSecs,
      PROBE_DEFAULTS.intervalSecs,
    ),
    timeoutSecs: probe.numberInRange('timeoutSecs', ...PROBE_LIMITS.timeoutSecs, PROBE_DEFAULTS.timeoutSecs),
    failureThreshold: probe.integer('failureThreshold', 1, 1000, PROBE_DEFAULTS.failureThreshold),
  };
  const hasCommand = probe.has('command');
  const hasHttp = probe.has('http');
  if (hasCommand === hasHttp) {
    throw malformed(
      probe.path,
      hasCommand ? 'give either command or http, not both' : 'missing command or http',
    );
  }
  if (hasCommand) {
    return {
      type: 'command',
      command: probe.nonEmptyString('command'),
      args: probe.stringArray('args', []),
      ...timing,
    };
  }
  if (probe.has('args')) probe.fail('args', 'only allowed with command');
  const url = probe.nonEmptyString('http');
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    probe.fail('http', 'not a valid URL');
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    probe.fail('http', `expected an http:// or https:// URL, found ${parsed.protocol}`);
  }
  return { type: 'http', url, ...timing };
}
