#include "model/decode_state.h"

namespace tessera {

int64_t state_bytes(const SequenceState& state) {
  size_t floats = 0;
  for (const LayerState& layer : state.layers)
    floats += layer.keys.size() + layer.values.size() + layer.conv.size() + layer.recurrent.size();
  return static_cast<int64_t>(floats * sizeof(float));
}

}  // namespace tessera
