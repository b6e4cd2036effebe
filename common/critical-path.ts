/** A job of a DAG as the critical path weighs it. Times are in seconds from the pipeline's start. */
export interface TimedJob {
  /** It cannot start before this (its start_after; 0 when it has none). */
  earliest: number;
  /** Its queue wait plus its run time. */
  duration: number;
  /** Indices of the jobs it waits for. */
  needs: number[];
}

export interface CriticalPath {
  /** When each job could start (the latest of its earliest time and its needs' ends) and when it ends. */
  start: number[];
  end: number[];
  /** The chain that sets the wall time, first job first: it ends at the latest end. */
  path: number[];
}

/**
 * The longest path through a DAG whose jobs start as soon as all their needs have ended: each job
 * ends at max(earliest, its needs' ends) + duration, and the chain is walked back from the job that
 * ends last through, at each step, the need that ended last (the one that held the job back), until
 * a job started at its own earliest time rather than at a need's end. Ties go to the lower index.
 * `jobs` must form a DAG (pipelineNeeds checked it at submission).
 */
export function criticalPath(jobs: TimedJob[]): CriticalPath {
  const start: number[] = new Array(jobs.length);
  const end: number[] = new Array(jobs.length);
  // Iterative depth-first order: a 500-job chain must not depend on the call stack's depth.
  for (let root = 0; root < jobs.length; root++) {
    const stack = [root];
    while (stack.length) {
      const i = stack[stack.length - 1];
      if (end[i] !== undefined) {
        stack.pop();
        continue;
      }
      const pending = jobs[i].needs.filter((n) => end[n] === undefined);
      if (pending.length) {
        stack.push(...pending);
        continue;
      }
      start[i] = Math.max(jobs[i].earliest, ...jobs[i].needs.map((n) => end[n]));
      end[i] = start[i] + jobs[i].duration;
      stack.pop();
    }
  }
  const path: number[] = [];
  let last = argmax(jobs.map((_, i) => i), end);
  while (last !== undefined) {
    path.unshift(last);
    const blocker = argmax(jobs[last].needs, end);
    last = blocker !== undefined && end[blocker] >= jobs[last].earliest ? blocker : undefined;
  }
  return { start, end, path };
}

/** The index in `candidates` with the greatest `value`, the first of equals; undefined when there are none. */
function argmax(candidates: number[], value: number[]): number | undefined {
  let best: number | undefined;
  for (const c of candidates) if (best === undefined || value[c] > value[best] || (value[c] === value[best] && c < best)) best = c;
  return best;
}
