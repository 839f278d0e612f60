import { DEFAULT_TUNING, type AgentTuning } from './restart-policy.js';

function positiveNumber(env: Record<string, string>, name: string): number | undefined {
  const raw = env[name];
  if (raw === undefined || raw === '') return undefined;
  const value = Number(raw);
  if (!Number.isFinite(value) || value <= 0) {
    throw new Error(`agent.env.${name}: "${raw}" is not a positive number`);
  }
  return value;
}

/**
 * Restart tuning from the agent's environment in config.yaml, under IoT Edge's names:
 * CoolOffTimeUnitInSeconds, MaxRestartCount (absent: never give up), IntensiveCareTimeInMinutes,
 * and our MaxCoolOffTimeInSeconds (default 300).
 */
export function tuningFromEnv(env: Record<string, string>): AgentTuning {
  const coolOff = positiveNumber(env, 'CoolOffTimeUnitInSeconds');
  const maxCoolOff = positiveNumber(env, 'MaxCoolOffTimeInSeconds');
  const intensiveCare = positiveNumber(env, 'IntensiveCareTimeInMinutes');
  const maxRestarts = positiveNumber(env, 'MaxRestartCount');
  return {
    ...DEFAULT_TUNING,
    ...(coolOff !== undefined ? { coolOffUnitMs: coolOff * 1000 } : {}),
    ...(maxCoolOff !== undefined ? { maxBackoffMs: maxCoolOff * 1000 } : {}),
    ...(intensiveCare !== undefined ? { intensiveCareMs: intensiveCare * 60_000 } : {}),
    ...(maxRestarts !== undefined ? { maxRestartCount: Math.floor(maxRestarts) } : {}),
  };
}
