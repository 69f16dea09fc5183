// Collectives between the ranks of a tensor-parallel group. Two backends: a single process
// (every collective is a no-op or a copy) and MPI (OpenMPI), chosen at startup by whether the
// process was launched under mpirun. Passed down explicitly; there is no global communicator.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace tessera {

class Communicator {
 public:
  virtual ~Communicator() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual const char* backend() const = 0;

  // data[i] = Σ_ranks data[i] on every rank.
  virtual void all_reduce_sum(float* data, int64_t n) = 0;
  virtual void broadcast(void* data, int64_t bytes, int root) = 0;
  // Rank r contributes counts[r] floats; root receives them concatenated in rank order.
  virtual void gather_v(const float* send, float* recv, const std::vector<int64_t>& counts, int root) = 0;
  // All ranks receive every rank's `n` int64 values, concatenated in rank order.
  virtual void all_gather_i64(const int64_t* send, int64_t n, int64_t* recv) = 0;
  virtual void barrier() = 0;

  // Seconds spent inside all_reduce_sum so far (for the "time in all-reduce" report).
  double all_reduce_seconds() const { return all_reduce_seconds_; }

 protected:
  double all_reduce_seconds_ = 0;
};

std::unique_ptr<Communicator> make_single_process_communicator();

// Initialises MPI (once per process) and returns a communicator over MPI_COMM_WORLD. Errors on
// any rank abort the job (MPI_ERRORS_ARE_FATAL), so a dead peer never leaves the rest hanging.
std::unique_ptr<Communicator> make_mpi_communicator();
// Finalises MPI if it was initialised.
void finalize_mpi();
// Aborts every rank of the job with the given exit code (used when one rank hits an error).
[[noreturn]] void abort_all_ranks(int code);

}  // namespace tessera
