#pragma once
// Internal to core/ml's trainer: the collectives of a data-parallel run on c10d
// (Distributed.cpp, the one translation unit that includes c10d). Brings in LibTorch.
#include "../Distributed.h"
#include "../MlResult.h"

#include <torch/torch.h>

#include <memory>
#include <string>
#include <vector>

namespace lightbox::ml::detail {

/// The process group of one rank: a TCPStore rendezvous, then Gloo (CPU tensors) or NCCL
/// (CUDA tensors). Every call is a collective: all ranks make the same calls in the same
/// order. A call fails by throwing std::runtime_error with a message that names this rank and
/// says that a peer stopped or cannot be reached (a peer that dies closes its connections, so
/// the others fail at once; one that hangs is waited for DistributedConfig::timeoutSeconds).
class Collective {
public:
    /// Meets the other ranks; fails within the timeout when they do not come (a wrong
    /// address or port, a missing rank).
    static Result<std::unique_ptr<Collective>> connect(const DistributedConfig& config, const torch::Device& device);
    ~Collective();

    int rank() const;
    int size() const;
    const std::string& backend() const;

    /// Copies rank 0's values into `tensors` on every rank (in place).
    void broadcast(std::vector<torch::Tensor> tensors);
    /// Sums `values` over the ranks (float64, exact for counts).
    std::vector<double> sum(std::vector<double> values);
    /// Data-parallel gradient step: every rank's gradients of the parameters that require
    /// them, multiplied by `weight` (the rank's share of the loss's denominator: its sample
    /// count, or the sum of its class weights), summed over the ranks in buckets of about
    /// kBucketBytes and divided by the total weight, so that the result is the gradient of the
    /// loss over the global batch. A gradient no rank computed stays undefined. Returns the
    /// total weight (0: no rank had a batch, the step is to be skipped).
    double averageGradients(const std::vector<torch::Tensor>& parameters, double weight);
    /// Averages floating-point buffers (batch-norm running statistics) over the ranks and
    /// gives every rank rank 0's integer buffers (batch counters).
    void averageBuffers(const std::vector<torch::Tensor>& buffers);

    static constexpr size_t kBucketBytes = size_t(4) << 20;

private:
    struct Impl;
    explicit Collective(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m;
};

} // namespace lightbox::ml::detail
