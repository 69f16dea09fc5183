#include "parallel/launch_env.h"

#include <cstdlib>
#include <initializer_list>

namespace tessera {
namespace {

// OpenMPI sets OMPI_COMM_WORLD_*; MPICH/Hydra and Slurm's PMI set PMI_*; PMIx launchers PMIX_RANK.
constexpr std::initializer_list<const char*> kRankVariables = {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK"};
constexpr std::initializer_list<const char*> kSizeVariables = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};

const char* first_set(std::initializer_list<const char*> names) {
  for (const char* name : names)
    if (const char* value = std::getenv(name)) return value;
  return nullptr;
}

}  // namespace

bool launched_under_mpi() { return first_set(kRankVariables) != nullptr || first_set(kSizeVariables) != nullptr; }

int launcher_rank() {
  const char* value = first_set(kRankVariables);
  return value ? std::atoi(value) : 0;
}

}  // namespace tessera
