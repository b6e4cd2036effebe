import { join } from 'node:path';
import type { Executor, ExecutorName } from './executor';
import { createMicrovmExecutor, microvmPrerequisites } from './microvm';
import { createSandboxExecutor } from './sandbox';

/**
 * The executor a runner uses: the one asked for, else microVMs when this host has a kernel and a
 * VMM (the product's isolation), else the bubblewrap sandbox (development only).
 */
export async function selectExecutor(requested: ExecutorName | undefined, options: { cacheDir: string; kernelPath?: string }): Promise<Executor> {
  const { missing } = microvmPrerequisites({ kernelPath: options.kernelPath });
  const name = requested ?? (missing.length === 0 ? 'microvm' : 'sandbox');
  if (name === 'sandbox') return createSandboxExecutor();
  if (missing.length) throw new Error(`the microvm executor needs: ${missing.join('; ')}`);
  return createMicrovmExecutor({ cacheDir: join(options.cacheDir, 'microvm'), kernelPath: options.kernelPath });
}
