import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { killGroup } from '../devenv/process-group';
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
    // Stops polling once the process is gone (`early` has rejected by then).
    const ready = waitFor(`${this.name} to be ready`, async () => (child.exitCode !== null || child.signalCode !== null ? 'gone' : (await this.spec.ready(this)) || undefined), this.spec.readyTimeoutMs ?? 120000, 250);
    ready.catch(() => undefined); // raced below; this keeps a late rejection from going unhandled
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
    await killGroup(child.pid);
    await this.exited;
  }

  /** Stops for good (teardown): a kill, then the log is closed. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.kill();
    await new Promise((resolve) => this.log.end(resolve));
  }
}
