import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { waitFor } from '../devenv/wait';

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** Run as this user (a Postgres cluster as `postgres` when we are root). */
  uid?: number;
  gid?: number;
  /** True once the current incarnation serves; it may read the service's pid or output. */
  ready(service: Service): Promise<boolean>;
  readyTimeoutMs?: number;
}

/** How much of an incarnation's output is kept in memory for readiness checks (the log file has all of it). */
const OUTPUT_TAIL = 256 * 1024;

/**
 * One supervised OS process that can be SIGKILLed and started again. Each incarnation gets its own
 * process group, so a kill takes everything it forked (a postmaster's backends, a runner's tools),
 * as losing the process on a real host would; its output is appended to `<logDir>/<name>.log`.
 */
export class Service {
  private child?: ChildProcess;
  private exited = Promise.resolve();
  private out = '';
  private readonly log: WriteStream;
  private killing = false;
  private serving = false;
  /** Set by stop(): a restart still under way must not outlive the teardown. */
  private stopped = false;
  incarnations = 0;

  /** `onCrash` hears when a ready incarnation exits without being killed (a supervisor would restart it). */
  constructor(readonly spec: ServiceSpec, logDir: string, private readonly onCrash: (service: Service, how: string) => void = () => undefined) {
    this.log = createWriteStream(join(logDir, `${spec.name}.log`), { flags: 'a' });
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get logPath(): string {
    return this.log.path as string;
  }

  /** What the current incarnation printed (its last 256 KiB). */
  output(): string {
    return this.out;
  }

  /** Starts a new incarnation and resolves once it is ready; rejects at once if it exits first. */
  async start(): Promise<void> {
    if (this.stopped) throw new Error(`${this.name} was stopped for good`);
    this.incarnations += 1;
    this.killing = false;
    this.serving = false;
    this.out = '';
    this.log.write(`\n===== ${new Date().toISOString()} ${this.name}: start #${this.incarnations} =====\n`);
    const { command, args, env, uid, gid } = this.spec;
    const child = spawn(command, args, { env: { ...process.env, ...env }, uid, gid, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const record = (b: Buffer) => {
      this.log.write(b);
      this.out = (this.out + b.toString()).slice(-OUTPUT_TAIL);
    };
    child.stdout!.on('data', record);
    child.stderr!.on('data', record);
    let exitedEarly!: (err: Error) => void;
    const early = new Promise<never>((_, reject) => (exitedEarly = reject));
    early.catch(() => undefined);
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        const how = String(signal ?? code);
        this.log.write(`===== ${new Date().toISOString()} ${this.name}: exited (${how}) =====\n`);
        exitedEarly(new Error(`${this.name} exited (${how}) before it was ready; see ${this.logPath}`));
        if (this.serving && !this.killing) this.onCrash(this, how);
        resolve();
      }),
    );
    child.once('error', (err) => exitedEarly(err));
    const ready = waitFor(`${this.name} to be ready`, async () => (await this.spec.ready(this)) || undefined, this.spec.readyTimeoutMs ?? 120000, 250);
    try {
      await Promise.race([ready, early]);
    } catch (err) {
      await this.kill();
      throw err;
    }
    this.serving = true;
  }

  /** SIGKILLs the whole process group and resolves once it is gone. */
  async kill(): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    this.killing = true;
    signalGroup(child.pid, 'SIGKILL');
    await this.exited;
    // Grandchildren (backends, tools) die with the group; wait until none is left, but never hang on
    // a zombie nobody reaps.
    await waitFor(`${this.name}'s process group to end`, async () => !signalGroup(child.pid!, 0), 10000, 50).catch(() => undefined);
  }

  /** Stops for good (teardown): a kill, then the log is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.kill();
    await new Promise((resolve) => this.log.end(resolve));
  }
}

/** Sends `signal` to a process group; false when the group no longer exists. */
function signalGroup(pgid: number, signal: NodeJS.Signals | 0): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}
