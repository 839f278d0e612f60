import type { Settings } from '../runtime/config/settings.js';
import type { DockerEngine } from '../runtime/modules/docker/docker-engine.js';

/** How a check ended. `details` of the real tool = [message, ...causes], outermost first. */
export type CheckOutcome =
  | { kind: 'ok' }
  | { kind: 'warning'; message: string; causes?: string[] }
  | { kind: 'failed'; message: string; causes?: string[] }
  | { kind: 'fatal'; message: string; causes?: string[] }
  /** A prerequisite (another check's fact) is missing. */
  | { kind: 'skipped' }
  /** Not applicable here, or excluded with --dont-run: never printed, counted nowhere. */
  | { kind: 'ignored' };

export type CheckResult = CheckOutcome & {
  /** The check's own serialized fields, shown as `additional_info` in JSON output. */
  additionalInfo?: Record<string, unknown>;
};

/** Values computed once during a run and shared between checks. */
export interface Facts {
  settings: Settings;
  iothubHostname: string;
  docker: DockerEngine;
  /** Name of the diagnostics image, present in the engine (built locally if it was absent). */
  diagnosticsImage: string;
  /** Version string reported by `<iotedged> --version`. */
  iotedgedVersion: string;
}
export type FactName = keyof Facts;

/** The hub ports the connectivity checks target; overridable so tests can use loopback ports. */
export interface HubPorts {
  amqp: number;
  https: number;
  mqtt: number;
}

/** Everything the user (flags, environment) told `iotedge check`. */
export interface CheckInputs {
  configFile: string;
  containerEngineConfigFile: string;
  diagnosticsImageName: string;
  expectedIotedgedVersion?: string;
  iotedgedPath: string;
  iothubHostname?: string;
  ntpServer: string;
  proxyUri?: string;
  verbose: boolean;
  /** Environment of the CLI process (config overrides, proxy variables). */
  env: NodeJS.ProcessEnv;
  hubPorts: HubPorts;
  /** Where `iotedged-version` asks for the latest version when none is expected on the command line. */
  latestVersionUrl?: string;
  /** This CLI's own version. */
  cliVersion: string;
}

export interface CheckContext {
  inputs: CheckInputs;
  /** Aborted when the check's own timeout expires or the run stops after a fatal result. */
  signal: AbortSignal;
  /** A fact this check declared in `needs`; already resolved when `run` is called. */
  fact<K extends FactName>(name: K): Facts[K];
  /** Publish a fact this check declared in `provides`. */
  provide<K extends FactName>(name: K, value: Facts[K]): void;
}

export interface CheckDefinition {
  id: string;
  /** Facts that must be available before `run`; if one is unavailable the check is skipped. */
  needs?: FactName[];
  /** Facts this check publishes through `ctx.provide`. */
  provides?: FactName[];
  /** Per-check time budget in milliseconds (default 20 s), counted after its needs are met. */
  timeoutMs?: number;
  run(ctx: CheckContext): Promise<CheckResult>;
}

/** Builds a result without keys for absent parts, so results compare and serialize cleanly. */
function result(kind: CheckOutcome['kind'], parts: Record<string, unknown>): CheckResult {
  const built: Record<string, unknown> = { kind };
  for (const [key, value] of Object.entries(parts)) if (value !== undefined) built[key] = value;
  return built as CheckResult;
}

export const ok = (additionalInfo?: Record<string, unknown>): CheckResult => result('ok', { additionalInfo });
export const ignored = (additionalInfo?: Record<string, unknown>): CheckResult =>
  result('ignored', { additionalInfo });
export const skipped = (): CheckResult => result('skipped', {});
export const warning = (
  message: string,
  causes?: string[],
  additionalInfo?: Record<string, unknown>,
): CheckResult => result('warning', { message, causes: causes?.length ? causes : undefined, additionalInfo });
export const failed = (
  message: string,
  causes?: string[],
  additionalInfo?: Record<string, unknown>,
): CheckResult => result('failed', { message, causes: causes?.length ? causes : undefined, additionalInfo });
export const fatal = (
  message: string,
  causes?: string[],
  additionalInfo?: Record<string, unknown>,
): CheckResult => result('fatal', { message, causes: causes?.length ? causes : undefined, additionalInfo });

/** The messages of an error and its `cause` chain, outermost first. */
export function errorChain(error: unknown): string[] {
  const chain: string[] = [];
  let current: unknown = error;
  while (current !== undefined && current !== null && chain.length < 10) {
    chain.push(current instanceof Error ? current.message : String(current));
    current = current instanceof Error ? current.cause : undefined;
  }
  return chain;
}
