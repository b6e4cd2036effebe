/**
 * One VM from spawn to exit: feeds the channel through the frame decoder, and is the host-side
 * watchdog. The guest enforces the job timeout itself; the host kills the VMM when the guest misses
 * its own deadlines (no command started within the boot allowance, no exit report by timeout + grace,
 * output stalled) or the job is canceled. After the end frame it acknowledges (for channels that need
 * it) and lets the guest power off. The returned promise settles only after the VMM is gone.
 */
import { performance } from 'node:perf_hooks';
import { FrameDecoder, FrameType } from '../../guest/protocol';
import { GuestReport, OutputCaps } from '../../guest/report';
import { killVmm, LaunchedVm, VmmBackend, VmmExit, VmSpec } from './vmm';

export type KillReason = 'boot-timeout' | 'run-timeout' | 'stalled' | 'protocol-error' | 'canceled';

export interface SessionSpec {
  backend: VmmBackend;
  vm: VmSpec;
  nonce: Buffer;
  caps: OutputCaps;
  /** Spawn → command started ('S'), or → end ('Z') for a probe. */
  bootTimeoutMs: number;
  /** Command started → exit report ('X'): the job timeout plus a grace the guest needs to report it. */
  runTimeoutMs: number;
  /** Longest silence while the guest sends results. */
  idleTimeoutMs: number;
  /** How long a VM that sent its end frame gets to power off before it is killed (default 5 s). */
  exitGraceMs?: number;
  signal?: AbortSignal;
  onStage?: (stage: 'running' | 'collecting') => void;
}

export interface SessionResult {
  report: GuestReport;
  killedBecause?: KillReason;
  protocolError?: string;
  pid?: number;
  /** Host spawn → guest init's hello / command start, in milliseconds. */
  helloMs?: number;
  bootMs?: number;
  vmmExit: VmmExit;
  /** Channel bytes that were not frames of this job. */
  skippedBytes: number;
  diagnostics: string;
}

/** After the end frame the VM should power off at once; past this it is simply killed. */
const EXIT_GRACE_MS = 5000;

export async function runSession(spec: SessionSpec): Promise<SessionResult> {
  const report = new GuestReport(spec.caps);
  const decoder = new FrameDecoder(spec.nonce);
  const spawnedAt = performance.now();
  const vm: LaunchedVm = await spec.backend.launch(spec.vm);
  const result: Omit<SessionResult, 'vmmExit' | 'skippedBytes' | 'diagnostics'> = { report, pid: vm.process.pid };

  return new Promise((resolve) => {
    let timer: NodeJS.Timeout | undefined;
    const stop = (reason?: KillReason) => {
      if (reason && !result.killedBecause) result.killedBecause = reason;
      killVmm(vm.process);
    };
    const arm = (ms: number, reason?: KillReason) => {
      clearTimeout(timer);
      timer = setTimeout(() => stop(reason), ms);
    };
    const onAbort = () => stop('canceled');

    arm(spec.bootTimeoutMs, 'boot-timeout');
    if (spec.signal?.aborted) onAbort();
    spec.signal?.addEventListener('abort', onAbort, { once: true });

    // A write to a channel whose VMM just exited (the end acknowledgement) fails harmlessly.
    vm.channel.on('error', () => undefined);
    vm.channel.on('data', (chunk: Buffer) => {
      if (result.protocolError) return;
      try {
        for (const frame of decoder.push(chunk)) {
          report.accept(frame);
          const elapsed = Math.round(performance.now() - spawnedAt);
          if (frame.type === FrameType.hello) {
            result.helloMs = elapsed;
          } else if (frame.type === FrameType.started) {
            result.bootMs = elapsed;
            arm(spec.runTimeoutMs, 'run-timeout');
            spec.onStage?.('running');
          } else if (frame.type === FrameType.exit) {
            arm(spec.idleTimeoutMs, 'stalled');
            spec.onStage?.('collecting');
          } else if (frame.type === FrameType.end) {
            vm.acknowledgeEnd?.();
            arm(spec.exitGraceMs ?? EXIT_GRACE_MS);
          } else if (report.exit) {
            arm(spec.idleTimeoutMs, 'stalled'); // still sending results: the VM is making progress
          }
        }
      } catch (err) {
        result.protocolError = (err as Error).message;
        stop('protocol-error');
      }
    });

    void vm.closed.then((vmmExit) => {
      clearTimeout(timer);
      spec.signal?.removeEventListener('abort', onAbort);
      resolve({
        ...result,
        vmmExit,
        skippedBytes: decoder.skippedBytes,
        diagnostics: vm.diagnostics(),
      });
    });
  });
}
