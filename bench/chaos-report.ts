import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { isTerminal, jobWorkflowId, type JobStatus } from '../common/contracts';
import type { Db } from '../db/connection';
import type { JobRow } from '../db/rows';
import { commandStarts } from './command-starts';

/** One job the script submitted: every 202 it got for its idempotency key, and what else it was told. */
export interface Submission {
  key: string;
  /** Job ids the 202 answers named (more than one would be a duplicate). */
  accepted: string[];
  attempts: number;
  /** A final 4xx: the submission was refused, not retried. */
  refused?: string;
  /** Still not accepted when the script stopped retrying. */
  gaveUp?: string;
}

export interface Kill {
  target: string;
  /** Epoch ms of the SIGKILL. */
  at: number;
  /** Epoch ms when the restarted process served again. */
  readyAt?: number;
  note?: string;
  /** The job whose benchmark was running on a killed runner: the one failure the target allows. */
  victimJob?: string;
  error?: string;
}

export interface Crash {
  service: string;
  how: string;
  at: number;
}

export type Row = Pick<JobRow, 'id' | 'status' | 'error' | 'idempotency_key' | 'finished_at'>;

export interface JobOutcome {
  id: string;
  row?: Row;
  /** The workflow's status name (COMPLETED, FAILED, RUNNING…), NOT_FOUND, or why describe failed. */
  workflow: string;
  /** How many times the sandbox started the job's command (see installBwrapShim). */
  starts: number;
}

/** The workflow status a job row's terminal status should come with. */
const WORKFLOW_FOR: Partial<Record<JobStatus, string>> = { processed: 'COMPLETED', failed: 'FAILED', canceled: 'CANCELLED' };

/**
 * Where the job row and its workflow contradict each other. `hard`: one side is done and the
 * other is not (or the workflow is missing), so nothing will reconcile them; otherwise both ended
 * but with different outcomes (a failed job whose workflow completed).
 */
export function disagreement(job: JobOutcome): { kind: string; hard: boolean } | undefined {
  const { row, workflow } = job;
  if (!row) return undefined;
  const terminal = isTerminal(row.status);
  if (workflow === 'NOT_FOUND') return terminal ? { kind: `row ${row.status}, no workflow`, hard: true } : undefined;
  if (workflow === 'RUNNING') return terminal ? { kind: `row ${row.status}, workflow still running`, hard: true } : undefined;
  if (!terminal) return { kind: `workflow ${workflow}, row ${row.status}`, hard: true };
  return WORKFLOW_FOR[row.status] === workflow ? undefined : { kind: `row ${row.status}, workflow ${workflow}`, hard: false };
}

/** Job ids whose rows are not terminal yet (a missing row is not waited for: it counts as lost). */
export async function unsettled(db: Db, ids: string[]): Promise<Map<JobStatus, number>> {
  const rows: Pick<JobRow, 'status'>[] = await db('job').whereIn('id', ids).select('status');
  const open = new Map<JobStatus, number>();
  for (const { status } of rows) if (!isTerminal(status)) open.set(status, (open.get(status) ?? 0) + 1);
  return open;
}

async function workflowStatus(temporal: Client, jobId: string): Promise<string> {
  try {
    return (await temporal.workflow.getHandle(jobWorkflowId(jobId)).describe()).status.name;
  } catch (err) {
    return err instanceof WorkflowNotFoundError ? 'NOT_FOUND' : `describe failed: ${(err as Error).message}`;
  }
}

async function outcomes(db: Db, temporal: Client, startsLog: string, ids: string[]): Promise<JobOutcome[]> {
  const rows: Row[] = await db('job').whereIn('id', ids).select('id', 'status', 'error', 'idempotency_key', 'finished_at');
  const byId = new Map(rows.map((r) => [r.id, r]));
  const starts = await commandStarts(startsLog);
  const result: JobOutcome[] = [];
  // A few describes at a time: the dev server shares two cores with everything else.
  for (let i = 0; i < ids.length; i += 8) {
    const batch = ids.slice(i, i + 8);
    const workflows = await Promise.all(batch.map((id) => workflowStatus(temporal, id)));
    batch.forEach((id, j) => result.push({ id, row: byId.get(id), workflow: workflows[j], starts: starts.get(id) ?? 0 }));
  }
  return result;
}

/**
 * Reads the final state and waits (up to `graceMs`) for workflows whose row is already terminal to
 * close: the row is written by the workflow's last activity, a moment before the workflow ends.
 */
export async function finalOutcomes(db: Db, temporal: Client, startsLog: string, ids: string[], graceMs = 30000): Promise<JobOutcome[]> {
  const deadline = Date.now() + graceMs;
  for (;;) {
    const jobs = await outcomes(db, temporal, startsLog, ids);
    const closing = jobs.some((j) => j.row && isTerminal(j.row.status) && j.workflow === 'RUNNING');
    if (!closing || Date.now() > deadline) return jobs;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** A message with the ids it names blanked, so that alike messages count together. */
export function withoutIds(message: string): string {
  return message.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>');
}

/** Groups error messages by their shape: ids and numbers blanked, cut at 100 characters. */
export function cause(error: string | null): string {
  const shape = withoutIds(error ?? '(no error recorded)')
    .replace(/\d+(\.\d+)?/g, 'N')
    .replace(/\s+/g, ' ');
  return shape.length > 100 ? `${shape.slice(0, 99)}…` : shape;
}

function tally(items: string[]): [string, number][] {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(item, (counts.get(item) ?? 0) + 1);
  return [...counts].sort((a, b) => b[1] - a[1]);
}

export interface RunFacts {
  jobs: number;
  runners: number;
  downSeconds: number;
  startedAt: number;
  chaosStartedAt: number;
  submissions: Submission[];
  /** Every answer to a submission attempt other than 202: `HTTP 503`, `fetch failed: ECONNREFUSED`… */
  answers: string[];
  kills: Kill[];
  crashes: Crash[];
  logDir: string;
}

/** Prints the kill timeline and the figures beside their targets. */
export function printReport(facts: RunFacts, jobs: JobOutcome[]): void {
  const s = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
  const since = (t: number) => s(t - facts.chaosStartedAt);
  console.log(`\nChaos benchmark: ${facts.jobs} jobs, ${facts.runners} runners, each process SIGKILLed in turn and restarted after ${facts.downSeconds}s\n`);
  console.log('kill           at        serving again after   note');
  for (const k of facts.kills) {
    const back = k.readyAt ? s(k.readyAt - k.at) : k.error ? `not restarted: ${k.error}` : '-';
    console.log(`${k.target.padEnd(14)} ${(k.at ? since(k.at) : '-').padEnd(9)} ${back.padEnd(21)} ${k.note ?? ''}`);
  }
  for (const c of facts.crashes) console.log(`${c.service.padEnd(14)} ${since(c.at).padEnd(9)} crashed by itself (${c.how}): restarted; see ${facts.logDir}/${c.service}.log`);

  const accepted = facts.submissions.filter((x) => x.accepted.length > 0);
  const acceptedIds = new Set(accepted.flatMap((x) => x.accepted));
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const lost = [...acceptedIds].filter((id) => {
    const job = byId.get(id);
    return !job?.row || (!isTerminal(job.row.status) && job.workflow === 'NOT_FOUND');
  });
  const withRow = jobs.filter((j) => j.row && !lost.includes(j.id));
  const stuck = withRow.filter((j) => !isTerminal(j.row!.status));
  const status = (st: JobStatus) => withRow.filter((j) => j.row!.status === st);
  const victims = new Set(facts.kills.map((k) => k.victimJob).filter((v): v is string => Boolean(v)));
  const failed = status('failed');
  const unexpectedFailures = failed.filter((j) => !victims.has(j.id));
  // A killed runner's job may still have been processed when its benchmark ended just before the kill.
  const expectedProcessed = accepted.length - (failed.length - unexpectedFailures.length);
  const disagreements = withRow.map((j) => ({ job: j, d: disagreement(j) })).filter((x) => x.d);
  const hard = disagreements.filter((x) => x.d!.hard);
  const soft = disagreements.filter((x) => !x.d!.hard);
  const twice = jobs.filter((j) => j.starts > 1);
  const unstarted = status('processed').filter((j) => j.starts === 0);
  const duplicates = accepted.filter((x) => x.accepted.length > 1);

  const rows: [string, string | number, string, boolean?][] = [
    ['jobs submitted', facts.submissions.length, ''],
    ['accepted (202)', accepted.length, `${facts.submissions.length}`, accepted.length === facts.submissions.length],
    ['  refused (4xx)', facts.submissions.filter((x) => x.refused).length, '0', !facts.submissions.some((x) => x.refused)],
    ['  given up (retries ran out)', facts.submissions.filter((x) => x.gaveUp).length, '0', !facts.submissions.some((x) => x.gaveUp)],
    ['  two jobs for one key', duplicates.length, '0', duplicates.length === 0],
    ['lost (202, then no row or no workflow)', lost.length, '0', lost.length === 0],
    ['stuck (not terminal at the end)', stuck.length, '0', stuck.length === 0],
    ['processed', status('processed').length, `${expectedProcessed}`, status('processed').length === expectedProcessed],
    ['failed', failed.length, victims.size ? `${victims.size} (the killed runner's running benchmark)` : '0', unexpectedFailures.length === 0],
    ['canceled', status('canceled').length, '0', status('canceled').length === 0],
    ['run twice (command started 2+ times)', twice.length, '0', twice.length === 0],
    ['processed without a command start', unstarted.length, '0', unstarted.length === 0],
    ['DB/Temporal disagreements', hard.length, '0', hard.length === 0],
    ['DB/Temporal outcome mismatches', soft.length, '0', soft.length === 0],
    ['process crashes (not killed by us)', facts.crashes.length, '0', facts.crashes.length === 0],
  ];
  console.log(`\n${'figure'.padEnd(40)} ${'value'.padStart(6)}   target`);
  for (const [name, value, target, ok] of rows) {
    console.log(`${name.padEnd(40)} ${String(value).padStart(6)}   ${target}${ok === false ? '   <-- MISSED' : ''}`);
  }
  const section = (title: string, entries: [string, number][]) => {
    if (!entries.length) return;
    console.log(`\n${title}`);
    for (const [what, n] of entries) console.log(`  ${String(n).padStart(4)}  ${what}`);
  };
  // Which outage a failure followed: the last kill before the job ended.
  const window = (j: JobOutcome) => {
    if (victims.has(j.id)) return 'its runner killed';
    const ended = j.row!.finished_at ? new Date(j.row!.finished_at).getTime() : Infinity;
    const last = facts.kills.filter((k) => k.at && k.at <= ended).pop();
    return last ? `after the ${last.target} kill` : 'before any kill';
  };
  section('failed by cause [when]', tally(failed.map((j) => `${cause(j.row!.error)}  [${window(j)}]`)));
  section('stuck by status / workflow', tally(stuck.map((j) => `${j.row!.status} / ${j.workflow}`)));
  section('lost', tally(lost.map((id) => (byId.get(id)?.row ? `row ${byId.get(id)!.row!.status}, workflow ${byId.get(id)!.workflow}` : 'no row'))));
  section('DB/Temporal disagreements by kind', tally(hard.map((x) => x.d!.kind)));
  section('DB/Temporal outcome mismatches by kind', tally(soft.map((x) => x.d!.kind)));
  section('run twice: command starts per job', tally(twice.map((j) => `${j.id}: ${j.starts} starts, ${j.row?.status ?? 'no row'}`)));
  section('submission answers other than 202 (retried with the same idempotency key)', tally(facts.answers));
  for (const v of victims) console.log(`\nkilled runner's job ${v}: ${byId.get(v)?.row?.status ?? 'no row'}${byId.get(v)?.row?.error ? ` (${byId.get(v)!.row!.error})` : ''}`);

  const attempts = facts.submissions.reduce((n, x) => n + x.attempts, 0);
  const finished = jobs.map((j) => j.row?.finished_at).filter((d): d is Date => Boolean(d)).map((d) => new Date(d).getTime());
  console.log(`\nsubmission attempts ${attempts} for ${facts.submissions.length} jobs; chaos phase to last job settled ${finished.length ? s(Math.max(...finished) - facts.chaosStartedAt) : '-'}; whole run ${s(Date.now() - facts.startedAt)}`);
  console.log(`logs: ${facts.logDir}`);
}
