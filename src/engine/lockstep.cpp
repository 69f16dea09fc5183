#include "engine/lockstep.h"

#include "util/error.h"

namespace tessera {

LockstepEngine::~LockstepEngine() {
  if (is_leader()) {
    try {
      shutdown();
    } catch (...) {
    }
  }
}

SequenceState& LockstepEngine::sequence(int slot) {
  auto it = sequences_.find(slot);
  if (it == sequences_.end()) it = sequences_.emplace(slot, model_.new_sequence()).first;
  return it->second;
}

void LockstepEngine::execute(const Header& header, std::span<const int32_t> tokens, std::span<const int32_t> slots,
                             std::vector<float>* logits) {
  switch (header.op) {
    case Op::kForward: model_.forward(tokens, sequence(header.slot), header.all_positions != 0, logits); break;
    case Op::kForwardBatch: {
      std::vector<SequenceState*> states;
      for (int32_t slot : slots) states.push_back(&sequence(slot));
      const std::vector<int64_t> counts(states.size(), 1);
      model_.forward(tokens, states, counts, false, logits);
      break;
    }
    case Op::kRelease: sequences_.erase(header.slot); break;
    case Op::kStop: stopped_ = true; break;
    case Op::kMemory: break;  // the collective runs in gather_memory() / run_worker()
  }
}

void LockstepEngine::forward(int slot, std::span<const int32_t> tokens, bool all_positions, std::vector<float>* logits) {
  TS_CHECK(is_leader() && !stopped_, "forward called on a worker or after shutdown");
  Header header{Op::kForward, slot, static_cast<int32_t>(tokens.size()), all_positions ? 1 : 0};
  Communicator& comm = model_.comm();
  if (comm.size() > 1) {
    comm.broadcast(&header, sizeof(header), 0);
    comm.broadcast(const_cast<int32_t*>(tokens.data()), static_cast<int64_t>(tokens.size() * sizeof(int32_t)), 0);
  }
  execute(header, tokens, {}, logits);
}

void LockstepEngine::forward_batch(std::span<const int32_t> slots, std::span<const int32_t> tokens,
                                   std::vector<float>* logits) {
  TS_CHECK(is_leader() && !stopped_, "forward_batch called on a worker or after shutdown");
  TS_CHECK(!slots.empty() && slots.size() == tokens.size(), "forward_batch needs one token per slot");
  for (size_t i = 0; i < slots.size(); ++i)
    for (size_t j = 0; j < i; ++j) TS_CHECK(slots[i] != slots[j], "forward_batch: slot {} appears twice", slots[i]);
  Header header{Op::kForwardBatch, 0, static_cast<int32_t>(tokens.size()), 0};
  Communicator& comm = model_.comm();
  if (comm.size() > 1) {
    comm.broadcast(&header, sizeof(header), 0);
    comm.broadcast(const_cast<int32_t*>(slots.data()), static_cast<int64_t>(slots.size() * sizeof(int32_t)), 0);
    comm.broadcast(const_cast<int32_t*>(tokens.data()), static_cast<int64_t>(tokens.size() * sizeof(int32_t)), 0);
  }
  execute(header, tokens, slots, logits);
}

void LockstepEngine::release(int slot) {
  Header header{Op::kRelease, slot, 0, 0};
  if (model_.comm().size() > 1 && !stopped_) model_.comm().broadcast(&header, sizeof(header), 0);
  execute(header, {}, {}, nullptr);
}

int64_t LockstepEngine::position(int slot) const {
  auto it = sequences_.find(slot);
  return it == sequences_.end() ? 0 : it->second.position;
}

std::vector<MemoryUsage> LockstepEngine::all_gather_memory() {
  Communicator& comm = model_.comm();
  const MemoryUsage mine = memory_usage_of_this_process();
  constexpr int kFields = 4;
  const int64_t send[kFields] = {mine.resident_bytes, mine.peak_resident_bytes, mine.available_bytes, mine.host_id};
  std::vector<int64_t> all(static_cast<size_t>(kFields * comm.size()));
  comm.all_gather_i64(send, kFields, all.data());
  std::vector<MemoryUsage> usage(static_cast<size_t>(comm.size()));
  for (size_t r = 0; r < usage.size(); ++r) {
    const int64_t* f = all.data() + kFields * r;
    usage[r] = {f[0], f[1], f[2], f[3]};
  }
  return usage;
}

std::vector<MemoryUsage> LockstepEngine::gather_memory() {
  TS_CHECK(is_leader() && !stopped_, "gather_memory called on a worker or after shutdown");
  Header header{Op::kMemory, 0, 0, 0};
  if (model_.comm().size() > 1) model_.comm().broadcast(&header, sizeof(header), 0);
  return all_gather_memory();
}

void LockstepEngine::shutdown() {
  if (stopped_) return;
  Header header{Op::kStop, 0, 0, 0};
  if (model_.comm().size() > 1) model_.comm().broadcast(&header, sizeof(header), 0);
  stopped_ = true;
}

void LockstepEngine::run_worker() {
  Communicator& comm = model_.comm();
  std::vector<int32_t> tokens, slots;
  while (!stopped_) {
    Header header{};
    comm.broadcast(&header, sizeof(header), 0);
    slots.clear();
    if (header.op == Op::kForwardBatch) {
      slots.resize(static_cast<size_t>(header.n_tokens));
      comm.broadcast(slots.data(), static_cast<int64_t>(slots.size() * sizeof(int32_t)), 0);
    }
    if (header.op == Op::kForward || header.op == Op::kForwardBatch) {
      tokens.resize(static_cast<size_t>(header.n_tokens));
      comm.broadcast(tokens.data(), static_cast<int64_t>(tokens.size() * sizeof(int32_t)), 0);
    }
    execute(header, tokens, slots, nullptr);
    if (header.op == Op::kMemory) all_gather_memory();
  }
}

}  // namespace tessera
