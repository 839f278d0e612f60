import type {
  LogLine,
  ModuleEvent,
  ModuleRuntime,
  ModuleSpec,
  ModuleState,
} from '../../src/runtime/modules/types.js';

/**
 * A module runtime held in memory: modules are records whose status the calls change, so that the
 * agent can be driven in-process. `failing` makes a module's create, start or stop fail with a
 * message; `down` makes list() fail as an engine that cannot be reached does.
 */
export class FakeRuntime implements ModuleRuntime {
  readonly modules = new Map<string, ModuleState>();
  /** Every call in order, `create a`, `start a`, `stop a`, `remove a`. */
  readonly calls: string[] = [];
  /** Module name to the message its next calls fail with (until it is deleted from here). */
  readonly failing = new Map<string, string>();
  down: string | undefined;
  private readonly listeners: ((event: ModuleEvent) => void)[] = [];

  constructor(private readonly type: ModuleSpec['type'] = 'process') {}

  async list(): Promise<ModuleState[]> {
    if (this.down) throw new Error(this.down);
    return [...this.modules.values()].map((state) => ({ ...state }));
  }

  async create(spec: ModuleSpec): Promise<void> {
    this.call('create', spec.name);
    if (this.modules.has(spec.name)) throw new Error(`${spec.name} exists`);
    this.modules.set(spec.name, {
      name: spec.name,
      type: this.type,
      status: 'stopped',
      configHash: spec.configHash,
    });
  }

  async start(name: string): Promise<void> {
    const state = this.module(this.call('start', name));
    Object.assign(state, { status: 'running', startTime: new Date(), stopRequested: false });
    this.emit({ name, kind: 'started' });
  }

  async stop(name: string): Promise<void> {
    const state = this.module(this.call('stop', name));
    if (state.status !== 'running') return;
    Object.assign(state, { status: 'stopped', exitCode: 0, exitTime: new Date(), stopRequested: true });
    this.emit({ name, kind: 'exited' });
  }

  async remove(name: string): Promise<void> {
    this.module(this.call('remove', name));
    this.modules.delete(name);
  }

  async *logs(): AsyncIterable<LogLine> {
    // keeps no logs
  }

  onEvent(listener: (event: ModuleEvent) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.listeners.length = 0;
  }

  /** The modules whose status is running. */
  running(): string[] {
    return [...this.modules.values()]
      .filter((state) => state.status === 'running')
      .map((state) => state.name);
  }

  private call(kind: string, name: string): string {
    this.calls.push(`${kind} ${name}`);
    const message = this.failing.get(name);
    if (message !== undefined) throw new Error(message);
    return name;
  }

  private module(name: string): ModuleState {
    const state = this.modules.get(name);
    if (!state) throw new Error(`no module ${name}`);
    return state;
  }

  private emit(event: ModuleEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
