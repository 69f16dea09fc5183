// What the launcher (mpirun / mpiexec, via OpenMPI's, PMI's or PMIx's environment variables) tells
// a process about its place in the job, readable before MPI is initialised: whether to start MPI
// at all, and whether this is rank 0 (which reads prompts and binds the HTTP port while the
// model loads). The one place these variables are read.
#pragma once

namespace tessera {

// True when the environment says this process was started by mpirun/mpiexec.
bool launched_under_mpi();

// This process's rank as the launcher set it; 0 when not launched by one.
int launcher_rank();

}  // namespace tessera
