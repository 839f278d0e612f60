import { hostWithPort, type DpsEndpoint } from './dps-endpoint.js';

/** What a failed registration tells the operator: its kind and a message naming what is at fault. */
export interface DpsFailure {
  kind: 'unreachable' | 'tls' | 'unknown-scope' | 'attestation-refused' | 'disabled' | 'failed' | 'other';
  message: string;
}

interface RegistrationContext {
  endpoint: DpsEndpoint;
  scopeId: string;
  registrationId: string;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
]);

interface SdkError {
  name?: string;
  message?: string;
  code?: string | number;
  response?: { statusCode?: number };
  responseBody?: string;
  result?: unknown;
  transportObject?: { statusCode?: number; topic?: string };
}

/** The HTTP status DPS answered with, over HTTPS (the response) or MQTT (the response topic). */
function statusOf(error: SdkError): number | undefined {
  const status = error.response?.statusCode ?? error.transportObject?.statusCode;
  if (typeof status === 'number') return status;
  const topic = /^\$dps\/registrations\/res\/(\d{3})\//.exec(error.transportObject?.topic ?? '');
  return topic ? Number(topic[1]) : undefined;
}

/** DPS's explanation (`message`, or the registration state's `errorMessage`), when it gave one. */
function serviceMessage(error: SdkError): string | undefined {
  let body: unknown = error.result;
  if (body === undefined && typeof error.responseBody === 'string') {
    try {
      body = JSON.parse(error.responseBody);
    } catch {
      body = undefined;
    }
  }
  if (typeof body !== 'object' || body === null) return undefined;
  const fields = body as {
    message?: unknown;
    errorMessage?: unknown;
    registrationState?: { errorMessage?: unknown };
  };
  const text = fields.registrationState?.errorMessage ?? fields.errorMessage ?? fields.message;
  return typeof text === 'string' && text !== '' ? text.slice(0, 300) : undefined;
}

function registrationStatus(error: SdkError): string | undefined {
  const result = error.result as { status?: unknown } | undefined;
  return typeof result?.status === 'string' ? result.status.toLowerCase() : undefined;
}

/** A failed registration in words that name the endpoint, scope or registration at fault. Pure. */
export function describeDpsFailure(error: unknown, context: RegistrationContext): DpsFailure {
  const sdk = (typeof error === 'object' && error !== null ? error : { message: String(error) }) as SdkError;
  const where = hostWithPort(context.endpoint.host, context.endpoint.port);
  const said = serviceMessage(sdk);
  const because = said === undefined ? '' : `: ${said}`;
  const code = typeof sdk.code === 'string' ? sdk.code : undefined;
  const text = sdk.message ?? '';
  if ((code !== undefined && NETWORK_CODES.has(code)) || sdk.name === 'TimeoutError') {
    return {
      kind: 'unreachable',
      message: `the DPS endpoint ${where} is unreachable (${code ?? 'no answer within 30 s'})`,
    };
  }
  if ((code !== undefined && /CERT|SELF_SIGNED|TLS|SSL/i.test(code)) || /certificate/i.test(text)) {
    return {
      kind: 'tls',
      message: `the TLS handshake with the DPS endpoint ${where} failed (${text}); trust its CA through certificates.trusted_ca_certs`,
    };
  }
  const status = registrationStatus(sdk);
  if (status === 'disabled') {
    return {
      kind: 'disabled',
      message: `the enrollment of registration ${context.registrationId} is disabled in DPS (scope ${context.scopeId})`,
    };
  }
  if (status === 'failed') {
    return {
      kind: 'failed',
      message: `DPS could not assign registration ${context.registrationId}${because}`,
    };
  }
  const httpStatus = statusOf(sdk);
  if (httpStatus === 404) {
    return {
      kind: 'unknown-scope',
      message: `DPS at ${where} does not know the ID scope ${context.scopeId} (404)${because}`,
    };
  }
  if (httpStatus === 401 || httpStatus === 403 || sdk.code === 5 || /not authori[sz]ed/i.test(text)) {
    return {
      kind: 'attestation-refused',
      message: `DPS refused the attestation of registration ${context.registrationId} in scope ${context.scopeId}${httpStatus === undefined ? '' : ` (${httpStatus})`}${because}`,
    };
  }
  const detail = said ?? (text || sdk.name || 'unknown error');
  return {
    kind: 'other',
    message: `registration ${context.registrationId} with DPS at ${where} failed${httpStatus === undefined ? '' : ` (${httpStatus})`}: ${detail}`,
  };
}
