import { SchemaViolation } from './errors.js';
import { Section } from './fields.js';
import type {
  ConnectionStringAuthentication,
  DpsAttestation,
  DpsProvisioning,
  ExternalProvisioning,
  ManualProvisioning,
  ProvisioningSettings,
  X509ManualAuthentication,
} from './settings.js';

/** The `provisioning` section (as IoT Edge 1.1 has it), tagged by `source`. */
export function readProvisioning(root: Section): ProvisioningSettings {
  const section = root.section('provisioning');
  const source = section.choice('source', ['manual', 'dps', 'external'] as const);
  const dynamic_reprovisioning = section.boolean('dynamic_reprovisioning', false);
  switch (source) {
    case 'manual':
      return readManual(section, dynamic_reprovisioning);
    case 'dps':
      return readDps(section, dynamic_reprovisioning);
    case 'external':
      return readExternal(section, dynamic_reprovisioning);
  }
}

/** Which of two mutually exclusive keys the section sets; setting both or neither is a violation. */
function exactlyOneOf<K extends string>(
  section: Section,
  keys: readonly [K, K],
  messages: { both: string; neither: string },
): K {
  const present = keys.filter((key) => section.has(key));
  if (present.length === 2) throw new SchemaViolation(section.path, messages.both);
  if (present.length === 0) throw new SchemaViolation(section.path, messages.neither);
  return present[0];
}

function readManual(section: Section, dynamic_reprovisioning: boolean): ManualProvisioning {
  const given = exactlyOneOf(section, ['device_connection_string', 'authentication'], {
    both: 'Only one of provisioning.device_connection_string or provisioning.authentication must be set in the config.yaml.',
    neither:
      'One of provisioning.device_connection_string or provisioning.authentication must be set in the config.yaml.',
  });
  if (given === 'device_connection_string') {
    return {
      source: 'manual',
      dynamic_reprovisioning,
      device_connection_string: section.string('device_connection_string'),
    };
  }
  return { source: 'manual', dynamic_reprovisioning, authentication: readManualAuthentication(section) };
}

function readManualAuthentication(
  provisioning: Section,
): X509ManualAuthentication | ConnectionStringAuthentication {
  const auth = provisioning.section('authentication');
  const method = auth.choice('method', ['device_connection_string', 'x509'] as const);
  if (method === 'device_connection_string') {
    return { method, device_connection_string: auth.string('device_connection_string') };
  }
  return {
    method,
    iothub_hostname: auth.string('iothub_hostname'),
    device_id: auth.string('device_id'),
    identity_cert: auth.filePath('identity_cert'),
    identity_pk: auth.filePath('identity_pk'),
  };
}

function readDps(section: Section, dynamic_reprovisioning: boolean): DpsProvisioning {
  const global_endpoint = section.url('global_endpoint');
  const scope_id = section.string('scope_id');
  const given = exactlyOneOf(section, ['attestation', 'registration_id'], {
    both: 'Provisioning registration_id has to be set only in attestation: remove provisioning.registration_id.',
    neither:
      'Provisioning registration_id has to be set: add provisioning.attestation (or the legacy provisioning.registration_id for TPM).',
  });
  // A top-level registration_id without attestation is the legacy spelling of TPM attestation.
  const attestation: DpsAttestation =
    given === 'attestation'
      ? readAttestation(section.section('attestation'))
      : { method: 'tpm', registration_id: section.string('registration_id') };
  return {
    source: 'dps',
    dynamic_reprovisioning,
    global_endpoint,
    scope_id,
    attestation,
    always_reprovision_on_startup: section.boolean('always_reprovision_on_startup', true),
    ...(section.has('transport')
      ? { transport: section.choice('transport', ['http', 'mqtt'] as const) }
      : {}),
  };
}

function readAttestation(attestation: Section): DpsAttestation {
  const method = attestation.choice('method', ['tpm', 'symmetric_key', 'x509'] as const);
  switch (method) {
    case 'tpm':
      return { method, registration_id: attestation.string('registration_id') };
    case 'symmetric_key': {
      const registration_id = attestation.string('registration_id');
      const key = exactlyOneOf(attestation, ['symmetric_key', 'group_key'], {
        both: 'Set either provisioning.attestation.symmetric_key (individual enrollment) or provisioning.attestation.group_key (group enrollment), not both.',
        neither:
          'Set provisioning.attestation.symmetric_key (individual enrollment) or provisioning.attestation.group_key (group enrollment).',
      });
      return key === 'symmetric_key'
        ? { method, registration_id, symmetric_key: attestation.string('symmetric_key') }
        : { method, registration_id, group_key: attestation.string('group_key') };
    }
    case 'x509': {
      const registration_id = attestation.optionalString('registration_id');
      return {
        method,
        ...(registration_id === undefined ? {} : { registration_id }),
        identity_cert: attestation.filePath('identity_cert'),
        identity_pk: attestation.filePath('identity_pk'),
      };
    }
  }
}

function readExternal(section: Section, dynamic_reprovisioning: boolean): ExternalProvisioning {
  return { source: 'external', dynamic_reprovisioning, endpoint: section.url('endpoint') };
}
