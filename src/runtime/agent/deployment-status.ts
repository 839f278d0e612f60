import type { DeploymentError } from '../deployment/deployment-error.js';

/**
 * The agent's `lastDesiredStatus`: how the last deployment it was given fares. IoT Edge's codes
 * and their meaning, one variant each:
 * - 200: the deployment was accepted and every step of the last reconcile succeeded;
 * - 500: the deployment was accepted but a step failed (a command, an image pull) or a runtime
 *   holding its modules cannot be reached; it becomes 200 again once a reconcile succeeds;
 * - 400, 412, 417: the last deployment was rejected (malformed, unsupported schema version, empty)
 *   and the previous one goes on running; the code stays until another deployment is accepted;
 * - 406: the agent is not running (it is shutting down), the answer to a deployment sent then.
 */
export type DeploymentStatus =
  | { code: 200; description: '' }
  | { code: 500; description: string }
  | { code: RejectionCode; description: string }
  | { code: 406; description: string };

export type RejectionCode = 400 | 412 | 417;

/** What a reconcile of the accepted deployment met. */
export interface ReconcileOutcome {
  /** Steps that failed, one line each (`create worker: …`, a failed pull's message). */
  problems: readonly string[];
  /** Modules left alone because their runtime cannot be reached, with why (`docker runtime: …`). */
  blocked: readonly { module: string; reason: string }[];
}

export const APPLIED: DeploymentStatus = { code: 200, description: '' };

/** The answer to a deployment sent while the agent is not running. */
export const NOT_RUNNING: DeploymentStatus = { code: 406, description: 'Agent is not running' };

/** A new deployment was accepted: 200 until a reconcile says otherwise. */
export function accepted(): DeploymentStatus {
  return APPLIED;
}

/**
 * A deployment was refused with the error's code. A 500 or a 406 in an error is no rejection that
 * stays: the next reconcile decides again, as after a failed step.
 */
export function rejected(error: DeploymentError): DeploymentStatus {
  return { code: error.code, description: error.message };
}

/**
 * The status after a reconcile of the accepted deployment: 500 naming what failed, 200 when
 * nothing did; a rejection stays. A runtime that cannot be reached is reported in any case, even
 * over a rejection (which is then not restored when the runtime answers again).
 */
export function reconciled(status: DeploymentStatus, outcome: ReconcileOutcome): DeploymentStatus {
  if (outcome.blocked.length > 0) {
    const reasons = [...new Set(outcome.blocked.map((entry) => entry.reason))];
    const modules = outcome.blocked.map((entry) => entry.module);
    return { code: 500, description: `cannot reach ${reasons.join('; ')} (modules ${modules.join(', ')})` };
  }
  if (status.code !== 200 && status.code !== 500) return status;
  return outcome.problems.length > 0 ? { code: 500, description: outcome.problems.join('; ') } : APPLIED;
}
