import { hostname as machineHostname } from 'node:os';
import { hostnameMatchesMachine, isValidDnsName } from '../../runtime/config/hostname.js';
import { failed, ok, warning, type CheckDefinition, type CheckResult } from '../types.js';

/** The verdict for a configured hostname on a machine called `machine`. */
export function evaluateHostname(configured: string, machine: string): CheckResult {
  const info = { config_hostname: configured, machine_hostname: machine };
  if (!hostnameMatchesMachine(configured, machine)) {
    return failed(
      `config.yaml has hostname ${configured} but device reports hostname ${machine}.\n` +
        'Hostname in config.yaml must either be identical to the device hostname ' +
        'or be a fully-qualified domain name that has the device hostname as the first component.',
      undefined,
      info,
    );
  }
  if (!isValidDnsName(configured)) {
    return warning(
      `config.yaml has hostname ${configured} which does not comply with RFC 1035.\n` +
        '\n' +
        '- Hostname must be between 1 and 255 octets inclusive.\n' +
        '- Each label in the hostname (component separated by ".") must be between 1 and 63 octets inclusive.\n' +
        '- Each label must start with an ASCII alphabet character (a-z, A-Z), end with an ASCII alphanumeric ' +
        'character (a-z, A-Z, 0-9), and must contain only ASCII alphanumeric characters or hyphens (a-z, A-Z, 0-9, "-").\n' +
        '\n' +
        'Not complying with RFC 1035 may cause errors during the TLS handshake with modules and downstream devices.',
      undefined,
      info,
    );
  }
  return ok(info);
}

export const hostnameCheck: CheckDefinition = {
  id: 'hostname',
  needs: ['settings'],
  run: async (ctx) => evaluateHostname(ctx.fact('settings').hostname, machineHostname()),
};
