import path from 'node:path';

import type { Settings } from '../config/settings.js';
import { loadEdgeCa, type EdgeCa } from '../identity/certificates/edge-ca.js';
import {
  issueHubServerCertificate,
  type HubServerCertificate,
} from '../identity/certificates/server-cert.js';
import { loadServerCertificate, saveServerCertificate } from '../identity/certificates/server-cert-cache.js';

export interface EdgeCaServiceOptions {
  settings: Pick<Settings, 'homedir' | 'hostname' | 'certificates'>;
  /** The time certificates are judged and issued at (default: the clock). */
  now?: () => Date;
  log(line: string): void;
}

/** The hub's server certificate as its users see it: the current one, and word of each new one. */
export interface ServerCertificateSource {
  readonly serverCertificate: HubServerCertificate;
  /** Calls `listener` with every new server certificate; the function returned stops the calls. */
  onServerCertificate(listener: (certificate: HubServerCertificate) => void): () => void;
}

/** setTimeout holds 32-bit milliseconds: a renewal further away is looked at again after this. */
const MAX_WAIT_MS = 20 * 24 * 3600 * 1000;
/** A renewal never comes sooner than this after the last one (a certificate already due, a retry). */
const MIN_WAIT_MS = 60_000;

/**
 * The daemon's edge CA (the configured device CA, or the quickstart CA it generates) and the hub's
 * TLS server certificate it issues, kept under `<homedir>/hub` for the next start. Both are
 * renewed: the certificate when 80% of its lifetime has passed, the CA when a user asks for it
 * after its expiry. The workload API issues module certificates from the CA; the hub serves the
 * server certificate and hears of each new one.
 */
export class EdgeCaService implements ServerCertificateSource {
  private readonly listeners = new Set<(certificate: HubServerCertificate) => void>();
  private renewal: NodeJS.Timeout | undefined;
  private renewing: Promise<void> | undefined;
  private readonly now: () => Date;

  private constructor(
    private readonly options: EdgeCaServiceOptions,
    private ca: EdgeCa,
    private certificate: HubServerCertificate,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Loads (or creates) the edge CA and the server certificate, and schedules the renewal. */
  static async create(options: EdgeCaServiceOptions): Promise<EdgeCaService> {
    const now = options.now?.() ?? new Date();
    const ca = await loadEdgeCa(options.settings, { now });
    const service = new EdgeCaService(options, ca, await serverCertificate(options.settings, ca, now));
    service.issued();
    return service;
  }

  get serverCertificate(): HubServerCertificate {
    return this.certificate;
  }

  /** The edge CA; one that has expired is loaded (a quickstart one made) again first. */
  async edgeCa(): Promise<EdgeCa> {
    if (this.ca.notAfter.getTime() <= this.now().getTime()) await this.renew();
    return this.ca;
  }

  onServerCertificate(listener: (certificate: HubServerCertificate) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Loads the edge CA again and keeps the saved server certificate while it suits it, else issues
   * and saves a new one, which the listeners are given. Renewals asked for meanwhile share this one.
   */
  renew(): Promise<void> {
    this.renewing ??= (async () => {
      const now = this.now();
      this.ca = await loadEdgeCa(this.options.settings, { now });
      const certificate = await serverCertificate(this.options.settings, this.ca, now);
      const changed = certificate.certificatePem !== this.certificate.certificatePem;
      this.certificate = certificate;
      this.issued();
      if (changed) for (const listener of this.listeners) listener(certificate);
    })().finally(() => (this.renewing = undefined));
    return this.renewing;
  }

  /** Stops the renewals. */
  close(): void {
    clearTimeout(this.renewal);
    this.renewal = undefined;
    this.listeners.clear();
  }

  /** Logs the certificate in use and schedules its renewal. */
  private issued(): void {
    clearTimeout(this.renewal);
    const due = Math.max(this.certificate.renewAt.getTime() - this.now().getTime(), MIN_WAIT_MS);
    this.renewal = setTimeout(
      () => {
        this.renew().catch((error: Error) =>
          this.options.log(`certificate renewal failed: ${error.message}`),
        );
      },
      Math.min(due, MAX_WAIT_MS),
    );
    this.renewal.unref();
    this.options.log(
      `server certificate for ${this.options.settings.hostname} valid until ${this.certificate.notAfter.toISOString()}`,
    );
  }
}

/** The server certificate saved by an earlier run when it still suits the CA, else a new one, saved. */
async function serverCertificate(
  settings: Pick<Settings, 'homedir' | 'hostname'>,
  ca: EdgeCa,
  now: Date,
): Promise<HubServerCertificate> {
  const directory = path.join(settings.homedir, 'hub');
  const saved = await loadServerCertificate(directory, ca, settings.hostname, now);
  if (saved) return saved;
  const issued = await issueHubServerCertificate(ca, { hostname: settings.hostname, now });
  await saveServerCertificate(directory, issued);
  return issued;
}
