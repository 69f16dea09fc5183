// Causal depthwise conv1d + SiLU over channels (spec §3.5.3), with a rolling state of the last
// K-1 pre-conv inputs so prefill and decode can be chained.
//   weight: [channels, K] (tap K-1 multiplies the current token)
//   state : [K-1, channels], oldest row first; zero at sequence start; updated in place
//   x     : [T, channels] pre-conv input; y: [T, channels] = silu(conv(x)) (may not alias x)
#pragma once

#include <cstdint>

namespace tessera {

void causal_conv1d_silu(const float* weight, int64_t kernel, float* state, const float* x, int64_t n_tokens,
                        int64_t channels, float* y);

// The same for channels [first, last) only (the arrays keep their full row stride `channels`):
// channels are independent, so threads can each take a range — the DeltaNet layer convolves
// each head's channels on the thread that runs that head.
void causal_conv1d_silu_range(const float* weight, int64_t kernel, float* state, const float* x, int64_t n_tokens,
                              int64_t channels, int64_t first, int64_t last, float* y);

}  // namespace tessera
