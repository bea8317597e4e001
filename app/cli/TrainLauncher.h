#pragma once

// The distributed side of `lightbox-cli train`: the launcher environment (torchrun, srun, a
// Kubernetes PyTorchJob) and `--nproc N`, which starts the ranks itself (TrainLauncher.cpp).

#include <ml/Distributed.h>

#include <QStringList>

#include <string>

namespace lightbox::cli {

/// Reads RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT (and torchrun's
/// TORCHELASTIC_USE_AGENT_STORE and TORCHELASTIC_RESTART_COUNT). Without WORLD_SIZE (or
/// with WORLD_SIZE=1) the run is a single process. Fails with a message naming the variable
/// when a value is missing or out of range.
Result<ml::DistributedConfig> distributedFromEnvironment(int timeoutSeconds);

/// Starts `nproc` ranks of this program on this machine with `arguments` (the command line
/// without the program) and the launcher environment set (MASTER_ADDR 127.0.0.1, a free
/// MASTER_PORT). Rank 0's output passes through; the others' lines are prefixed "[rank r] ".
/// SIGINT and SIGTERM are forwarded to every rank. When a rank fails, the others are given the
/// distributed timeout to end by themselves, then killed. Returns 0 when every rank succeeded,
/// else the first failing rank's exit status.
int launchLocalRanks(int nproc, const QStringList& arguments, int timeoutSeconds);

} // namespace lightbox::cli
