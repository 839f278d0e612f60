import { CHECKS } from './catalog.js';
import { certificatesExpiryCheck } from './certificates/certificates-expiry.js';
import { certificatesQuickstartCheck } from './certificates/certificates-quickstart.js';
import { identityCertificateExpiryCheck } from './certificates/identity-certificate-expiry.js';
import { configYamlWellFormedCheck } from './config/config-yaml-well-formed.js';
import { connectionStringCheck } from './config/connection-string.js';
import { hostLocalTime } from './config/host-local-time.js';
import { hostnameCheck } from './config/hostname.js';
import { iotedgedVersion } from './config/iotedged-version.js';
import {
  hostConnectDpsEndpoint,
  hostConnectIothubAmqp,
  hostConnectIothubHttps,
  hostConnectIothubMqtt,
} from './connectivity/host-connect.js';
import { CONTAINER_CHECKS } from './container/index.js';
import type { RunOptions } from './runner.js';
import { diagnosticsImageFact } from './support/diagnostics-image.js';
import type { CheckDefinition } from './types.js';

const IMPLEMENTATIONS: readonly CheckDefinition[] = [
  configYamlWellFormedCheck,
  connectionStringCheck,
  hostnameCheck,
  iotedgedVersion,
  hostLocalTime,
  identityCertificateExpiryCheck,
  certificatesQuickstartCheck,
  certificatesExpiryCheck,
  hostConnectDpsEndpoint,
  hostConnectIothubAmqp,
  hostConnectIothubHttps,
  hostConnectIothubMqtt,
  ...CONTAINER_CHECKS,
];

/** Every check implementation, in catalog order; throws if the catalog and the code disagree. */
export function loadCheckDefinitions(): CheckDefinition[] {
  const byId = new Map(IMPLEMENTATIONS.map((check) => [check.id, check]));
  const missing = CHECKS.filter((info) => !byId.has(info.id)).map((info) => info.id);
  const extra = [...byId.keys()].filter((id) => !CHECKS.some((info) => info.id === id));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`check catalog mismatch: missing [${missing.join(', ')}], unknown [${extra.join(', ')}]`);
  }
  return CHECKS.map((info) => byId.get(info.id)!);
}

/** Facts computed on demand: the diagnostics image is built (once) only if a container check needs it. */
export const checkResources: RunOptions['resources'] = {
  diagnosticsImage: {
    needs: ['docker'],
    label: 'the diagnostics image',
    timeoutMs: 180_000,
    compute: (facts, inputs, signal) => diagnosticsImageFact(facts.docker!, inputs, signal),
  },
};
