/**
 * Everything per job that goes into the guest: a fresh nonce, the job file (with the backend's channel
 * and the modules it needs) and the small archive that carries them with init. Shared by jobs and probes.
 */
import { randomBytes } from 'node:crypto';
import { encodeGuestJob, GuestJob } from '../../guest/job-config';
import { guestModulePath, jobArchive } from './initramfs';
import { GuestKernel } from './kernel';
import { VmmBackend } from './vmm';

export interface GuestSetup {
  backend: VmmBackend;
  kernel: GuestKernel;
  init: Buffer;
}

/** The job cannot be expressed to the guest (e.g. a NUL byte in an argument): the user's error. */
export class InvalidJobError extends Error {}

export async function packGuestJob(
  setup: GuestSetup,
  job: Omit<GuestJob, 'nonce' | 'channel' | 'modules'>,
): Promise<{ nonce: Buffer; archive: Buffer }> {
  const modules = setup.backend.needsModules ? setup.kernel.modules : [];
  if (!modules) throw new Error(`the ${setup.backend.guestChannel} channel needs kernel modules: ${setup.kernel.modulesNote}`);
  const nonce = randomBytes(16);
  let jobFile: Buffer;
  try {
    const modulePaths = modules.map((m) => `/${guestModulePath(m.name)}`);
    jobFile = encodeGuestJob({ ...job, nonce, channel: setup.backend.guestChannel, modules: modulePaths });
  } catch (err) {
    throw new InvalidJobError((err as Error).message);
  }
  return { nonce, archive: await jobArchive(setup.init, jobFile, modules) };
}
