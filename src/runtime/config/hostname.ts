/** Hostname rules of the `hostname` check (as IoT Edge 1.1 has it). */

const MAX_NAME_OCTETS = 255;
const MAX_LABEL_OCTETS = 63;

/**
 * RFC 1035 "preferred name syntax" as IoT Edge 1.1 applies it: 1–255 octets in total; labels separated
 * by `.` of 1–63 octets, each starting with an ASCII letter, ending with an ASCII letter or digit, and
 * containing only ASCII letters, digits and `-`.
 */
export function isValidDnsName(name: string): boolean {
  const octets = Buffer.byteLength(name, 'utf8');
  if (octets === 0 || octets > MAX_NAME_OCTETS) return false;
  return name.split('.').every(isValidLabel);
}

function isValidLabel(label: string): boolean {
  return label.length <= MAX_LABEL_OCTETS && /^[A-Za-z]([A-Za-z0-9-]*[A-Za-z0-9])?$/.test(label);
}

/**
 * Whether the configured hostname names this machine: identical to its hostname, or a fully-qualified
 * name whose first label is that hostname. Case-sensitive, as in 1.1.
 */
export function hostnameMatchesMachine(configured: string, machine: string): boolean {
  return configured === machine || configured.startsWith(`${machine}.`);
}
