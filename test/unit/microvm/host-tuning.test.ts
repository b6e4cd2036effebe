import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { detectHostTuning, parseAslr, parseGovernors, parseSmtControl, parseThp, parseTurbo } from '../../../runner/host/tuning';

describe('host tuning parsers', () => {
  test('SMT control', () => {
    expect(parseSmtControl('on\n')).toBe('on');
    expect(parseSmtControl('forceoff')).toBe('forceoff');
    expect(parseSmtControl('notsupported\n')).toBe('notsupported');
    expect(parseSmtControl('banana')).toBe('unknown');
    expect(parseSmtControl(undefined)).toBe('unknown');
  });

  test('turbo: intel_pstate no_turbo is inverted and wins over cpufreq boost', () => {
    expect(parseTurbo('1\n', undefined)).toBe('off');
    expect(parseTurbo('0\n', '0')).toBe('on');
    expect(parseTurbo(undefined, '1\n')).toBe('on');
    expect(parseTurbo(undefined, '0')).toBe('off');
    expect(parseTurbo(undefined, undefined)).toBe('unknown');
    expect(parseTurbo('x', undefined)).toBe('unknown');
  });

  test('governors', () => {
    expect(parseGovernors(['performance\n', 'performance\n'])).toBe('performance');
    expect(parseGovernors(['powersave', 'performance', undefined])).toBe('performance,powersave');
    expect(parseGovernors([undefined])).toBe('unknown');
    expect(parseGovernors([])).toBe('unknown');
  });

  test('ASLR', () => {
    expect(parseAslr('0\n')).toBe('off');
    expect(parseAslr('1')).toBe('conservative');
    expect(parseAslr('2\n')).toBe('full');
    expect(parseAslr('7')).toBe('unknown');
    expect(parseAslr(undefined)).toBe('unknown');
  });

  test('THP takes the bracketed mode', () => {
    expect(parseThp('always [madvise] never\n')).toBe('madvise');
    expect(parseThp('[always] madvise never')).toBe('always');
    expect(parseThp('always madvise [never]')).toBe('never');
    expect(parseThp('always madvise never')).toBe('unknown');
    expect(parseThp(undefined)).toBe('unknown');
  });
});

describe('detectHostTuning', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(path.join(os.tmpdir(), 'tuning-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  const put = (rel: string, text: string) => {
    mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    writeFileSync(path.join(root, rel), text);
  };

  test('reads a full set of facts', async () => {
    put('sys/devices/system/cpu/smt/control', 'off\n');
    put('sys/devices/system/cpu/intel_pstate/no_turbo', '1\n');
    put('sys/devices/system/cpu/cpu0/cpufreq/scaling_governor', 'performance\n');
    put('sys/devices/system/cpu/cpu1/cpufreq/scaling_governor', 'performance\n');
    put('proc/sys/kernel/randomize_va_space', '0\n');
    put('sys/kernel/mm/transparent_hugepage/enabled', 'always madvise [never]\n');
    await expect(detectHostTuning(root)).resolves.toEqual({ smt: 'off', turbo: 'off', governor: 'performance', aslr: 'off', thp: 'never' });
  });

  test('missing files are unknown, and per-policy boost is used when it is all there is', async () => {
    put('sys/devices/system/cpu/cpufreq/policy0/boost', '1\n');
    await expect(detectHostTuning(root)).resolves.toEqual({ smt: 'unknown', turbo: 'on', governor: 'unknown', aslr: 'unknown', thp: 'unknown' });
  });

  test('this machine gives an answer for every fact', async () => {
    const facts = await detectHostTuning();
    expect(Object.keys(facts).sort()).toEqual(['aslr', 'governor', 'smt', 'thp', 'turbo']);
  });
});
