/** Measures Benchline knows by slug, with the units adapters normalise to. Others keep their slug as name. */
export interface MeasureInfo {
  slug: string;
  name: string;
  units: string;
}

const KNOWN: readonly MeasureInfo[] = [
  { slug: 'latency', name: 'Latency', units: 'nanoseconds (ns)' },
  { slug: 'throughput', name: 'Throughput', units: 'operations / second (ops/s)' },
  { slug: 'instructions', name: 'Instructions', units: 'instructions' },
  { slug: 'cycles', name: 'Cycles', units: 'cycles' },
  { slug: 'file-size', name: 'File Size', units: 'bytes (B)' },
  { slug: 'build-time', name: 'Build Time', units: 'seconds (s)' },
  // Memory and data rates (go_bench, cpp_google, rust_criterion, c_sharp_dot_net).
  { slug: 'data-throughput', name: 'Data Throughput', units: 'megabytes / second (MB/s)' },
  { slug: 'allocated', name: 'Allocated', units: 'bytes / operation (B/op)' },
  { slug: 'allocations', name: 'Allocations', units: 'allocations / operation' },
  { slug: 'gen0-collects', name: 'Gen0 Collects', units: 'collects / 1000 operations' },
  { slug: 'gen1-collects', name: 'Gen1 Collects', units: 'collects / 1000 operations' },
  { slug: 'gen2-collects', name: 'Gen2 Collects', units: 'collects / 1000 operations' },
  // Valgrind counters (rust_iai, rust_gungraun).
  { slug: 'l1-accesses', name: 'L1 Accesses', units: 'accesses' },
  { slug: 'l2-accesses', name: 'L2 Accesses', units: 'accesses' },
  { slug: 'ram-accesses', name: 'RAM Accesses', units: 'accesses' },
  { slug: 'estimated-cycles', name: 'Estimated Cycles', units: 'cycles' },
  { slug: 'l1-hits', name: 'L1 Hits', units: 'hits' },
  { slug: 'l2-hits', name: 'L2 Hits', units: 'hits' },
  { slug: 'll-hits', name: 'LL Hits', units: 'hits' },
  { slug: 'ram-hits', name: 'RAM Hits', units: 'hits' },
  { slug: 'total-read-write', name: 'Total read+write', units: 'reads/writes' },
  { slug: 'global-bus-events', name: 'Global Bus Events', units: 'events' },
  { slug: 'total-bytes', name: 'Total bytes', units: 'bytes (B)' },
  { slug: 'total-blocks', name: 'Total blocks', units: 'blocks' },
];

export function measureInfo(slug: string): MeasureInfo {
  return KNOWN.find((m) => m.slug === slug) ?? { slug, name: slug, units: 'units' };
}
