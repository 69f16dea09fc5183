// Memory bandwidth probe for bench/run_bench.py: how fast can this machine stream bytes from DRAM
// into the cores? Decode speed is bounded by it (every weight is read once per token), so the
// benchmark table reports decode speed as a share of this number.
//
//   gcc -O3 -march=native -fopenmp bench/membw.c -o build/membw
//   OMP_NUM_THREADS=2 build/membw [MiB = 2048] [repetitions = 10]
//   → threads=2 buf=2048MiB read_best=31.20 GB/s read_mean=29.80 GB/s copy_best=25.10 GB/s (counting read+write)
//
// Read: every thread sums its contiguous slice of a buffer much larger than the caches with the
// widest vector loads the compiler target has (four independent accumulators, so the adds never
// limit the loads). Copy: memcpy of the slices into a second buffer (bytes read + bytes written).
// The best of the repetitions is the machine's capability; the mean shows how noisy the host is.
// BW_THP=1 asks for transparent huge pages (fewer TLB misses).
#define _GNU_SOURCE
#include <immintrin.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

enum { kFloatsPerStep = 64 };  // one step: four 64-byte vectors (or their AVX2 / scalar equivalent)

static double seconds(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

// Sum of a[lo, hi); hi - lo is a multiple of kFloatsPerStep, a is 64-byte aligned.
static float sum_slice(const float* a, size_t lo, size_t hi) {
#if defined(__AVX512F__)
  __m512 s0 = _mm512_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = lo; i < hi; i += kFloatsPerStep) {
    s0 = _mm512_add_ps(s0, _mm512_load_ps(a + i));
    s1 = _mm512_add_ps(s1, _mm512_load_ps(a + i + 16));
    s2 = _mm512_add_ps(s2, _mm512_load_ps(a + i + 32));
    s3 = _mm512_add_ps(s3, _mm512_load_ps(a + i + 48));
  }
  return _mm512_reduce_add_ps(_mm512_add_ps(_mm512_add_ps(s0, s1), _mm512_add_ps(s2, s3)));
#elif defined(__AVX__)
  __m256 s0 = _mm256_setzero_ps(), s1 = s0, s2 = s0, s3 = s0;
  for (size_t i = lo; i < hi; i += kFloatsPerStep)
    for (size_t j = 0; j < kFloatsPerStep; j += 32) {
      s0 = _mm256_add_ps(s0, _mm256_load_ps(a + i + j));
      s1 = _mm256_add_ps(s1, _mm256_load_ps(a + i + j + 8));
      s2 = _mm256_add_ps(s2, _mm256_load_ps(a + i + j + 16));
      s3 = _mm256_add_ps(s3, _mm256_load_ps(a + i + j + 24));
    }
  float lanes[8];
  _mm256_storeu_ps(lanes, _mm256_add_ps(_mm256_add_ps(s0, s1), _mm256_add_ps(s2, s3)));
  float total = 0;
  for (int k = 0; k < 8; ++k) total += lanes[k];
  return total;
#else
  float s[4] = {0, 0, 0, 0};
  for (size_t i = lo; i < hi; i += 4)
    for (int k = 0; k < 4; ++k) s[k] += a[i + k];
  return s[0] + s[1] + s[2] + s[3];
#endif
}

// This thread's slice [*lo, *hi) of n floats: equal whole steps, the last thread takes the rest.
static void my_slice(size_t n, size_t* lo, size_t* hi) {
  const size_t tid = (size_t)omp_get_thread_num(), threads = (size_t)omp_get_num_threads();
  const size_t chunk = n / kFloatsPerStep / threads * kFloatsPerStep;
  *lo = tid * chunk;
  *hi = tid == threads - 1 ? n : *lo + chunk;
}

int main(int argc, char** argv) {
  const size_t mib = argc > 1 ? strtoul(argv[1], NULL, 10) : 2048;
  const int reps = argc > 2 ? atoi(argv[2]) : 10;
  if (mib == 0 || reps <= 0) {
    fprintf(stderr, "usage: membw [MiB > 0] [repetitions > 0]\n");
    return 2;
  }
  const size_t bytes = mib << 20, n = bytes / sizeof(float);  // n is a multiple of kFloatsPerStep
  float* a = aligned_alloc(1 << 21, bytes);
  float* b = aligned_alloc(1 << 21, bytes);
  if (!a || !b) {
    fprintf(stderr, "membw: cannot allocate 2 x %zu MiB\n", mib);
    return 1;
  }
  if (getenv("BW_THP")) {
    madvise(a, bytes, MADV_HUGEPAGE);
    madvise(b, bytes, MADV_HUGEPAGE);
  }
  // First touch by the threads that will read the pages (the same static slices).
#pragma omp parallel
  {
    size_t lo, hi;
    my_slice(n, &lo, &hi);
    for (size_t i = lo; i < hi; ++i) {
      a[i] = (float)(i % 1000) * 1e-3f;
      b[i] = 0;
    }
  }
  double best_read = 1e30, total_read = 0, best_copy = 1e30;
  volatile float sink = 0;  // keeps the sums alive
  for (int r = 0; r < reps; ++r) {
    double t0 = seconds();
    float total = 0;
#pragma omp parallel reduction(+ : total)
    {
      size_t lo, hi;
      my_slice(n, &lo, &hi);
      total += sum_slice(a, lo, hi);
    }
    double dt = seconds() - t0;
    sink += total;
    total_read += dt;
    if (dt < best_read) best_read = dt;
    t0 = seconds();
#pragma omp parallel
    {
      size_t lo, hi;
      my_slice(n, &lo, &hi);
      memcpy(b + lo, a + lo, (hi - lo) * sizeof(float));
    }
    dt = seconds() - t0;
    if (dt < best_copy) best_copy = dt;
  }
  (void)sink;
  printf("threads=%d buf=%zuMiB read_best=%.2f GB/s read_mean=%.2f GB/s copy_best=%.2f GB/s (counting read+write)\n",
         omp_get_max_threads(), mib, (double)bytes / best_read / 1e9, (double)bytes * reps / total_read / 1e9,
         2.0 * (double)bytes / best_copy / 1e9);
  free(a);
  free(b);
  return 0;
}
