import { execFile } from 'node:child_process';
import type { HealthProbe } from '../types.js';
import type { RunAs } from './user-spec.js';

export interface ProbeContext {
  cwd: string;
  env: Record<string, string>;
  /** A command probe runs as the module's program does (settings.user). */
  runAs?: RunAs;
}

export interface ProbeResult {
  ok: boolean;
  /** What failed, for the module's statusDescription. */
  detail: string;
}

const lastLine = (text: string) => text.trim().split('\n').at(-1)?.slice(0, 200) ?? '';

function runCommand(
  probe: Extract<HealthProbe, { type: 'command' }>,
  context: ProbeContext,
): Promise<ProbeResult> {
  const timeoutMs = probe.timeoutSecs * 1000;
  return new Promise((resolve) => {
    execFile(
      probe.command,
      probe.args,
      {
        cwd: context.cwd,
        env: context.env,
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
        maxBuffer: 64 * 1024,
        ...(context.runAs ? { uid: context.runAs.uid, gid: context.runAs.gid } : {}),
      },
      (error, stdout, stderr) => {
        if (!error) return resolve({ ok: true, detail: '' });
        const failure = error as NodeJS.ErrnoException & { killed?: boolean; code?: number | string };
        const output = lastLine(String(stderr)) || lastLine(String(stdout));
        let detail: string;
        if (failure.killed) detail = `${probe.command} did not finish within ${probe.timeoutSecs} s`;
        else if (typeof failure.code === 'number') detail = `${probe.command} exited with ${failure.code}`;
        else detail = `${probe.command}: ${failure.code ?? failure.message}`;
        resolve({ ok: false, detail: output ? `${detail}: ${output}` : detail });
      },
    );
  });
}

async function runHttp(probe: Extract<HealthProbe, { type: 'http' }>): Promise<ProbeResult> {
  try {
    const response = await fetch(probe.url, { signal: AbortSignal.timeout(probe.timeoutSecs * 1000) });
    await response.body?.cancel();
    if (response.ok) return { ok: true, detail: '' };
    return { ok: false, detail: `GET ${probe.url} answered ${response.status}` };
  } catch (error) {
    const reason =
      (error as Error).name === 'TimeoutError' ? `no answer within ${probe.timeoutSecs} s` : causeOf(error);
    return { ok: false, detail: `GET ${probe.url}: ${reason}` };
  }
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  return cause?.code ?? cause?.message ?? (error as Error).message;
}

/** One probe: a command that must exit 0, or an HTTP GET that must answer 2xx, within timeoutSecs. */
export function runProbe(probe: HealthProbe, context: ProbeContext): Promise<ProbeResult> {
  return probe.type === 'command' ? runCommand(probe, context) : runHttp(probe);
}
