import { renderJson } from './render-json.js';
import { NO_PAINT, TextReport } from './render-text.js';
import type { RunOptions } from './runner.js';
import { additionalInfoOf, runCheckSet } from './service.js';
import type { CheckDefinition, CheckInputs } from './types.js';

export interface CheckReports {
  /** As `iotedge check --verbose` prints it, without colour. */
  text: string;
  /** As `iotedge check -o json` prints it. */
  json: string;
}

/**
 * Runs the checks once and renders both reports (the support bundle holds the two). Checks that
 * need the diagnostics image are left out (reported as ignored) when `withoutDiagnosticsImage`:
 * building that image can take minutes.
 */
export async function checkReports(options: {
  inputs: CheckInputs;
  checks: readonly CheckDefinition[];
  resources?: RunOptions['resources'];
  withoutDiagnosticsImage: boolean;
}): Promise<CheckReports> {
  const { inputs, checks } = options;
  let text = '';
  const report = new TextReport({
    verbose: true,
    warningsAsErrors: false,
    paint: NO_PAINT,
    write: (part) => (text += part),
  });
  const dontRun = new Set(
    options.withoutDiagnosticsImage
      ? checks.filter((check) => check.needs?.includes('diagnosticsImage')).map((check) => check.id)
      : [],
  );
  const { records, facts } = await runCheckSet({
    checks,
    inputs,
    dontRun,
    resources: options.resources,
    onResult: (check, result) => report.add(check, result),
  });
  report.finish();
  const additionalInfo = await additionalInfoOf(facts);
  return { text, json: renderJson(records, additionalInfo, false) };
}
