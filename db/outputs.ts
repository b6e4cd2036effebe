import type { Knex } from 'knex';
import type { OutputKind } from './rows';

export interface StoredOutput {
  kind: OutputKind;
  path: string;
  content: Buffer;
  size_bytes: number;
}

/** Stores (or replaces, when a retried upload repeats it) one output of a job. */
export async function putOutput(db: Knex, jobId: string, kind: OutputKind, path: string, content: Buffer): Promise<void> {
  await db('job_output')
    .insert({ job_id: jobId, kind, path, content, size_bytes: content.length })
    .onConflict(['job_id', 'kind', 'path'])
    .merge(['content', 'size_bytes']);
}

export async function getOutputs(db: Knex, jobId: string): Promise<StoredOutput[]> {
  return db('job_output').where({ job_id: jobId }).orderBy(['kind', 'path']).select('kind', 'path', 'content', 'size_bytes');
}

export async function listOutputs(db: Knex, jobId: string): Promise<Omit<StoredOutput, 'content'>[]> {
  return db('job_output').where({ job_id: jobId }).orderBy(['kind', 'path']).select('kind', 'path', 'size_bytes');
}


export async function getOutput(db: Knex, jobId: string, kind: OutputKind, path: string): Promise<Buffer | undefined> {
  return (await db('job_output').where({ job_id: jobId, kind, path }).first('content'))?.content;
}
