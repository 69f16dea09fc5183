// Runtime ISA detection. The build's baseline is AVX2 + FMA; files named *_avx512.cpp are
// compiled with AVX-512 flags and must only be called when cpu_has_avx512() is true.
// TESSERA_ISA=avx2 in the environment forces the baseline (to compare the two paths).
#pragma once

namespace tessera {

bool cpu_has_avx512();
const char* active_isa_name();

}  // namespace tessera
