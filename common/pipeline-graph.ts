import { FieldError } from './field-error';

export interface GraphJob {
  key: string;
  needs: { job: string }[];
}

/**
 * Checks a pipeline's jobs (the body field `field`) form a DAG and answers each job's needs as indices into `jobs`. Refuses,
 * naming the field: a duplicate key, a need that names no job, a job that needs itself or the same
 * job twice, and a cycle of any length, spelled out (`a → b → c → a`, each job needing the next).
 *
 * Kahn's algorithm, written here rather than taken from npm: `toposort` reports only one node of a
 * cycle and graphlib's `findCycles` gives unordered components, while users need the cycle itself,
 * in order, which the nodes Kahn's algorithm leaves over give in a few more lines.
 */
export function pipelineNeeds(jobs: GraphJob[], field = 'body.jobs'): number[][] {
  const index = new Map<string, number>();
  jobs.forEach((job, i) => {
    if (index.has(job.key)) throw new FieldError(`${field}[${i}].key`, `"${job.key}" is also the key of jobs[${index.get(job.key)}]; keys must be unique in a pipeline`);
    index.set(job.key, i);
  });
  const needs = jobs.map((job, i) => {
    const parents = job.needs.map((need, n) => {
      const needField = `${field}[${i}].needs[${n}].job`;
      const parent = index.get(need.job);
      if (parent === undefined) throw new FieldError(needField, `no job of this pipeline has the key "${need.job}"`);
      if (parent === i) throw new FieldError(needField, `job "${job.key}" cannot need itself`);
      return parent;
    });
    const repeated = parents.findIndex((p, n) => parents.indexOf(p) !== n);
    if (repeated >= 0) throw new FieldError(`${field}[${i}].needs[${repeated}].job`, `job "${job.key}" already needs "${jobs[parents[repeated]].key}"`);
    return parents;
  });

  const waiting = needs.map((parents) => parents.length);
  const dependents: number[][] = jobs.map(() => []);
  needs.forEach((parents, i) => parents.forEach((p) => dependents[p].push(i)));
  const ready = waiting.flatMap((w, i) => (w === 0 ? [i] : []));
  for (let r = 0; r < ready.length; r++) for (const d of dependents[ready[r]]) if (--waiting[d] === 0) ready.push(d);
  if (ready.length === jobs.length) return needs;

  // Every job left over needs at least one other left over: following such needs must come back round.
  const path: number[] = [];
  let at = waiting.findIndex((w) => w > 0);
  while (!path.includes(at)) {
    path.push(at);
    at = needs[at].find((p) => waiting[p] > 0)!;
  }
  const cycle = [...path.slice(path.indexOf(at)), at].map((i) => jobs[i].key);
  throw new FieldError(field, `the needs form a cycle: ${cycle.join(' → ')} (each job needs the next)`);
}
