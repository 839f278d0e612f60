import { CHECKS } from './catalog.js';
import { renderJson } from './render-json.js';
import { TextReport, type Paint } from './render-text.js';
import { runChecks, type RunOptions } from './runner.js';
import { collectAdditionalInfo } from '../runtime/system-info.js';
import { tally } from './tally.js';
import type { CheckDefinition, CheckInputs, CheckResult } from './types.js';

export interface CheckCommandOptions {
  inputs: CheckInputs;
  dontRun: ReadonlySet<string>;
  output: 'text' | 'json';
  warningsAsErrors: boolean;
  paint: Paint;
  write(text: string): void;
  /** The definitions to run (defaults to every registered check) and the shared resources. */
  checks: readonly CheckDefinition[];
  resources?: RunOptions['resources'];
}

/** Runs the checks with the host name fallback `iotedge check` uses, showing each result to `onResult`. */
export function runCheckSet(options: {
  checks: readonly CheckDefinition[];
  inputs: CheckInputs;
  dontRun: ReadonlySet<string>;
  resources?: RunOptions['resources'];
  onResult(check: (typeof CHECKS)[number], result: CheckResult): void;
}) {
  const info = new Map(CHECKS.map((check) => [check.id, check]));
  const { inputs } = options;
  return runChecks({
    checks: options.checks,
    inputs,
    dontRun: options.dontRun,
    fallbackFacts: inputs.iothubHostname ? { iothubHostname: inputs.iothubHostname } : {},
    resources: options.resources,
    onResult: (id, result) => options.onResult(info.get(id)!, result),
  });
}

/** The JSON report's `additional_info`, from what the checks learned. */
export function additionalInfoOf(facts: Awaited<ReturnType<typeof runChecks>>['facts']) {
  return collectAdditionalInfo({
    docker_version: facts.docker?.serverVersion,
    iotedged_version: facts.iotedgedVersion,
  });
}

/** Runs `iotedge check` and renders it; resolves to the process exit code (1 when errors were raised). */
export async function runCheckCommand(options: CheckCommandOptions): Promise<number> {
  const { inputs, output, warningsAsErrors, write } = options;
  const report =
    output === 'text'
      ? new TextReport({ verbose: inputs.verbose, warningsAsErrors, paint: options.paint, write })
      : undefined;

  const { records, facts } = await runCheckSet({
    checks: options.checks,
    inputs,
    dontRun: options.dontRun,
    resources: options.resources,
    onResult: (check, result) => report?.add(check, result),
  });

  if (report) {
    report.finish();
  } else {
    write(renderJson(records, await additionalInfoOf(facts), warningsAsErrors));
  }
  return tally(
    records.map((record) => record.result),
    warningsAsErrors,
  ).errors > 0
    ? 1
    : 0;
}
