import { spawn } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';

/** One run of a local benchmark command: what it printed, the files it wrote, how long it took. */
export interface LocalIteration {
  stdout: string;
  files: Record<string, string>;
  /** Wall-clock seconds the command took (the `build-time` measure when asked for). */
  seconds: number;
}

export class CommandFailedError extends Error {}

export interface LocalRunOptions {
  /** Output files to read after the command, relative to `cwd`. */
  filePaths?: string[];
  cwd?: string;
  /** Where the command's stdout is echoed while it runs (it is captured either way). */
  echo?: NodeJS.WritableStream;
  env?: NodeJS.ProcessEnv;
}

/**
 * Runs the command as a child process: argv as given, or one string through `sh -c` (so
 * `benchline run "cargo bench | tee out.txt"` works as it reads). stdout is captured, stderr passes
 * through. A command that cannot start, exits non-zero or is killed fails the run.
 */
export async function runLocally(cmd: string[], o: LocalRunOptions = {}): Promise<LocalIteration> {
  if (cmd.length === 0) throw new CommandFailedError('no command to run');
  const argv = cmd.length === 1 && /\s/.test(cmd[0]) ? ['sh', '-c', cmd[0]] : cmd;
  const started = process.hrtime.bigint();
  const chunks: Buffer[] = [];
  const { code, signal } = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((done, fail) => {
    const child = spawn(argv[0], argv.slice(1), { cwd: o.cwd, env: o.env ?? process.env, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      o.echo?.write(chunk);
    });
    child.once('error', (err) => fail(new CommandFailedError(`could not run ${argv[0]}: ${err.message}`)));
    child.once('close', (c, s) => done({ code: c, signal: s }));
  });
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (signal) throw new CommandFailedError(`the command was killed by ${signal}`);
  if (code !== 0) throw new CommandFailedError(`the command exited with code ${code}`);
  const files: Record<string, string> = {};
  for (const path of o.filePaths ?? []) {
    try {
      files[path] = await readFile(resolve(o.cwd ?? '.', path), 'utf8');
    } catch (err) {
      throw new CommandFailedError(`output file ${path} was not produced: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return { stdout: Buffer.concat(chunks).toString('utf8'), files, seconds };
}

/** Sizes in bytes of the files `--file-size` names, after the last iteration. */
export async function fileSizes(paths: string[], cwd = '.'): Promise<Record<string, number>> {
  const sizes: Record<string, number> = {};
  for (const path of paths) {
    try {
      sizes[path] = (await stat(resolve(cwd, path))).size;
    } catch (err) {
      throw new CommandFailedError(`--file-size ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
  }
  return sizes;
}
