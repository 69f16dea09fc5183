// Per-sequence decode state (spec §4), sharded like the weights: each rank keeps only its
// own KV heads and its own Gated DeltaNet heads.
//   full attention : K and V caches, position-major [position, local_kv_heads, head_dim]
//                    (appending a token never moves old entries); K is stored after norm+RoPE.
//   Gated DeltaNet : conv state [K-1, local conv channels] of pre-conv inputs, and the fp32
//                    recurrent state S [local_value_heads, dk, dv].
#pragma once

#include <cstdint>
#include <span>
#include <vector>

namespace tessera {

struct LayerState {
  std::vector<float> keys;
  std::vector<float> values;
  std::vector<float> conv;
  std::vector<float> recurrent;
};

struct SequenceState {
  int64_t position = 0;  // tokens already processed
  std::vector<LayerState> layers;
};

// Bytes the state's buffers hold (KV grows with position; conv and recurrent are fixed). A copy
// of the state is a complete snapshot at `position` (engine/prefix_cache.h).
int64_t state_bytes(const SequenceState& state);

// One forward pass may carry several sequences (batched decode: one token each from many
// requests, so every weight is read once for all of them). Rows [first_row, first_row + n_rows)
// of the batch are tokens start_pos.. of the sequence whose state for this layer is `state`.
// The projections run on all rows at once; only the mixers' cores look at segments.
struct RowSegment {
  LayerState* state;
  int64_t first_row;
  int64_t n_rows;
  int64_t start_pos;
};

}  // namespace tessera
