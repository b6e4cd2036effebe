/*
 * Prints the host's TSC frequency in kHz.
 *
 * Under TCG the guest's RDTSC returns the host's TSC, and the guest kernel normally learns its rate
 * by timing it against the emulated PIT. Under host load that calibration fails, the kernel marks the
 * TSC unstable and, in QEMU's microvm machine, boot then hangs for good (seen in ~40% of boots with
 * the host's two cores busy). Passing this value as tsc_early_khz= skips the calibration.
 * Built by runner/guest/build-static.ts; runs on the host, not in the guest.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <x86intrin.h>

#define SAMPLES 7

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC_RAW, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static int compare(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(void) {
  double khz[SAMPLES];
  for (int i = 0; i < SAMPLES; i++) {
    double t0 = seconds(), t1;
    uint64_t c0 = __rdtsc();
    do t1 = seconds();
    while (t1 - t0 < 0.02);
    uint64_t c1 = __rdtsc();
    khz[i] = (double)(c1 - c0) / (t1 - t0) / 1000.0;
  }
  /* The median shrugs off a sample where the process was preempted between the two clocks. */
  qsort(khz, SAMPLES, sizeof khz[0], compare);
  printf("%.0f\n", khz[SAMPLES / 2]);
  return 0;
}
