import { CHECKS } from './catalog.js';
import { renderJson } from './render-json.js';
import { TextReport, type Paint } from './render-text.js';
import { runChecks, type RunOptions } from './runner.js';
import { collectAdditionalInfo } from '../runtime/system-info.js';
import { tally } from './tally.js';
import type { CheckDefinition, CheckInputs } from './types.js';

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

/** Runs `iotedge check` and renders it; resolves to the process exit code (1 when errors were raised). */
export async function runCheckCommand(options: CheckCommandOptions): Promise<number> {
  const { inputs, output, warningsAsErrors, write } = options;
  const info = new Map(CHECKS.map((check) => [check.id, check]));
  const report =
    output === 'text'
      ? new TextReport({ verbose: inputs.verbose, warningsAsErrors, paint: options.paint, write })
      : undefined;

  const { records, facts } = await runChecks({
    checks: options.checks,
    inputs,
    dontRun: options.dontRun,
    fallbackFacts: inputs.iothubHostname ? { iothubHostname: inputs.iothubHostname } : {},
    resources: options.resources,
    onResult: (id, result) => report?.add(info.get(id)!, result),
  });

  if (report) {
    report.finish();
  } else {
    const additionalInfo = await collectAdditionalInfo({
      docker_version: facts.docker?.serverVersion,
      iotedged_version: facts.iotedgedVersion,
    });
    write(renderJson(records, additionalInfo, warningsAsErrors));
  }
  return tally(
    records.map((record) => record.result),
    warningsAsErrors,
  ).errors > 0
    ? 1
    : 0;
}
