import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { connect, migrateLatest } from '../../db/connection';
import { createSpec } from '../../db/seed';
import { ROOT } from '../../devenv/paths';
import { listeningInodes } from '../../devenv/ports';
import { dropDatabase, ensureDatabase } from '../../devenv/postgres';
import { freePort, waitFor } from '../../devenv/wait';

/**
 * `npm run dev` as a developer runs it, on ports, a data directory, a database and a runner name of
 * its own (a developer's dev stack on the defaults is never touched).
 */
describe('npm run dev', () => {
  const adminUrl = Object.assign(new URL(process.env.DATABASE_URL!), { pathname: '/postgres' }).toString();
  const databases: string[] = [];
  afterAll(async () => {
    for (const name of databases) await dropDatabase(adminUrl, name);
  });

  async function devEnv(): Promise<{ env: NodeJS.ProcessEnv; dataDir: string; apiPort: number; ports: number[]; databaseUrl: string }> {
    const id = randomBytes(4).toString('hex');
    const dataDir = await mkdtemp(join(process.env.BENCHLINE_TEST_SCRATCH!, 'dev-'));
    const name = `benchline_dev_${id}`;
    databases.push(name);
    const databaseUrl = await ensureDatabase(adminUrl, name);
    const [apiPort, temporalPort, uiPort, registryPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const env = {
      ...process.env,
      BENCHLINE_DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      BENCHLINE_API_PORT: String(apiPort),
      TEMPORAL_PORT: String(temporalPort),
      TEMPORAL_UI_PORT: String(uiPort),
      REGISTRY_PORT: String(registryPort),
      BENCHLINE_DEMO_RUNNER: `dev-${id}`,
      // Not the test run's key: dev makes its own on a first run (and keeps it in the data directory).
      BENCHLINE_SECRETS_KEY: undefined,
    };
    return { env, dataDir, apiPort, ports: [apiPort, temporalPort, uiPort, registryPort], databaseUrl };
  }

  /** Live processes started for this data directory: everything dev started inherits it in its environment. */
  function processesOf(dataDir: string): { pid: number; command: string }[] {
    const marker = `BENCHLINE_DATA_DIR=${dataDir}\0`;
    const found: { pid: number; command: string }[] = [];
    for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // reaped by nobody in a container, runs nothing
        if (!readFileSync(`/proc/${pid}/environ`, 'utf8').includes(marker)) continue;
        found.push({ pid: Number(pid), command: readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim() });
      } catch {
        // exited meanwhile
      }
    }
    return found;
  }

  /**
   * The child's output so far, its exit code, and `seen(text)`: resolves the moment `text` appears
   * (on the data event itself, not a poll: the signal tests aim at a step that lasts milliseconds).
   */
  function collect(child: ChildProcess): { output: () => string; exited: Promise<number | null>; seen: (text: string) => Promise<void> } {
    let output = '';
    const waiters: { text: string; resolve: () => void }[] = [];
    const append = (b: Buffer) => {
      output += b;
      for (const w of waiters.filter((w) => output.includes(w.text))) (waiters.splice(waiters.indexOf(w), 1), w.resolve());
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const seen = (text: string) =>
      output.includes(text)
        ? Promise.resolve()
        : Promise.race([
            new Promise<void>((resolve) => waiters.push({ text, resolve })),
            exited.then((code) => Promise.reject(new Error(`exited (${code}) before printing ${JSON.stringify(text)}: ${output}`))),
          ]);
    return { output: () => output, exited, seen };
  }

  /** No process dev started is alive, and none of its ports (`ports`) has a listener left. */
  async function expectNothingLeft(dataDir: string, ports: number[] = []): Promise<void> {
    const listening = () => ports.filter((port) => ['/proc/net/tcp', '/proc/net/tcp6'].some((t) => listeningInodes(readFileSync(t, 'utf8'), port).length > 0));
    await waitFor('every process dev started to be gone', async () => (processesOf(dataDir).length === 0 && listening().length === 0) || undefined, 20000).catch(() => undefined);
    expect(processesOf(dataDir)).toEqual([]);
    expect(listening()).toEqual([]);
  }

  /**
   * `act` drives a dev run until it sends the stop; then the run must exit 0, say which signal
   * stopped it and leave nothing behind. Whatever happens, nothing of the run outlives the test.
   */
  async function expectStopped(signal: 'SIGINT' | 'SIGTERM', dev: ReturnType<typeof collect>, dataDir: string, ports: number[], act: () => Promise<void>) {
    try {
      await act();
      expect(await dev.exited).toBe(0);
      expect(dev.output()).toContain(`${signal}: stopping everything this run started`);
      await expectNothingLeft(dataDir, ports);
    } finally {
      for (const { pid } of processesOf(dataDir)) process.kill(pid, 'SIGKILL');
    }
  }

  it('Ctrl-C in a terminal after the demo stops every process it started; the demo names its spec', async () => {
    const { env, dataDir, ports, databaseUrl } = await devEnv();
    // A server default no runner serves: a demo that relied on the default would be refused or stranded.
    const db = connect(databaseUrl);
    await migrateLatest(db);
    await createSpec(db, { slug: 'unserved-default', isDefault: true });
    await db.destroy();

    // A pseudo-terminal: Ctrl-C signals the whole foreground group (npm, its shell, dev) at once.
    // `exec`: with SHELL unset (as in CI) script runs dash, which would stay between it and npm and,
    // after npm exits 0, kill itself with the SIGINT it received (bash exits 0): the status would be
    // the terminal shell's, not dev's.
    const terminal = spawn('script', ['-qfec', 'exec npm run dev', '/dev/null'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const dev = collect(terminal);
    await expectStopped('SIGINT', dev, dataDir, ports, async () => {
      await waitFor('the demo to finish', async () => {
        if (terminal.exitCode !== null) throw new Error(`npm run dev exited: ${dev.output()}`);
        return dev.output().includes('Running. Ctrl-C stops everything.') || undefined;
      }, 170000, 250);
      expect(dev.output()).toContain('--spec demo');
      // A first run: the sealing key the api and orchestrator started with was made here and kept, owner-only.
      const keyFile = join(dataDir, 'secrets.key');
      expect(dev.output()).toContain(`secrets sealed with the key from ${keyFile} (new)`);
      expect(readFileSync(keyFile, 'utf8')).toMatch(/^[A-Za-z0-9+/]{43}=\n$/);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(dev.output()).toContain(`processed (runner ${env.BENCHLINE_DEMO_RUNNER})`);
      // The console URL it prints opens the demo's plot, with the history runs and the shown run on it.
      const consoleUrl = /Console\s+(http:\S+\/perf\?\S+)/.exec(dev.output())?.[1];
      expect(consoleUrl).toBeDefined();
      const plotQuery = new URL(consoleUrl!);
      const perf = await fetch(`http://127.0.0.1:${env.BENCHLINE_API_PORT}/v0${plotQuery.pathname}${plotQuery.search}`);
      expect(perf.status).toBe(200);
      const plot = (await perf.json()) as { series: { benchmark: string; total_points: number }[] };
      expect(plot.series).toEqual([expect.objectContaining({ benchmark: 'sha256/1MiB', total_points: 4 })]);
      const running = processesOf(dataDir).map((p) => p.command).join('\n');
      for (const part of ['scripts/dev.ts', 'api/main.ts', 'orchestrator/main.ts', 'runner/main.ts', 'server start-dev', 'docker-registry serve']) expect(running).toContain(part);

      terminal.stdin!.write('\x03');
    });
  }, 210000);

  it('SIGTERM to npm without a terminal, while the api starts, stops everything started so far; exit 0', async () => {
    const { env, dataDir, ports } = await devEnv();
    // As a supervisor or `kill <pid>` would: the signal reaches npm alone, which passes it on to dev.
    const npm = spawn('npm', ['run', 'dev'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const dev = collect(npm);
    await expectStopped('SIGTERM', dev, dataDir, ports, async () => {
      // The api is spawned right after this line, and takes seconds to be ready: the signal lands while
      // it starts, with Temporal and the registry up and the orchestrator and runner not yet spawned.
      await dev.seen('api on http');
      await waitFor('the api process', async () => processesOf(dataDir).some((p) => p.command.includes('api/main.ts')) || undefined, 10000, 20);
      npm.kill('SIGTERM');
    });
    expect(dev.output()).not.toContain('Demo benchmark image');
  }, 150000);

  it('Ctrl-C pressed twice, 100 ms apart, in a terminal while the registry starts stops everything started so far', async () => {
    const { env, dataDir, ports } = await devEnv();
    // A pseudo-terminal, as in the first test: each Ctrl-C signals npm, its shell and dev at once, and npm relays each.
    const terminal = spawn('script', ['-qfec', 'exec npm run dev', '/dev/null'], { cwd: ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] });
    const dev = collect(terminal);
    await expectStopped('SIGINT', dev, dataDir, ports, async () => {
      // The registry is spawned right after this line, with Temporal's server just up.
      await dev.seen('OCI registry on');
      terminal.stdin!.write('\x03');
      // The impatient second press the requirement names, not a wait for some state.
      await new Promise((resolve) => setTimeout(resolve, 100));
      terminal.stdin!.write('\x03');
    });
  }, 150000);

  it('a held port is refused, naming the port and its holder, before anything starts', async () => {
    const { env, dataDir, apiPort } = await devEnv();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(apiPort, '127.0.0.1', resolve));
    try {
      const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'scripts/dev.ts', '--once'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
      const dev = collect(child);
      expect(await dev.exited).toBe(1);
      expect(dev.output()).toContain(`port ${apiPort} (api) is in use by pid ${process.pid} (`);
      expect(dev.output()).toContain('or set BENCHLINE_API_PORT to another port');
      expect(dev.output()).not.toContain('Postgres');
      expect(processesOf(dataDir)).toEqual([]);
    } finally {
      holder.close();
    }
  });

  it('a child that dies takes the rest down, and dev exits non-zero', async () => {
    const { env, dataDir } = await devEnv();
    const child = spawn(process.execPath, ['--require', 'tsx/cjs', 'scripts/dev.ts'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const dev = collect(child);
    try {
      const api = await waitFor('the api process', async () => {
        if (child.exitCode !== null) throw new Error(`dev exited: ${dev.output()}`);
        return processesOf(dataDir).find((p) => p.command.includes('api/main.ts'));
      }, 60000, 250);
      process.kill(api.pid, 'SIGKILL');
      expect(await dev.exited).toBe(1);
      expect(dev.output()).toContain('api exited (SIGKILL)');
      await expectNothingLeft(dataDir);
    } finally {
      for (const { pid } of processesOf(dataDir)) process.kill(pid, 'SIGKILL');
    }
  }, 90000);
});
