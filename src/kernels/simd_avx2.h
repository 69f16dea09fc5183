// Small AVX2 helpers shared by the kernel bodies in *_avx2.cpp (and *_avx512.cpp), which are
// compiled for Haswell; never include it from baseline code.
#pragma once

#include <immintrin.h>

#include <cstdint>

namespace tessera::simd {

inline float hsum(__m256 v) {
  __m128 lo = _mm256_castps256_ps128(v), hi = _mm256_extractf128_ps(v, 1);
  lo = _mm_add_ps(lo, hi);
  lo = _mm_hadd_ps(lo, lo);
  lo = _mm_hadd_ps(lo, lo);
  return _mm_cvtss_f32(lo);
}

// 8 bf16 values → 8 floats (bf16 is the top half of an fp32).
inline __m256 load_bf16x8(const uint16_t* p) {
  const __m256i w = _mm256_cvtepu16_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p)));
  return _mm256_castsi256_ps(_mm256_slli_epi32(w, 16));
}

}  // namespace tessera::simd
