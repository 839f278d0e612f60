import { runDiagnostics, type DiagnosticsRunResult } from '../support/run-diagnostics.js';
import type { CheckDefinition } from '../types.js';
import { errorChain, failed, ok } from '../types.js';
import { containerFailure } from './common.js';

const MAX_DRIFT_SECONDS = 10;

const duration = (seconds: number) => ({ secs: Math.floor(seconds), nanos: Math.round((seconds % 1) * 1e9) });

export const containerLocalTimeCheck: CheckDefinition = {
  id: 'container-local-time',
  needs: ['docker', 'diagnosticsImage'],
  run: async (ctx) => {
    // The clock is the kernel's, whatever the network: no network spares a dependency on the engine's bridge.
    let result: DiagnosticsRunResult;
    try {
      result = await runDiagnostics(ctx.fact('docker'), ctx.fact('diagnosticsImage'), ['local-time'], {
        network: 'none',
        signal: ctx.signal,
      });
    } catch (error) {
      return failed('Could not query local time inside container', errorChain(error));
    }
    if (result.exitCode !== 0) {
      const { reason, causes } = containerFailure(result);
      return failed('Could not query local time inside container', [reason, ...causes]);
    }
    const output = result.stdout.trim();
    if (!/^\d+$/.test(output)) {
      return failed('Could not parse container output', [
        `expected epoch seconds, got ${JSON.stringify(output)}`,
      ]);
    }
    const containerSeconds = Number(output);
    const hostSeconds = Date.now() / 1000;
    const diff = Math.floor(Math.abs(hostSeconds - containerSeconds));
    const info = {
      expected_duration: duration(hostSeconds),
      actual_duration: duration(containerSeconds),
      diff,
    };
    if (diff >= MAX_DRIFT_SECONDS) return failed('Detected time drift between host and container', [], info);
    return ok(info);
  },
};
