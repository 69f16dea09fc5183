// What the CPU can run, detected once. kernels/kernel_set.cpp picks the kernel bodies from it.
#pragma once

namespace tessera {

// AVX2 + FMA + BMI2: the *_avx2.cpp bodies, compiled for Haswell (its other additions, F16C, LZCNT,
// MOVBE, come with these on every CPU that has them).
bool cpu_has_avx2();
bool cpu_has_avx512();  // AVX-512 F/BW/VL/DQ: the *_avx512.cpp bodies
// AVX-512 plus VNNI and VBMI (the int16 dot products and byte permutes of the affine kernels).
bool cpu_has_avx512_vnni();

}  // namespace tessera
