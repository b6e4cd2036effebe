/**
 * The job file the host packs into the initramfs at /.benchline/job, read by init.c (`read_job`).
 * NUL-terminated fields, so that parsing it in C is a few lines and no value needs escaping (argv,
 * env and paths cannot contain NUL anyway). Field order is the format; see the comment in init.c.
 */
export const JOB_MAGIC = 'benchline-job-1';
export const GUEST_JOB_PATH = '.benchline/job';
export const GUEST_INIT_PATH = '.benchline/init';
export const GUEST_MODULES_DIR = '.benchline/modules';

export interface GuestJob {
  /** 'probe' only proves the VM boots and the channel works: hello, end, power off. */
  mode: 'run' | 'probe';
  nonce: Buffer;
  /** Where init writes frames: `dev:<port>` (virtio-serial), `ioport:<port>` (QEMU isa-debugcon) or `tty:<device>` (a UART). */
  channel: string;
  /** Kernel modules init loads, in order, before opening the channel (guest paths). */
  modules: string[];
  epochMs: number;
  timeoutMs: number;
  maxTotalBytes: number;
  maxFiles: number;
  cwd: string;
  argv: string[];
  env: Record<string, string>;
  files: string[];
}

export function encodeGuestJob(job: GuestJob): Buffer {
  for (const key of Object.keys(job.env)) {
    if (key === '' || key.includes('=')) throw new Error(`invalid environment variable name: ${JSON.stringify(key)}`);
  }
  const text = (what: string, value: string) => {
    if (value.includes('\0')) throw new Error(`${what} contains a NUL byte: ${JSON.stringify(value)}`);
    return value;
  };
  const list = (what: string, values: string[]) => [String(values.length), ...values.map((v) => text(what, v))];
  const count = (what: string, n: number) => {
    if (!Number.isSafeInteger(n) || n < 0) throw new Error(`${what} must be a non-negative integer, got ${n}`);
    return String(n);
  };
  const fields = [
    JOB_MAGIC,
    job.mode,
    job.nonce.toString('hex'),
    job.channel,
    ...list('module path', job.modules),
    count('epochMs', Math.floor(job.epochMs)),
    count('timeoutMs', Math.ceil(job.timeoutMs)),
    count('maxTotalBytes', job.maxTotalBytes),
    count('maxFiles', job.maxFiles),
    text('cwd', job.cwd),
    ...list('argv', job.argv),
    ...list('env', Object.entries(job.env).map(([k, v]) => `${k}=${v}`)),
    ...list('output file path', job.files),
    'end',
  ];
  return Buffer.from(fields.map((f) => `${f}\0`).join(''), 'utf8');
}
