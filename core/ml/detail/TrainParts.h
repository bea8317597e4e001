#pragma once
// Internal to core/ml's trainer (see TrainState.h for its files): the LibTorch parts they
// share. Brings in LibTorch, so only core/ml's .cpp files include it.
#include "../RunFolderLock.h"
#include "Collective.h"
#include "Net.h"
#include "TrainState.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace lightbox::ml::detail {

using Clock = std::chrono::steady_clock;

inline double secondsSince(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

/// `error` with a hint appended when it is an out-of-memory error.
std::string withOutOfMemoryHint(const std::string& error);

// ---- Batches and the loss (Evaluate.cpp) ----

torch::Tensor pixelsTensor(const Batch& b);
torch::Tensor labelsTensor(const Batch& b);
/// Empty when `b` fits a network of `inChannels` inputs and `numClasses` outputs (and the
/// input size of `spec`, when given), else a message for the user.
std::string checkBatch(const Batch& b, int inChannels, int numClasses, const PreprocessSpec* spec, const char* what);
/// Cross-entropy with optional class weights (mean weighted by the targets' weights, as
/// PyTorch does) and label smoothing (1.13's C++ API has no label_smoothing option). With
/// `ordinalSigma` > 0 the one-hot target becomes a Gaussian over the grades, exp(-(k-y)^2 /
/// (2 sigma^2)) normalised, before smoothing.
torch::Tensor crossEntropy(const torch::Tensor& logits, const torch::Tensor& target, const torch::Tensor& weights,
                           double smoothing, double ordinalSigma = 0.0);

/// One pass over an evaluation source (validation during training, or evaluateModel).
struct EvalPass {
    double lossSum = 0.0;
    double weightSum = 0.0;
    int64_t correct = 0;
    int64_t count = 0;
    std::vector<int64_t> labels;
    std::vector<int64_t> predicted;
    std::vector<std::vector<float>> probabilities; ///< only when asked for
    std::vector<std::string> ids;
    bool cancelled = false;
};
Result<EvalPass> evaluatePass(const std::function<torch::Tensor(const torch::Tensor&)>& forward, BatchSource& source,
                              int epoch, const torch::Device& device, int inChannels, int numClasses,
                              const PreprocessSpec* spec, const torch::Tensor& weights, bool keepProbabilities,
                              bool half, TrainingControl* control, const char* what);

// ---- Checkpoints (TrainCheckpoint.cpp) ----

/// Weights, optimiser and `state` in one archive, written atomically: the commit of an epoch.
Status saveCheckpoint(const std::string& path, const torch::nn::Module& net, const torch::optim::Optimizer& optimizer,
                      const RunState& state, const NetIdentity& id);
/// Loads weights and optimiser into `net` and `optimizer`; fails when the checkpoint belongs
/// to another network (`id`) or is damaged.
Result<RunState> loadCheckpoint(const std::string& path, torch::nn::Module& net, torch::optim::Optimizer& optimizer,
                                const NetIdentity& id, const torch::Device& device);

// ---- The set-up of a run (TrainSetup.cpp) ----

/// A run set up to train: its network and optimiser on their device, and its state (fresh, or
/// resumed from the checkpoint).
struct Run {
    TrainConfig config;
    int numClasses = 0;
    int inChannels = 0;
    torch::Device device{torch::kCPU};
    std::string reduced; ///< the mixed precision's type ("" = float32)
    bool half = false;   ///< autocast on
    bool scaled = false; ///< float16 loss scaling (CUDA)
    int threads = 0;
    std::shared_ptr<NetImpl> net;
    std::unique_ptr<torch::optim::Optimizer> optimizer;
    torch::Tensor weights; ///< class weights of the loss, or undefined
    NetIdentity identity;
    RunState state;
    std::string checkpointPath, bestPath, pendingBestPath;
    int64_t trainImages = 0, valImages = 0; ///< per epoch, all ranks together
    std::shared_ptr<RunFolderLock> lock;    ///< held by the process that writes the folder
    std::unique_ptr<Collective> dist;       ///< the other ranks; null for one process
    /// This process writes the run folder (one process, or rank 0).
    bool writes() const { return !dist || dist->rank() == 0; }
    /// Parameters whose gradients are averaged: all that train (the same on every rank).
    std::vector<torch::Tensor> trained() const
    {
        std::vector<torch::Tensor> out;
        for (const auto& p : net->parameters())
            if (p.requires_grad())
                out.push_back(p);
        return out;
    }
};

/// Checks the configuration, builds the network (fresh from the zoo, or from a bundle to
/// fine-tune) and its optimiser, takes the run folder's lock (the process that writes it),
/// resumes from the checkpoint when asked, repairs the folder and writes config.json.
Status prepareRun(Run& run, const TrainConfig& requested, bool resume,
                  const std::function<void(const std::string&)>& message);
/// Counts the images of an epoch; in a data-parallel run first meets the other ranks, shards
/// the sources and gives every rank rank 0's weights.
Status startRanks(Run& run, BatchSource& train, BatchSource* val,
                  const std::function<void(const std::string&)>& message);

} // namespace lightbox::ml::detail
