#pragma once

#include "BatchSource.h"
#include "Bundle.h"
#include "Classifier.h"
#include "Distributed.h"
#include "MlResult.h"
#include "ModelCard.h"
#include "Preprocess.h"

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace lightbox::ml {

/// Everything that defines a training run. Written to `<runDir>/config.json` at the start so
/// a run can be repeated or resumed. Torch-free value type.
struct TrainConfig {
    // What to train
    std::string architecture = "resnet18"; ///< a zoo architecture (modelArchitectures())
    std::string initBundle;                ///< fine-tune from this bundle instead (architecture taken from it)
    int freezeAllButLast = -1;             ///< fine-tuning: train only the last N stages + head; -1 = all
    int unfreezeAtEpoch = -1;              ///< epoch (0-based) at which frozen stages are released; -1 = never
    std::string task;                      ///< card task id, e.g. "knee-kl"
    std::vector<std::string> classNames;   ///< class count = size()
    std::vector<std::string> notCovered;   ///< task classes left out (no data), recorded in the card
    bool ordinal = false;                  ///< graded labels: QWK/MAE reported, expected grade in the card
    PreprocessSpec preprocess;             ///< input size, channels, normalisation (goes into the card)

    // Optimisation
    std::string optimizer = "adamw"; ///< "adam", "adamw", "sgd"
    double learningRate = 1e-3;
    double weightDecay = 1e-4;
    double momentum = 0.9; ///< SGD only
    int epochs = 20;
    std::vector<float> classWeights; ///< per-class loss weights; empty = uniform
    double labelSmoothing = 0.0;     ///< 0..0.5
    /// Ordinal soft labels (ordinal tasks only), in grades, 0 = off (up to 2): the target is a
    /// Gaussian over the grades centred on the true one instead of a one-hot vector, so a
    /// prediction one grade off costs less than one three grades off. Validation loss stays
    /// the ordinary cross-entropy.
    double ordinalSigma = 0.0;
    /// The classifier head: "softmax", or "corn" (graded tasks: K-1 conditional binary outputs,
    /// rank-consistent, trained by the CORN loss; see detail::NetImpl::useCornHead).
    /// The training loss shown is then the CORN loss; validation loss stays the cross-entropy
    /// of the class probabilities, comparable with a softmax run's.
    std::string head = "softmax";
    std::string schedule = "plateau"; ///< "none", "plateau" (ReduceLROnPlateau on val loss), "cosine"
    int plateauPatience = 2;
    double plateauFactor = 0.5;
    double minLearningRate = 1e-6;
    int earlyStopPatience = 5; ///< epochs without val improvement before stopping; <= 0 = never; best weights restored
    std::string monitor = "val_loss"; ///< "val_loss" (lower is better) or "val_accuracy" / "val_qwk" (higher)

    // Where and how
    std::string device = "auto"; ///< "auto", "cpu", "cuda", "cuda:N"
    /// Autocast: float16 with loss scaling on a GPU, bfloat16 on a CPU that computes it in
    /// hardware (cpuHasFastBFloat16()); ignored elsewhere. Weights stay float32.
    bool mixedPrecision = false;
    int threads = 0; ///< CPU threads for LibTorch (0 = all cores)
    uint64_t seed = 42;
    std::string runDir; ///< run folder: config.json, metrics.csv, checkpoint, best.lbx; required
    /// Data-parallel training across processes (worldSize > 1); see Trainer. Only the world
    /// size is written to config.json, for the record: a rank's place comes from its launcher.
    DistributedConfig distributed;

    std::string toJsonText() const;
    static Result<TrainConfig> fromJsonText(const std::string& text);
    /// Empty when usable, else what is wrong (unknown optimiser, no classes, ...).
    std::string validate() const;
};

/// Progress inside an epoch (throttled by the caller as it likes).
struct BatchMetrics {
    int epoch = 0;
    int batch = 0; ///< 0-based index of the batch just finished
    int batchCount = 0;
    double loss = 0.0;     ///< this batch
    double accuracy = 0.0; ///< this batch
    double learningRate = 0.0;
    double imagesPerSecond = 0.0; ///< this epoch so far, loading included
    double secondsLeft = 0.0;     ///< estimate for the whole run
};

/// The result of one finished epoch.
struct EpochMetrics {
    int epoch = 0; ///< 0-based
    double trainLoss = 0.0;
    double trainAccuracy = 0.0;
    double valLoss = 0.0; ///< NaN without a validation source
    double valAccuracy = 0.0;
    double valQwk = 0.0; ///< ordinal runs; NaN otherwise
    double learningRate = 0.0;
    double seconds = 0.0;
    double imagesPerSecond = 0.0;
    bool best = false; ///< the monitored value improved: best.lbx was written
};

/// What a finished (or stopped) run leaves behind.
struct TrainSummary {
    std::vector<EpochMetrics> history;
    int bestEpoch = -1;
    double bestScore = 0.0;
    bool stoppedEarly = false;        ///< early stopping fired
    bool cancelled = false;           ///< stop() was asked
    std::string bestBundle;           ///< path of best.lbx ("" when no epoch finished)
    std::string device;               ///< "cpu", "cuda:0"
    std::vector<std::string> skipped; ///< unreadable samples reported by the sources
};

/// Receives progress from Trainer::run on the training thread. Implementations forward it
/// (e.g. as queued Qt signals); they must not block for long.
class TrainingObserver {
public:
    virtual ~TrainingObserver() = default;
    virtual void batchFinished(const BatchMetrics&) {}
    virtual void epochFinished(const EpochMetrics&) {}
    virtual void message(const std::string&) {}
};

/// Cooperative control, shared between the GUI thread and the training thread.
struct TrainingControl {
    std::atomic<bool> stop{false};  ///< finish the current batch, keep the last checkpoint, return
    std::atomic<bool> pause{false}; ///< wait between batches while set
};

/// Trains a zoo network (or fine-tunes a bundle) on batches from a BatchSource. Synchronous:
/// run it on a worker thread. After every epoch it writes `<runDir>/checkpoint.pt` (weights,
/// optimiser, scheduler and history) atomically (temporary file, then rename) and appends a
/// row to `<runDir>/metrics.csv`; whenever the monitored value improves it writes
/// `<runDir>/best.lbx`, a model bundle. A killed run therefore loses at most the current epoch,
/// and run() with `resume` continues from the checkpoint. It does not read image files itself.
///
/// Whoever trains takes the run folder's lock (RunFolderLock) first: a second run on the same
/// folder is refused. With `config.distributed.worldSize` > 1 this process is one rank of a
/// data-parallel run (c10d: Gloo on the CPU, NCCL on CUDA, device cuda:localRank): the ranks
/// meet at the rendezvous, rank 0's weights are broadcast, each rank reads its shard of every
/// epoch (BatchSource::shard: the global batch is the sources' batch size x worldSize), the
/// gradients are averaged in buckets after each backward pass (not overlapped with it), and the
/// epoch's training and validation figures are summed over the ranks, so every rank reports
/// the same EpochMetrics and takes the same decisions. Batch norm uses each rank's own batch
/// statistics while training; the running statistics are averaged over the ranks before
/// validation. Rank 0 alone holds the lock and writes the run folder; every rank reads the
/// checkpoint on resume (the folder must be shared). A stop asked on any rank stops all at the
/// same batch; pause is not supported across ranks.
class Trainer {
public:
    /// Runs (or resumes) training. `val` may be null (no early stopping, no best selection:
    /// the last epoch counts as best). Never throws: errors (out of memory, wrong channels, a
    /// damaged checkpoint) come back as a failure and leave the last checkpoint intact.
    static Result<TrainSummary> run(const TrainConfig& config, BatchSource& train, BatchSource* val,
                                    TrainingObserver* observer = nullptr, TrainingControl* control = nullptr,
                                    bool resume = false);

    /// True when `<runDir>` holds a checkpoint that run(..., resume=true) can continue.
    static bool canResume(const std::string& runDir);
};

/// Per-sample output of a model over a data source, for metrics and reports.
struct EvaluationOutput {
    int numClasses = 0;
    std::vector<int64_t> labels;
    std::vector<std::vector<float>> probabilities; ///< one softmax vector per sample (temperature 1)
    std::vector<std::vector<float>> logits;        ///< raw network outputs, one per sample
    std::vector<std::vector<float>> features;      ///< penultimate features (withFeatures; empty for TorchScript)
    std::vector<std::string> ids;
    double seconds = 0.0;
};

/// Runs `model` (eval mode, no gradients) over every batch of `source` (one epoch, epoch 0).
/// `reducedPrecision`: float16 on a GPU, bfloat16 on a CPU that has it (as ClassifierOptions).
/// `withFeatures` keeps each sample's penultimate features (for the out-of-distribution detector).
/// `tta` averages the softmax outputs over mirrored and shifted views as Classifier::predict
/// does (the logits are then log of the average; the features stay the plain view's).
Result<EvaluationOutput> evaluateModel(const Model& model, BatchSource& source, const std::string& device = "auto",
                                       int threads = 0, bool reducedPrecision = false, bool withFeatures = false,
                                       const TtaOptions& tta = {});

} // namespace lightbox::ml
