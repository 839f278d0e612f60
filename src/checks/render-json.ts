import type { RunRecord } from './runner.js';
import { verdictOf } from './tally.js';

export interface CheckJson {
  result: 'ok' | 'warning' | 'ignored' | 'skipped' | 'fatal' | 'error';
  details?: string[];
  additional_info: Record<string, unknown>;
}

/** The JSON document of `iotedge check -o json`: checks keyed by id in alphabetical order. */
export function renderJson(
  records: readonly RunRecord[],
  additionalInfo: Record<string, unknown>,
  warningsAsErrors: boolean,
): string {
  const checks: Record<string, CheckJson> = {};
  for (const { id, result } of [...records].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))) {
    const verdict = verdictOf(result, warningsAsErrors);
    const entry: CheckJson = { result: verdict, additional_info: result.additionalInfo ?? {} };
    if ('message' in result) {
      checks[id] = {
        result: verdict,
        details: [result.message, ...(result.causes ?? [])],
        additional_info: entry.additional_info,
      };
    } else {
      checks[id] = entry;
    }
  }
  return JSON.stringify({ additional_info: additionalInfo, checks }) + '\n';
}
