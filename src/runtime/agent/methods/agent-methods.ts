import type { LogLine, LogOptions } from '../../modules/types.js';
import {
  AgentMethodError,
  agentMethod,
  logsAnswer,
  modulesToRead,
  parseLogsRequest,
  parseRestartRequest,
  parseTaskStatusRequest,
  renderLogs,
  selectLines,
  unknownTaskStatus,
  uploadRefused,
  type LogsSource,
} from './agent-method-requests.js';

/** What the agent's methods act on: the modules there are (edgeAgent and edgeHub among them), restarts, logs. */
export interface AgentMethodTarget {
  moduleNames(): Promise<string[]>;
  restartModule(name: string): Promise<void>;
  moduleLogs(name: string, options: LogOptions, signal: AbortSignal): Promise<AsyncIterable<LogLine>>;
}

/** A direct method's answer. */
export interface AgentMethodAnswer {
  status: number;
  payload: unknown;
}

export interface AgentMethodOptions {
  target: AgentMethodTarget;
  source: LogsSource;
  log(line: string): void;
  now?: () => Date;
}

async function collect(lines: AsyncIterable<LogLine>): Promise<LogLine[]> {
  const all: LogLine[] = [];
  for await (const line of lines) all.push(line);
  return all;
}

/**
 * The direct methods of `$edgeAgent`, as IoT Edge's edgeAgent answers them: 200 with the method's
 * answer (none for ping and RestartModule), 400 with `{"message"}` for a payload it cannot take or
 * an unknown method, 500 when the work failed (a module not found to restart, as IoT Edge has it).
 */
export function agentMethodHandler(
  options: AgentMethodOptions,
): (methodName: string, payload: unknown) => Promise<AgentMethodAnswer> {
  const now = options.now ?? (() => new Date());
  const { target } = options;

  const restart = async (payload: unknown): Promise<null> => {
    const { id } = parseRestartRequest(payload);
    if (!(await target.moduleNames()).includes(id))
      throw new AgentMethodError(500, `Module ${id} not found in the current environment`);
    options.log(`agent: restarting ${id} (direct method RestartModule)`);
    await target.restartModule(id);
    return null;
  };

  const logs = async (payload: unknown) => {
    const request = parseLogsRequest(payload, now());
    const modules = modulesToRead(request, await target.moduleNames());
    const signal = new AbortController().signal;
    const read = await Promise.all(
      modules.map(async ({ id, filter }) => {
        const lines = await collect(
          await target.moduleLogs(
            id,
            { tail: filter.tail, since: filter.since, until: filter.until },
            signal,
          ),
        );
        return {
          id,
          content: renderLogs(id, selectLines(lines, filter), request.contentType, options.source),
        };
      }),
    );
    return logsAnswer(read, request.encoding);
  };

  return async (methodName, payload) => {
    try {
      const method = agentMethod(methodName);
      switch (method) {
        case 'ping':
          return { status: 200, payload: null };
        case 'RestartModule':
          return { status: 200, payload: await restart(payload) };
        case 'GetModuleLogs':
          return { status: 200, payload: await logs(payload) };
        case 'GetTaskStatus':
          return { status: 200, payload: unknownTaskStatus(parseTaskStatusRequest(payload).correlationId) };
        case 'UploadModuleLogs':
        case 'UploadSupportBundle':
          throw uploadRefused(method);
      }
    } catch (error) {
      const status = error instanceof AgentMethodError ? error.status : 500;
      const message = (error as Error).message;
      options.log(`agent: direct method ${methodName} answered ${status}: ${message}`);
      return { status, payload: { message } };
    }
  };
}
