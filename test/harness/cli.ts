import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(__dirname, '..', '..', 'bin', 'benchline');

/** `bin/benchline` as CI runs it: a child process, with `env` added to this one's (and `stdin` as its input); its exit code and output. */
export function runCli(args: string[], options: { cwd?: string; env?: Record<string, string>; stdin?: string } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(BIN, args, { cwd: options.cwd, env: { ...process.env, ...options.env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    if (options.stdin !== undefined) child.stdin.end(options.stdin);
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** `bin/benchline` started and left running, for tests that signal it: its output so far, and how it exits. */
export function startCli(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}) {
  const child = spawn(BIN, args, { cwd: options.cwd, env: { ...process.env, ...options.env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return { child, exited, output: () => stdout + stderr };
}
