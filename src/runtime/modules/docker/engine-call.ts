import { describeEngineFailure, isNotFound } from './docker-engine.js';
import { ModuleNotFoundError } from '../types.js';

/** The engine's own message in a dockerode error, without dockerode's "(HTTP code N) what - " decoration. */
export function engineMessage(error: unknown): string {
  const failure = error as { json?: unknown; reason?: unknown; message?: unknown } | null;
  const json = failure?.json as { message?: unknown } | string | null | undefined;
  if (json && typeof json === 'object' && typeof json.message === 'string') return json.message.trim();
  if (typeof json === 'string' && json.trim() !== '') return json.trim();
  if (typeof failure?.message === 'string')
    return failure.message.replace(/^\(HTTP code \d+\)\s*(?:[^-]* - )?/, '').trim();
  return String(error);
}

/** True when the engine answered (with an error status), as opposed to not being reachable at all. */
export const engineAnswered = (error: unknown): boolean =>
  typeof (error as { statusCode?: unknown } | null)?.statusCode === 'number';

/**
 * Runs one engine request and turns its failure into an error for users: the module is missing, the
 * engine refused (its message), or the engine is unreachable (naming the URI).
 */
export async function engineCall<T>(
  target: { uri: string; socketPath: string },
  what: string,
  moduleName: string | undefined,
  call: () => Promise<T>,
): Promise<T> {
  try {
    return await call();
  } catch (error) {
    if (moduleName !== undefined && isNotFound(error)) throw new ModuleNotFoundError(moduleName);
    if (engineAnswered(error)) throw new Error(`${what}: ${engineMessage(error)}`, { cause: error });
    if (error instanceof Error && error.name === 'AbortError') throw error;
    throw describeEngineFailure(target.uri, target.socketPath, error);
  }
}
