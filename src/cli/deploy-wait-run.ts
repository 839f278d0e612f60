import { setTimeout as sleep } from 'node:timers/promises';
import { CliError } from './cli-error.js';
import { DeploymentWatch, progressLine, timeoutMessage, WAIT_EXIT, type WaitVerdict } from './deploy-wait.js';
import type { ManagementClient } from './management-client.js';
import { startProgress } from './progress.js';

/** How long a module must stay up before `deploy --wait` counts it as running. */
export const SETTLE_MS = 2000;
const POLL_MS = 500;

/**
 * Polls the agent's reported properties until the deployment's modules run or one fails, showing
 * progress (a spinner on a terminal, plain lines on stderr otherwise, nothing with --json).
 * Resolves to the last verdict and reported properties; throws a CliError (exit 3) on timeout.
 */
export async function waitForModules(
  client: ManagementClient,
  options: { timeoutSeconds: number; json: boolean; settleMs?: number },
): Promise<{ verdict: WaitVerdict; reported: Record<string, unknown> }> {
  const watch = new DeploymentWatch(options.settleMs ?? SETTLE_MS);
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const progress = await startProgress('Waiting for modules', { json: options.json, lines: true });
  let verdict: WaitVerdict | undefined;
  try {
    for (;;) {
      const reported = await client.deploymentStatus('$edgeAgent');
      verdict = watch.observe(reported, Date.now());
      if (verdict.outcome !== 'pending') return { verdict, reported };
      progress.update(progressLine(verdict));
      if (Date.now() >= deadline) {
        throw new CliError(timeoutMessage(verdict, options.timeoutSeconds), WAIT_EXIT.timeout);
      }
      await sleep(Math.min(POLL_MS, Math.max(0, deadline - Date.now())));
    }
  } finally {
    progress.stop();
  }
}
