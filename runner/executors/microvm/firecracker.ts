/**
 * Firecracker, configured through its API socket (HTTP over a unix socket): PUT /machine-config,
 * PUT /boot-source (kernel + initramfs; no drives needed), PUT /actions InstanceStart.
 *
 * Firecracker has one UART and no debug port, so ttyS0 is the channel and the kernel gets no serial
 * console (its messages would interleave with frames). init unlinks /dev/ttyS0 after opening it and
 * the command lacks CAP_MKNOD/CAP_SYS_ADMIN to recreate it. Anything else on Firecracker's stdout
 * (its own log lines) is skipped by the frame decoder, which only accepts frames with the job's nonce.
 * Without ACPI power-off, init's fallback reset (reboot=k, i8042) makes Firecracker exit.
 *
 * NOT TESTED: Firecracker is not installable on the machine this was written on, and KVM does not
 * work there. The guest side (tty channel) is exercised under QEMU by the integration tests.
 */
import { ChildProcess } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { request } from 'node:http';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BASE_KERNEL_ARGS, SERIAL_CHANNEL_CONSOLE, killVmm, LaunchedVm, spawnVmm, TailBuffer, VmmBackend, VmSpec } from './vmm';

const API_SOCKET = 'firecracker.sock';

export function firecrackerBootArgs(): string {
  return [...BASE_KERNEL_ARGS, SERIAL_CHANNEL_CONSOLE, 'reboot=k', 'i8042.noaux', 'i8042.nomux', 'i8042.dumbkbd'].join(' ');
}

export class FirecrackerBackend implements VmmBackend {
  readonly name = 'firecracker' as const;
  readonly guestChannel = 'tty:/dev/ttyS0';
  readonly needsModules = false;
  readonly accels = ['kvm'] as const;

  constructor(readonly binary: string) {}

  facts(): Record<string, unknown> {
    return { channel: 'serial' };
  }

  async launch(spec: VmSpec): Promise<LaunchedVm> {
    if (spec.accel !== 'kvm') throw new Error('Firecracker needs KVM');
    if (spec.kernel.format !== 'elf-pvh') throw new Error(`Firecracker needs an uncompressed ELF kernel (${spec.kernel.note ?? spec.kernel.format})`);
    // Bound relative to its cwd and reached through /proc/<pid>/cwd: unix socket paths are limited to
    // 107 bytes, and the scratch directory can be deeper than that.
    const { child, closed } = await spawnVmm(this.binary, ['--api-sock', API_SOCKET], ['ignore', 'pipe', 'pipe'], spec.workDir);
    const stderr = new TailBuffer(16 * 1024);
    child.stderr!.on('data', (d: Buffer) => stderr.push(d));
    try {
      await waitForSocket(child, path.join(spec.workDir, API_SOCKET));
      const socketPath = `/proc/${child.pid}/cwd/${API_SOCKET}`;
      await put(socketPath, '/machine-config', { vcpu_count: spec.cpus, mem_size_mib: spec.memoryMiB, smt: false });
      await put(socketPath, '/boot-source', {
        kernel_image_path: spec.kernel.path,
        initrd_path: spec.initrdPath,
        boot_args: firecrackerBootArgs(),
      });
      await put(socketPath, '/actions', { action_type: 'InstanceStart' });
    } catch (err) {
      killVmm(child);
      throw new Error(`configuring Firecracker failed: ${(err as Error).message}\n${stderr}`);
    }
    return {
      process: child,
      closed,
      channel: child.stdout!,
      diagnostics: () => `--- ${this.binary} stderr ---\n${stderr}`,
    };
  }
}

async function waitForSocket(child: ChildProcess, file: string): Promise<void> {
  for (let waited = 0; waited < 5000; waited += 10) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error('Firecracker exited during start-up');
    if (await stat(file).then((s) => s.isSocket(), () => false)) return;
    await sleep(10);
  }
  throw new Error(`API socket ${file} did not appear within 5 s`);
}

function put(socketPath: string, apiPath: string, body: unknown): Promise<void> {
  const data = Buffer.from(JSON.stringify(body));
  return new Promise((resolve, reject) => {
    const req = request(
      { socketPath, path: apiPath, method: 'PUT', headers: { 'Content-Type': 'application/json', 'Content-Length': data.length } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) return resolve();
          // Firecracker explains refusals as {"fault_message": "..."}.
          const text = Buffer.concat(chunks).toString('utf8');
          let message = text;
          try {
            message = (JSON.parse(text) as { fault_message?: string }).fault_message ?? text;
          } catch {
            // not JSON: keep the raw text
          }
          reject(new Error(`PUT ${apiPath}: HTTP ${status}: ${message}`));
        });
      },
    );
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error(`PUT ${apiPath}: no answer within 5 s`)));
    req.end(data);
  });
}
