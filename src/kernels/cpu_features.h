// Runtime ISA detection. The build's baseline is AVX2 + FMA; files named *_avx512.cpp are
// compiled with AVX-512 flags and must only be called when cpu_has_avx512() is true.
// TESSERA_ISA=avx2 in the environment forces the baseline (to compare the two paths).
#pragma once

namespace tessera {

bool cpu_has_avx512();
// AVX-512 plus VNNI and VBMI (the int16 dot products and byte permutes of the affine kernels).
bool cpu_has_avx512_vnni();
const char* active_isa_name();

}  // namespace tessera
