#pragma once

// Data-parallel training across processes on PyTorch's c10d (Distributed.cpp): the
// configuration of one rank. Torch-free.

#include "MlResult.h"

#include <string>

namespace lightbox::ml {

/// Where one process stands in a data-parallel run and how it meets the others: a TCPStore
/// rendezvous at masterAddr:masterPort (rank 0 serves it), then Gloo on the CPU or NCCL on a
/// GPU. A launcher (torchrun, srun, a Kubernetes PyTorchJob, `lightbox-cli train --nproc N`)
/// gives each process its rank; the application reads that from the environment, core/ml
/// only takes the values. worldSize 1 is an ordinary single-process run.
struct DistributedConfig {
    int rank = 0;      ///< 0 .. worldSize - 1; rank 0 writes the run folder
    int worldSize = 1; ///< processes in the run
    int localRank = 0; ///< rank on this machine: picks the GPU (cuda:localRank) when the device is "auto"/"cuda"
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    std::string backend = "auto"; ///< "auto" (NCCL on CUDA, Gloo on the CPU), "gloo", "nccl"
    /// How long a collective (and the rendezvous) may wait for a peer before the run fails.
    int timeoutSeconds = 300;
    /// The launcher serves the rendezvous store itself (torchrun's agent,
    /// TORCHELASTIC_USE_AGENT_STORE), so rank 0 joins it as a client instead of serving it.
    bool launcherStore = false;
    /// Tells apart the rendezvous of a restarted attempt (TORCHELASTIC_RESTART_COUNT).
    int attempt = 0;

    bool enabled() const { return worldSize > 1; }
    /// "rank R of N".
    std::string describe() const;
    /// Empty when usable, else what is wrong.
    std::string validate() const;
};

/// A TCP port on 127.0.0.1 that was free a moment ago (the kernel's choice), for the
/// rendezvous of ranks started on this machine; -1 when none can be had.
int freeLocalPort();

/// True when this LibTorch can run `backend` ("gloo", "nccl").
bool distributedBackendAvailable(const std::string& backend);

} // namespace lightbox::ml
