import { isTerminal } from '../common/contracts';
import type { JobView, ReportView } from '../common/schemas';
import { ApiError, BenchlineClient } from './client';
import { EXIT, interruptedExit } from './exit';
import { alertCount, renderReport, type Format } from './render';

/** How `run` (after submitting) and `job wait` follow a job and print its end: one code for both. */
export interface AttachOptions {
  apiUrl: string;
  format: Format;
  /** Exit 1 when an alert fires. */
  err?: boolean;
  /** Print the job's stdout and stderr once it has ended. */
  showOutput?: boolean;
  /** On SIGINT/SIGTERM, leave the job running instead of canceling it. */
  keepOnInterrupt?: boolean;
  pollInterval: number;
}

/** Progress lines: on stdout for people, on stderr when stdout carries a machine-readable report. */
export const progressFor = (format: Format) => (format === 'human' ? (s: string) => console.log(s) : (s: string) => console.error(s));

const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/**
 * SIGINT (Ctrl-C) and SIGTERM (what CI sends a canceled step) while a job is followed: the first is
 * remembered and wakes the poll at once; a second one exits without waiting any longer. Installed
 * before the job is submitted, so a signal in between still cancels the job.
 */
export class Interrupts {
  signal?: NodeJS.Signals;
  private wake?: () => void;
  private readonly handler = (signal: NodeJS.Signals) => {
    if (this.signal) {
      console.error(`benchline: ${signal} again: exiting without waiting for the job to settle`);
      process.exit(interruptedExit(signal));
    }
    this.signal = signal;
    this.wake?.();
  };

  constructor() {
    for (const s of SIGNALS) process.on(s, this.handler);
  }

  /** Waits `ms`, or less when the first signal comes. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.wake = done;
    });
  }

  dispose(): void {
    for (const s of SIGNALS) process.off(s, this.handler);
  }
}

/** The command that re-attaches to a job, as `--detach` and `--keep-on-interrupt` print it. */
export const waitCommand = (project: string, job: string) => `benchline job wait ${job} --project ${project}`;

/**
 * Follows the job until it ends, printing each status it passes through; cancels it on the first
 * interrupt (unless --keep-on-interrupt) and waits for the cancel to land. Then prints its output
 * (--show-output), why it did not process, or its report. Returns the exit code.
 */
export async function attach(client: BenchlineClient, project: string, jobId: string, o: AttachOptions, interrupts: Interrupts): Promise<number> {
  const say = progressFor(o.format);
  try {
    const job = await follow(client, project, jobId, o, interrupts, say);
    if (o.showOutput) await showOutput(client, project, job, say);
    if (interrupts.signal) {
      if (job) console.error(`benchline: ${interrupts.signal}: job ${jobId} ended ${job.status}`);
      return interruptedExit(interrupts.signal);
    }
    if (job!.status !== 'processed') {
      console.error(`\nJob ${job!.status}: ${job!.error ?? 'no reason recorded'}`);
      if (!o.showOutput) {
        const stderr = (await client.outputText(project, jobId, 'stderr')).trimEnd();
        if (stderr) console.error(`--- stderr (last lines) ---\n${stderr.split('\n').slice(-20).join('\n')}`);
      }
      return EXIT.failed;
    }
    return printReport(await client.report(project, job!.report), o);
  } finally {
    interrupts.dispose();
  }
}

/** The report as --format asks; exit 1 for an alert when --err. */
export function printReport(report: ReportView, o: Pick<AttachOptions, 'format' | 'err'> & { apiUrl: string }): number {
  const color = o.format === 'human' && process.stdout.isTTY === true && !process.env.NO_COLOR;
  if (o.format === 'human') console.log('');
  // The console is served by the api: its URL is the API's (the Markdown links to the plot and the report).
  console.log(renderReport(report, o.format, { color, consoleUrl: o.apiUrl.replace(/\/$/, '') }));
  const alerts = alertCount(report);
  if (o.err && alerts > 0) {
    console.error(`benchline: ${alerts} alert${alerts === 1 ? '' : 's'} (--err)`);
    return EXIT.alert;
  }
  return EXIT.ok;
}

/**
 * Polls the job until it is terminal. After an interrupt: with --keep-on-interrupt returns
 * undefined at once (the job goes on); else asks for the cancel and goes on polling until it lands.
 */
async function follow(client: BenchlineClient, project: string, jobId: string, o: AttachOptions, interrupts: Interrupts, say: (s: string) => void): Promise<JobView | undefined> {
  let last = '';
  let canceling = false;
  for (;;) {
    if (interrupts.signal && !canceling) {
      if (o.keepOnInterrupt) {
        console.error(`benchline: ${interrupts.signal}: job ${jobId} is left running (--keep-on-interrupt); follow it again with: ${waitCommand(project, jobId)}`);
        return undefined;
      }
      console.error(`benchline: ${interrupts.signal}: canceling job ${jobId} (a second signal exits without waiting)`);
      canceling = true;
      await client.cancelJob(project, jobId).catch((err) => {
        // 409: the job ended (or is ending) on its own meanwhile; the poll below sees how.
        if (!(err instanceof ApiError && err.status === 409)) throw err;
      });
    }
    const job = await client.job(project, jobId);
    const line = job.runner && job.status !== 'pending' ? `${job.status} (runner ${job.runner})` : job.status;
    if (line !== last) {
      say(`  ${new Date().toISOString().slice(11, 19)}  ${line}`);
      last = line;
    }
    if (isTerminal(job.status)) return job;
    // A signal that came during the request is acted on at once.
    if (!interrupts.signal || canceling) await interrupts.sleep(o.pollInterval);
  }
}

/** The job's stdout and stderr, whole, each under a header (stderr on stderr). */
async function showOutput(client: BenchlineClient, project: string, job: JobView | undefined, say: (s: string) => void): Promise<void> {
  if (!job) return;
  const [stdout, stderr] = await Promise.all([client.outputText(project, job.uuid, 'stdout'), client.outputText(project, job.uuid, 'stderr')]);
  say(`--- stdout ---\n${stdout.trimEnd() || '(empty)'}`);
  console.error(`--- stderr ---\n${stderr.trimEnd() || '(empty)'}`);
}
