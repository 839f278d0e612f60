import { createHmac, randomBytes, randomUUID, timingSafeEqual, X509Certificate } from 'node:crypto';
import http from 'node:http';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';

import { Aedes, type Client } from 'aedes';

import { deriveDeviceKey } from '../../src/runtime/provisioning/group-key.js';
import { parseSasToken } from '../../src/runtime/identity/sas.js';
import { createCa, createCertificate, type TestCertificate } from './cert-factory.js';
import type { KeyedCertificate } from './certs.js';
import { listenTracked, type TestServer } from './tls-servers.js';

/** Who DPS assigns a registration to. */
export interface Assignment {
  assignedHub: string;
  deviceId: string;
}

/** An individual enrollment: a symmetric key or an X.509 certificate (CN = registration id, issued by `ca`). */
export type Enrollment = Assignment & { enabled?: boolean } & ({ key: string } | { x509: true });

/** A symmetric-key enrollment group: device keys derive from `groupKey`; each device gets its registration id. */
export interface GroupEnrollment {
  groupKey: string;
  assignedHub: string;
}

interface Credentials {
  sas?: string;
  certificate?: X509Certificate;
}

interface Answer {
  status: number;
  body: Record<string, unknown>;
}

/**
 * A stand-in for the Device Provisioning Service on loopback, speaking its documented registration
 * protocol over HTTPS (PUT /{scope}/registrations/{id}/register, GET .../operations/{id}) and over
 * MQTT (publish to $dps/registrations/PUT/iotdps-register/?$rid=, answers on
 * $dps/registrations/res/{status}/?$rid=), both on one TLS port. The client is the real SDK.
 */
export class LocalDps {
  readonly enrollments = new Map<string, Enrollment>();
  readonly groups: GroupEnrollment[] = [];
  /** Every registration request: its id and transport. */
  readonly requests: { registrationId: string; transport: 'http' | 'mqtt' }[] = [];
  private readonly operations = new Map<string, Answer>();
  private server: TestServer | undefined;
  private broker: Aedes | undefined;

  constructor(
    readonly scopeId: string,
    private readonly identity: KeyedCertificate,
    /** Issuer of the X.509 attestation certificates. */
    private readonly clientCa?: string,
  ) {}

  get port(): number {
    if (!this.server) throw new Error('the local DPS is not started');
    return this.server.port;
  }

  get endpoint(): string {
    return `https://localhost:${this.port}`;
  }

  /** Listens on 127.0.0.1:`port` (0: any free port, kept by later starts). */
  async start(port = this.server?.port ?? 0): Promise<void> {
    this.broker = await Aedes.createBroker({
      authenticate: (client, username, password, done) => {
        rememberConnect(client, username, password);
        done(null, true);
      },
      authorizePublish: (client, packet, done) => {
        done(null);
        if (client) this.mqttRequest(client, packet.topic, packet.payload.toString());
      },
    });
    const httpServer = http.createServer((request, response) => this.httpRequest(request, response));
    const tls = createTlsServer(
      { cert: this.identity.cert, key: this.identity.key, requestCert: true, rejectUnauthorized: false },
      (socket) => {
        socket.on('error', () => undefined);
        socket.once('data', (first: Buffer) => {
          socket.pause();
          socket.unshift(first);
          // an MQTT connection opens with CONNECT (0x10); anything else is HTTP
          if (first[0] === 0x10) this.broker!.handle(socket);
          else httpServer.emit('connection', socket);
          socket.resume();
        });
      },
    );
    tls.on('tlsClientError', () => undefined);
    this.server = await listenTracked(tls, 'secureConnection', port);
  }

  /** Stops listening; start() listens on the same port again. */
  async close(): Promise<void> {
    await this.server?.close();
    await new Promise<void>((resolve) => (this.broker ? this.broker.close(() => resolve()) : resolve()));
  }

  /** The register step: authenticates the registration and starts an operation. */
  private register(scopeId: string, registrationId: string, credentials: Credentials): Answer {
    if (scopeId !== this.scopeId) {
      return { status: 404, body: { errorCode: 404201, message: `ID scope ${scopeId} not found` } };
    }
    const assignment = this.authenticate(scopeId, registrationId, credentials);
    if (!assignment) {
      return { status: 401, body: { errorCode: 401002, message: 'The attestation was not accepted.' } };
    }
    const operationId = randomUUID();
    const state =
      assignment.enabled === false
        ? { registrationId, status: 'disabled' }
        : {
            registrationId,
            status: 'assigned',
            assignedHub: assignment.assignedHub,
            deviceId: assignment.deviceId,
          };
    this.operations.set(operationId, {
      status: 200,
      body: { operationId, status: state.status, registrationState: state },
    });
    return { status: 202, body: { operationId, status: 'assigning' } };
  }

  private operation(registrationId: string, credentials: Credentials, operationId: string): Answer {
    if (!this.authenticate(this.scopeId, registrationId, credentials)) {
      return { status: 401, body: { errorCode: 401002, message: 'The attestation was not accepted.' } };
    }
    return (
      this.operations.get(operationId) ?? {
        status: 404,
        body: { errorCode: 404202, message: 'no such operation' },
      }
    );
  }

  /** The enrollment the credentials prove, or undefined. */
  private authenticate(
    scopeId: string,
    registrationId: string,
    credentials: Credentials,
  ): (Assignment & { enabled?: boolean }) | undefined {
    const individual = this.enrollments.get(registrationId);
    if (credentials.sas !== undefined) {
      const keys: { key: string; assignment: Assignment & { enabled?: boolean } }[] = [];
      if (individual && 'key' in individual) keys.push({ key: individual.key, assignment: individual });
      for (const group of this.groups) {
        keys.push({
          key: deriveDeviceKey(group.groupKey, registrationId),
          assignment: { assignedHub: group.assignedHub, deviceId: registrationId },
        });
      }
      let token;
      try {
        token = parseSasToken(credentials.sas);
      } catch {
        return undefined;
      }
      if (token.audience.toLowerCase() !== `${scopeId}/registrations/${registrationId}`.toLowerCase())
        return undefined;
      const signed = `${token.encodedAudience}\n${token.expiryText}`;
      const presented = Buffer.from(token.signature, 'base64');
      return keys.find(({ key }) => {
        const expected = createHmac('sha256', Buffer.from(key, 'base64')).update(signed).digest();
        return expected.length === presented.length && timingSafeEqual(expected, presented);
      })?.assignment;
    }
    const certificate = credentials.certificate;
    if (!certificate || !individual || !('x509' in individual) || !this.clientCa) return undefined;
    const ca = new X509Certificate(this.clientCa);
    const cn = /(?:^|\n)CN=([^\n]+)/.exec(certificate.subject)?.[1];
    return cn === registrationId && certificate.checkIssued(ca) && certificate.verify(ca.publicKey)
      ? individual
      : undefined;
  }

  private httpRequest(request: http.IncomingMessage, response: http.ServerResponse): void {
    const url = new URL(request.url ?? '/', 'https://localhost');
    const socket = request.socket as TLSSocket;
    const credentials: Credentials = {
      ...(request.headers.authorization ? { sas: request.headers.authorization } : {}),
      ...(clientCertificate(socket) ? { certificate: clientCertificate(socket) } : {}),
    };
    const answer = (result: Answer) => {
      response.writeHead(result.status, {
        'Content-Type': 'application/json; charset=utf-8',
        'retry-after': '0',
      });
      response.end(JSON.stringify(result.body));
    };
    const register = /^\/([^/]+)\/registrations\/([^/]+)\/register$/.exec(url.pathname);
    const operation = /^\/([^/]+)\/registrations\/([^/]+)\/operations\/([^/]+)$/.exec(url.pathname);
    if (!url.searchParams.get('api-version'))
      return answer({ status: 400, body: { message: 'api-version missing' } });
    if (request.method === 'PUT' && register) {
      let text = '';
      request.on('data', (chunk) => (text += chunk));
      request.on('end', () => {
        const registrationId = decodeURIComponent(register[2]);
        this.requests.push({ registrationId, transport: 'http' });
        const body = JSON.parse(text || '{}') as { registrationId?: string };
        if (body.registrationId !== registrationId)
          return answer({ status: 400, body: { message: 'registrationId mismatch' } });
        answer(this.register(decodeURIComponent(register[1]), registrationId, credentials));
      });
      return;
    }
    if (request.method === 'GET' && operation) {
      return answer(
        this.operation(decodeURIComponent(operation[2]), credentials, decodeURIComponent(operation[3])),
      );
    }
    answer({ status: 404, body: { message: `no route ${request.method} ${url.pathname}` } });
  }

  private mqttRequest(client: Client, topic: string, payload: string): void {
    const connection = client as Client & { conn: TLSSocket };
    const user = /^([^/]+)\/registrations\/([^/]+)\/api-version=/.exec(mqttUsername(client) ?? '');
    const rid = /[?&]\$rid=([^&]+)/.exec(topic)?.[1];
    if (!user || rid === undefined) return;
    const [, scopeId, registrationId] = user;
    const password = mqttPassword(client);
    const certificate = clientCertificate(connection.conn);
    const credentials: Credentials = {
      ...(password ? { sas: password } : {}),
      ...(certificate ? { certificate } : {}),
    };
    let result: Answer;
    if (topic.startsWith('$dps/registrations/PUT/iotdps-register/')) {
      this.requests.push({ registrationId, transport: 'mqtt' });
      const body = JSON.parse(payload || '{}') as { registrationId?: string };
      result =
        body.registrationId === registrationId
          ? this.register(scopeId, registrationId, credentials)
          : { status: 400, body: { message: 'registrationId mismatch' } };
    } else if (topic.startsWith('$dps/registrations/GET/iotdps-get-operationstatus/')) {
      const operationId = /[?&]operationId=([^&]+)/.exec(topic)?.[1] ?? '';
      result = this.operation(registrationId, credentials, operationId);
    } else {
      return;
    }
    this.broker!.publish(
      {
        cmd: 'publish',
        topic: `$dps/registrations/res/${result.status}/?$rid=${rid}&retry-after=0`,
        payload: Buffer.from(JSON.stringify(result.body)),
        qos: 0,
        retain: false,
        dup: false,
      },
      () => undefined,
    );
  }
}

/** The connection's CONNECT credentials, which aedes keeps on the client. */
const connectCredentials = new WeakMap<Client, { username?: string; password?: string }>();

function mqttUsername(client: Client): string | undefined {
  return connectCredentials.get(client)?.username;
}

function mqttPassword(client: Client): string | undefined {
  return connectCredentials.get(client)?.password;
}

function rememberConnect(client: Client, username: string | undefined, password: Buffer | undefined): void {
  connectCredentials.set(client, { username, password: password?.toString('utf8') });
}

function clientCertificate(socket: TLSSocket): X509Certificate | undefined {
  const raw = socket.getPeerCertificate?.(false)?.raw;
  return raw && raw.length > 0 ? new X509Certificate(raw) : undefined;
}

const DAY_MS = 24 * 3600 * 1000;

/** A random base64 symmetric key (device or group). */
export const randomKey = (): string => randomBytes(32).toString('base64');

/** A CA for X.509 attestation and a device certificate from it, valid a day either side of now. */
export function attestationPki(commonName: string): { ca: TestCertificate; device: TestCertificate } {
  const notBefore = new Date(Date.now() - DAY_MS);
  const notAfter = new Date(Date.now() + DAY_MS);
  const ca = createCa('dps attestation CA', notBefore, notAfter);
  const device = createCertificate({ commonName, issuer: ca, isCa: false, notBefore, notAfter });
  return { ca, device };
}
