import { AdapterError, type AdapterInput, type AdapterOptions, type BenchmarkResults } from '../types';
import { cSharpDotNetAdapter } from './c-sharp-dot-net';
import { cppCatch2Adapter } from './cpp-catch2';
import { cppGoogleAdapter } from './cpp-google';
import { dartBenchmarkHarnessAdapter } from './dart-benchmark-harness';
import { goBenchAdapter } from './go-bench';
import { javaJmhAdapter } from './java-jmh';
import { jsBenchmarkAdapter } from './js-benchmark';
import { jsTimeAdapter } from './js-time';
import { jsVitestAdapter } from './js-vitest';
import { jsonAdapter } from './json';
import { pythonAsvAdapter } from './python-asv';
import { pythonPytestAdapter } from './python-pytest';
import { rubyBenchmarkAdapter } from './ruby-benchmark';
import { rustBenchAdapter } from './rust-bench';
import { rustCriterionAdapter } from './rust-criterion';
import { rustGungraunAdapter } from './rust-gungraun';
import { rustIaiAdapter } from './rust-iai';
import { shellHyperfineAdapter } from './shell-hyperfine';

/**
 * Adapter registry. Each adapter turns one harness's output into BenchmarkResults or throws
 * (an AdapterError, preferably) saying why it could not.
 */
export type Adapter = (input: AdapterInput, options?: AdapterOptions) => BenchmarkResults;

/**
 * In the order `magic` tries them: JSON formats first (a document either has a harness's shape
 * or not), then line formats from the most to the least distinctive, so that a loose pattern such
 * as console.time's `label: 1ms` only gets output nothing more specific understood.
 */
const ADAPTERS = {
  json: jsonAdapter,
  cpp_google: cppGoogleAdapter,
  java_jmh: javaJmhAdapter,
  c_sharp_dot_net: cSharpDotNetAdapter,
  js_vitest: jsVitestAdapter,
  python_pytest: pythonPytestAdapter,
  shell_hyperfine: shellHyperfineAdapter,
  rust_bench: rustBenchAdapter,
  rust_criterion: rustCriterionAdapter,
  rust_iai: rustIaiAdapter,
  rust_gungraun: rustGungraunAdapter,
  cpp_catch2: cppCatch2Adapter,
  go_bench: goBenchAdapter,
  python_asv: pythonAsvAdapter,
  js_benchmark: jsBenchmarkAdapter,
  ruby_benchmark: rubyBenchmarkAdapter,
  dart_benchmark_harness: dartBenchmarkHarnessAdapter,
  js_time: jsTimeAdapter,
} satisfies Record<string, Adapter>;

type HarnessName = keyof typeof ADAPTERS;

/** Old names that still work: Gungraun was called iai-callgrind until Bencher's issue #619. */
const ALIASES = { rust_iai_callgrind: 'rust_gungraun' } as const satisfies Record<string, HarnessName>;

/** Bencher's language-level names: they try that language's harnesses only, like a narrow `magic`. */
const LANGUAGES = {
  rust: ['rust_bench', 'rust_criterion', 'rust_iai', 'rust_gungraun'],
  cpp: ['cpp_google', 'cpp_catch2'],
  go: ['go_bench'],
  java: ['java_jmh'],
  c_sharp: ['c_sharp_dot_net'],
  js: ['js_vitest', 'js_benchmark', 'js_time'],
  python: ['python_pytest', 'python_asv'],
  ruby: ['ruby_benchmark'],
  shell: ['shell_hyperfine'],
  dart: ['dart_benchmark_harness'],
} as const satisfies Record<string, readonly HarnessName[]>;

export type AdapterName = HarnessName | keyof typeof ALIASES | keyof typeof LANGUAGES | 'magic';
/** One name per adapter implementation, in `magic`'s order. */
export const HARNESS_NAMES = Object.keys(ADAPTERS) as HarnessName[];
export const ADAPTER_NAMES = ['magic', ...HARNESS_NAMES, ...Object.keys(ALIASES), ...Object.keys(LANGUAGES)] as [
  AdapterName,
  ...AdapterName[],
];

const FIRST_LINES = 5;
const MAX_LINE = 200;

function candidatesFor(adapter: AdapterName): HarnessName[] {
  if (adapter === 'magic') return HARNESS_NAMES;
  if (adapter in LANGUAGES) return [...LANGUAGES[adapter as keyof typeof LANGUAGES]];
  if (adapter in ALIASES) return [ALIASES[adapter as keyof typeof ALIASES]];
  if (adapter in ADAPTERS) return [adapter as HarnessName];
  throw new AdapterError(`unknown adapter "${adapter}"`, adapter);
}

/**
 * Runs the named adapter (or, for `magic` and language names, the first that understands the
 * output). Never returns empty results.
 */
export function parseResults(adapter: AdapterName, input: AdapterInput, options?: AdapterOptions): BenchmarkResults {
  const reasons: string[] = [];
  for (const name of candidatesFor(adapter)) {
    try {
      const results = ADAPTERS[name](input, options);
      if (Object.keys(results).length > 0) return results;
      reasons.push(`${name}: no benchmarks found`);
    } catch (err) {
      // An adapter is a pure function of the output: whatever it throws (an AdapterError, or a
      // RangeError for a time unit it does not know) says it cannot read this output; `magic` goes on.
      reasons.push(`${name}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
  // Lines cut short: one line of minified JSON can be megabytes, and this becomes the job's error.
  const head = input.stdout.split('\n').slice(0, FIRST_LINES).map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}…` : l)).join('\n');
  throw new AdapterError(
    `no benchmark results in the job's output (${reasons.join('; ')}). First lines of stdout:\n${head || '(empty)'}`,
    adapter,
  );
}
