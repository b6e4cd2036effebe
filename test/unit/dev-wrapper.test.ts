import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../devenv/wait';
import { processAlive } from '../harness/processes';

const ROOT = join(__dirname, '..', '..');

/**
 * `npm run dev` stopped by a signal while it provisions (on a fresh machine that is minutes of
 * apt-get, pip and npm ci): npm hands the signal to its child alone, so the wrapper must stop the
 * bootstrap's whole process tree. The real wrapper and npm script run here around a stand-in
 * bootstrap that starts a grandchild and waits, so the signal always lands mid-bootstrap; the
 * real bootstrap on a provisioned machine is over in a fifth of a second.
 */
describe('npm run dev during the bootstrap', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'dev-wrapper-'));
    mkdirSync(join(dir, 'scripts'));
    copyFileSync(join(ROOT, 'scripts', 'dev.sh'), join(dir, 'scripts', 'dev.sh'));
    const { scripts } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'dev-wrapper', private: true, scripts: { dev: scripts.dev } }));
    // A provisioning step with a child of its own (as apt-get or npm ci would have); never finishes.
    writeFileSync(join(dir, 'scripts', 'bootstrap.sh'), 'sleep 300 & echo $! > bootstrap-child.pid; echo $$ > bootstrap.pid; wait\n');
    writeFileSync(join(dir, 'scripts', 'dev.ts'), 'require("node:fs").writeFileSync("dev-ts-ran", "")\n');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it.each(['SIGTERM', 'SIGINT'] as const)('%s to npm stops the bootstrap and what it started; nothing after it runs; exit 0', async (signal) => {
    const npm = spawn('npm', ['run', 'dev'], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    npm.stdout.on('data', (d) => (output += d));
    npm.stderr.on('data', (d) => (output += d));
    const exited = new Promise<number | null>((resolve) => npm.once('exit', (code) => resolve(code)));
    const pids = await waitFor('the bootstrap to start its child', async () => {
      const files = ['bootstrap.pid', 'bootstrap-child.pid'].map((f) => join(dir, f));
      return files.every((f) => existsSync(f) && readFileSync(f, 'utf8').trim()) ? files.map((f) => Number(readFileSync(f, 'utf8'))) : undefined;
    }, 10000, 50);
    npm.kill(signal);
    expect(await exited).toBe(0);
    expect(output).toContain('[dev] stopped during the bootstrap');
    await waitFor('the bootstrap and its child to be gone', async () => pids.every((pid) => !processAlive(pid)) || undefined, 10000, 50);
    expect(existsSync(join(dir, 'dev-ts-ran'))).toBe(false);
  });
});
