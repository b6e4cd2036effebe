/** A runner's state on the fleet board and in metrics (api/runner-fleet.ts decides it). */
export const RUNNER_STATES = ['idle', 'busy', 'offline', 'locked'] as const;
export type RunnerState = (typeof RUNNER_STATES)[number];

/** How a runner's jobs run: a Firecracker microVM, QEMU with KVM, QEMU emulating the CPU (TCG), or a sandbox (none). */
export const ACCELERATORS = ['firecracker', 'kvm', 'emulation', 'none'] as const;
export type Accelerator = (typeof ACCELERATORS)[number];

/**
 * The api's refusal of a daemon whose runner's lease another daemon holds (409): at registration it
 * must exit; on a ping it lost the lease to another daemon and must stop taking jobs.
 */
export const RUNNER_LEASE_HELD = 'runner_lease_held';
