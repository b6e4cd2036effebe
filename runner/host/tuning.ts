/**
 * Host tuning facts recorded with every job: each one changes benchmark results (SMT siblings share
 * cores, turbo and the governor change clock speed, ASLR changes layout, THP changes TLB behaviour).
 * Only read, never changed. A fact the kernel does not expose is 'unknown', not an error: VMs and
 * containers often hide cpufreq.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export type SmtState = 'on' | 'off' | 'forceoff' | 'notsupported' | 'notimplemented' | 'unknown';
export type Switch = 'on' | 'off' | 'unknown';
export type AslrState = 'off' | 'conservative' | 'full' | 'unknown';
export type ThpState = 'always' | 'madvise' | 'never' | 'unknown';

export interface HostTuning {
  smt: SmtState;
  turbo: Switch;
  /** The cpufreq governor; 'a,b' when CPUs differ; 'unknown' without cpufreq. */
  governor: string;
  aslr: AslrState;
  thp: ThpState;
}

/** /sys/devices/system/cpu/smt/control */
export function parseSmtControl(text: string | undefined): SmtState {
  const value = text?.trim();
  const known: SmtState[] = ['on', 'off', 'forceoff', 'notsupported', 'notimplemented'];
  return known.find((k) => k === value) ?? 'unknown';
}

/** intel_pstate/no_turbo is inverted ("1" = turbo off); cpufreq boost is not ("1" = boost on). */
export function parseTurbo(noTurbo: string | undefined, boost: string | undefined): Switch {
  const flag = (text: string | undefined) => (text?.trim() === '1' ? true : text?.trim() === '0' ? false : undefined);
  const disabled = flag(noTurbo);
  if (disabled !== undefined) return disabled ? 'off' : 'on';
  const enabled = flag(boost);
  if (enabled !== undefined) return enabled ? 'on' : 'off';
  return 'unknown';
}

/** One scaling_governor per CPU (undefined where missing). */
export function parseGovernors(values: (string | undefined)[]): string {
  const governors = [...new Set(values.map((v) => v?.trim()).filter((v): v is string => !!v))].sort();
  return governors.length ? governors.join(',') : 'unknown';
}

/** /proc/sys/kernel/randomize_va_space */
export function parseAslr(text: string | undefined): AslrState {
  return (({ '0': 'off', '1': 'conservative', '2': 'full' }) as Record<string, AslrState>)[text?.trim() ?? ''] ?? 'unknown';
}

/** /sys/kernel/mm/transparent_hugepage/enabled, e.g. "always [madvise] never": the bracketed one is in effect. */
export function parseThp(text: string | undefined): ThpState {
  const selected = text?.match(/\[(\w+)\]/)?.[1];
  return selected === 'always' || selected === 'madvise' || selected === 'never' ? selected : 'unknown';
}

/** Reads the facts; `root` lets tests point it at a fake /sys and /proc. */
export async function detectHostTuning(root = '/'): Promise<HostTuning> {
  const read = (rel: string) => readFile(path.join(root, rel), 'utf8').catch(() => undefined);
  const cpuDir = 'sys/devices/system/cpu';
  const cpus = (await readdir(path.join(root, cpuDir)).catch(() => [] as string[])).filter((d) => /^cpu\d+$/.test(d));
  const [smt, noTurbo, boost, policyBoost, aslr, thp, ...governors] = await Promise.all([
    read(`${cpuDir}/smt/control`),
    read(`${cpuDir}/intel_pstate/no_turbo`),
    read(`${cpuDir}/cpufreq/boost`),
    read(`${cpuDir}/cpufreq/policy0/boost`), // newer kernels (amd-pstate) expose boost per policy
    read('proc/sys/kernel/randomize_va_space'),
    read('sys/kernel/mm/transparent_hugepage/enabled'),
    ...cpus.map((cpu) => read(`${cpuDir}/${cpu}/cpufreq/scaling_governor`)),
  ]);
  return {
    smt: parseSmtControl(smt),
    turbo: parseTurbo(noTurbo, boost ?? policyBoost),
    governor: parseGovernors(governors),
    aslr: parseAslr(aslr),
    thp: parseThp(thp),
  };
}
