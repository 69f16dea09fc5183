#include "parallel/communicator.h"

#include <algorithm>

namespace tessera {

namespace {

class SingleProcessCommunicator final : public Communicator {
 public:
  int rank() const override { return 0; }
  int size() const override { return 1; }
  const char* backend() const override { return "single-process"; }
  void all_reduce_sum(float*, int64_t) override {}
  void broadcast(void*, int64_t, int) override {}
  void gather_v(const float* send, float* recv, const std::vector<int64_t>& counts, int) override {
    if (send != recv) std::copy_n(send, counts[0], recv);
  }
  void all_gather_i64(const int64_t* send, int64_t n, int64_t* recv) override {
    if (send != recv) std::copy_n(send, n, recv);
  }
  void barrier() override {}
};

}  // namespace

std::unique_ptr<Communicator> make_single_process_communicator() {
  return std::make_unique<SingleProcessCommunicator>();
}

}  // namespace tessera
