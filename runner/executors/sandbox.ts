import { spawn } from 'node:child_process';
import { cp, mkdir, readFile, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { runTool } from '../process';
import { OUTPUT_LIMITS, type ExecutionRequest, type ExecutionResult, type Executor, type OutputFile } from './executor';

/**
 * bubblewrap on the unpacked image: no network (every namespace unshared, only loopback), a private
 * writable layer over the shared read-only rootfs, killed with its whole process tree on timeout or
 * cancel. For development and fast tests; it makes no benchmark-grade isolation claims.
 */
export function createSandboxExecutor(): Executor {
  return {
    name: 'sandbox',
    describe: () => ({ executor: 'sandbox', isolation: 'bubblewrap', network: 'none' }),
    run: runInSandbox,
  };
}

async function runInSandbox(req: ExecutionRequest): Promise<ExecutionResult> {
  const root = await writableRoot(req.rootfs, req.scratchDir);
  try {
    req.onPhase?.('running');
    const run = await runBwrap(root.path, req);
    req.onPhase?.('collecting');
    const collected = run.exitCode === null ? { files: [] } : await collectFiles(root.path, req.cwd, req.filePaths, run.stdout.length + run.stderr.length);
    return {
      ...run,
      files: collected.files,
      error: run.error ?? collected.error,
      metadata: { executor: 'sandbox', layer: root.kind },
    };
  } finally {
    await root.release();
  }
}

/** An overlay (root only, cheap) or else a full copy, so the job can write anywhere without touching the cache. */
async function writableRoot(rootfs: string, scratch: string) {
  const upper = join(scratch, 'upper');
  const work = join(scratch, 'work');
  const merged = join(scratch, 'merged');
  await Promise.all([upper, work, merged].map((d) => mkdir(d, { recursive: true })));
  try {
    await runTool('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${rootfs},upperdir=${upper},workdir=${work}`, merged]);
    return { kind: 'overlay', path: merged, release: () => runTool('umount', ['-l', merged]).then(() => undefined) };
  } catch {
    await cp(rootfs, merged, { recursive: true, verbatimSymlinks: true });
    return { kind: 'copy', path: merged, release: async () => undefined };
  }
}

interface CommandRun {
  exitCode: number | null;
  timedOut: boolean;
  canceled: boolean;
  stdout: Buffer;
  stderr: Buffer;
  durationMs: number;
  error?: string;
}

function runBwrap(root: string, req: ExecutionRequest): Promise<CommandRun> {
  const env = Object.entries(req.env).flatMap(([k, v]) => ['--setenv', k, v]);
  const args = [
    '--unshare-all', '--die-with-parent', '--new-session',
    '--bind', root, '/', '--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp',
    '--chdir', req.cwd, '--clearenv', ...env, '--', ...req.argv,
  ];
  return new Promise((resolvePromise) => {
    const started = process.hrtime.bigint();
    // Its own process group, so a kill reaches bwrap and everything under it.
    const child = spawn('bwrap', args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    const stdout = new CappedBuffer(OUTPUT_LIMITS.maxTotalBytes);
    const stderr = new CappedBuffer(OUTPUT_LIMITS.maxTotalBytes);
    child.stdout.on('data', (b: Buffer) => stdout.push(b));
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    let timedOut = false;
    let canceled = false;
    const kill = () => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, req.timeoutMs);
    const onAbort = () => {
      canceled = true;
      kill();
    };
    req.signal.addEventListener('abort', onAbort, { once: true });
    if (req.signal.aborted) onAbort();
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      req.signal.removeEventListener('abort', onAbort);
      const durationMs = Number(process.hrtime.bigint() - started) / 1e6;
      const err = stderr.buffer().toString();
      let error: string | undefined;
      const missing = /^bwrap: execvp (.*): No such file or directory$/m.exec(err);
      if (missing) error = `entrypoint not found in the image: ${missing[1]}`;
      else if (stdout.overflowed || stderr.overflowed) error = `output over the ${OUTPUT_LIMITS.maxTotalBytes / 1024 / 1024} MiB cap`;
      resolvePromise({
        exitCode: timedOut || canceled || signal ? null : code,
        timedOut,
        canceled,
        stdout: stdout.buffer(),
        stderr: stderr.buffer(),
        durationMs,
        error,
      });
    });
  });
}

class CappedBuffer {
  private chunks: Buffer[] = [];
  private size = 0;
  overflowed = false;
  constructor(private readonly cap: number) {}
  push(b: Buffer) {
    if (this.size + b.length > this.cap) {
      this.overflowed = true;
      b = b.subarray(0, this.cap - this.size);
    }
    this.chunks.push(b);
    this.size += b.length;
  }
  buffer() {
    return Buffer.concat(this.chunks);
  }
}

/** Reads the requested output files from the job's root, within the caps and never outside the root. */
async function collectFiles(root: string, cwd: string, paths: string[], alreadyUsed: number): Promise<{ files: OutputFile[]; error?: string }> {
  if (paths.length > OUTPUT_LIMITS.maxFiles) return { files: [], error: `${paths.length} output files requested; the cap is ${OUTPUT_LIMITS.maxFiles}` };
  const files: OutputFile[] = [];
  let total = alreadyUsed;
  for (const path of paths) {
    const inJob = isAbsolute(path) ? path : join(cwd, path);
    // realpath follows the job's symlinks on the host: one pointing at /etc/shadow must land outside the root and be refused.
    const onHost = await realpath(resolve(root, `.${resolve('/', inJob)}`)).catch(() => undefined);
    if (!onHost) return { files, error: `output file ${path} was not produced` };
    if (relative(root, onHost).startsWith('..')) return { files, error: `output file ${path} is outside the job's filesystem` };
    const info = await stat(onHost).catch(() => undefined);
    if (!info?.isFile()) return { files, error: `output file ${path} was not produced` };
    total += info.size;
    if (total > OUTPUT_LIMITS.maxTotalBytes) return { files, error: `output over the ${OUTPUT_LIMITS.maxTotalBytes / 1024 / 1024} MiB cap (at ${path})` };
    files.push({ path, content: await readFile(onHost) });
  }
  return { files };
}
