// The trainer's epoch loop: training batches (with their gradients averaged over the ranks of
// a data-parallel run), validation, the best bundle and the epoch's commit. Its other parts,
// one file each: TrainSetup.cpp (network, optimiser, resume, ranks), TrainSchedule.cpp
// (learning-rate schedules, best epoch, early stopping), TrainCheckpoint.cpp (checkpoints,
// metrics.csv, resume), Evaluate.cpp (validation and evaluation passes, the loss),
// TrainConfig.cpp.
#include "Trainer.h"

#include "Metrics.h"
#include "RunFolderLock.h"
#include "Runtime.h"
#include "detail/Collective.h"
#include "detail/Device.h"
#include "detail/ModelImpl.h"
#include "detail/TrainParts.h"

#include <base/FaultInjection.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

namespace lightbox::ml {

using namespace detail;

namespace {

namespace fs = std::filesystem;

// ---------------------------------------------------------------------------------------
// Network set-up

void setLearningRate(torch::optim::Optimizer& optimizer, double lr)
{
    for (auto& group : optimizer.param_groups())
        group.options().set_lr(lr);
}

/// Stages before the last `trainLast` stop requiring gradients (and keep their batch-norm
/// statistics: they run in eval mode); everything else, the head included, trains. Returns
/// the frozen stage modules.
std::vector<std::shared_ptr<torch::nn::Module>> applyFreeze(detail::NetImpl& net, int trainLast)
{
    const int frozen = trainLast < 0 ? 0 : std::max(0, net.stageCount() - trainLast);
    std::vector<std::shared_ptr<torch::nn::Module>> frozenModules;
    for (auto& child : net.named_children()) {
        const auto& names = net.stageNames();
        const auto it = std::find(names.begin(), names.end(), child.key());
        const bool isFrozen = it != names.end() && (it - names.begin()) < frozen;
        for (auto& p : child.value()->parameters())
            p.set_requires_grad(!isFrozen);
        if (isFrozen)
            frozenModules.push_back(child.value());
    }
    return frozenModules;
}

/// Dynamic loss scaling for float16 autocast (LibTorch has no C++ GradScaler): the loss is
/// multiplied before backward, gradients divided after; a step with inf/NaN gradients is
/// skipped and the scale halved; after 2000 good steps it doubles.
class LossScaler {
public:
    LossScaler(bool enabled, double& scale, int& goodSteps) : m_enabled(enabled), m_scale(scale), m_good(goodSteps) {}
    torch::Tensor scale(const torch::Tensor& loss) const { return m_enabled ? loss * m_scale : loss; }
    /// Unscales the gradients; false when the step must be skipped.
    bool unscale(torch::optim::Optimizer& optimizer)
    {
        if (!m_enabled)
            return true;
        torch::NoGradGuard noGrad;
        torch::Tensor total;
        for (auto& group : optimizer.param_groups())
            for (auto& p : group.params()) {
                if (!p.grad().defined())
                    continue;
                p.mutable_grad().div_(m_scale);
                auto s = p.grad().to(torch::kFloat32).sum();
                total = total.defined() ? total + s : s;
            }
        const bool finite = !total.defined() || std::isfinite(total.item<double>());
        if (!finite) {
            m_scale = std::max(1.0, m_scale / 2);
            m_good = 0;
        } else if (++m_good >= 2000) {
            m_scale = std::min(65536.0 * 256, m_scale * 2);
            m_good = 0;
        }
        return finite;
    }

private:
    bool m_enabled;
    double& m_scale;
    int& m_good;
};

std::string describeRun(const TrainConfig& c, int64_t trainImages, int64_t valImages, int bestEpoch,
                        const std::string& device)
{
    std::ostringstream s;
    s << (c.initBundle.empty() ? "trained from scratch"
                               : "fine-tuned from " + fs::path(c.initBundle).filename().string())
      << " (" << c.architecture << ") on " << trainImages << " training images";
    if (valImages > 0)
        s << " and " << valImages << " validation images";
    s << "; " << c.optimizer << ", learning rate " << c.learningRate << ", weight decay " << c.weightDecay;
    if (c.labelSmoothing > 0)
        s << ", label smoothing " << c.labelSmoothing;
    if (c.ordinal && c.ordinalSigma > 0)
        s << ", ordinal soft labels (sigma " << c.ordinalSigma << " grades)";
    if (c.head == "corn")
        s << ", CORN ordinal head";
    if (!c.classWeights.empty())
        s << ", class weights";
    s << ", schedule " << c.schedule << "; best epoch " << bestEpoch + 1 << " of " << c.epochs;
    if (valImages > 0)
        s << " by " << c.monitor;
    s << "; seed " << c.seed << " on " << device;
    if (c.distributed.enabled())
        s << " x " << c.distributed.worldSize << " processes";
    return s.str();
}

// ---------------------------------------------------------------------------------------
// The training run

struct Session {
    BatchSource& train;
    BatchSource* val;
    TrainingObserver* observer;
    TrainingControl* control;

    void message(const std::string& m) const
    {
        if (observer)
            observer->message(m);
    }
    bool stopRequested() const { return control && control->stop.load(); }
    /// Sleeps while paused; returns the seconds spent waiting.
    double waitWhilePaused() const
    {
        if (!control || !control->pause.load())
            return 0.0;
        const auto start = Clock::now();
        while (control->pause.load() && !control->stop.load())
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return secondsSince(start);
    }
};

/// Progress timing carried from epoch to epoch, for the time-left estimate.
struct Pace {
    double lastValSeconds = -1.0;
    double secondsPerBatch = 0.0;
};

/// One epoch's pass over the training data: fills the training half of `em` and the seconds
/// spent paused. False when a stop was asked for.
Result<bool> trainEpoch(Run& run, const Session& session, int epoch, LossScaler& scaler, Pace& pace, EpochMetrics& em,
                        double& pausedSeconds, int& batchIndex)
{
    using R = Result<bool>;
    const TrainConfig& config = run.config;
    BatchSource& train = session.train;
    const auto epochStart = Clock::now();
    // Per-epoch seeding: dropout draws the same masks whether or not the run was resumed (and
    // other masks on each rank).
    const uint64_t rank = run.dist ? static_cast<uint64_t>(run.dist->rank()) : 0;
    manualSeed(config.seed + 1000003ull * static_cast<uint64_t>(epoch + 1) + 7919ull * rank);
    const bool frozenNow =
        config.freezeAllButLast >= 0 && (config.unfreezeAtEpoch < 0 || epoch < config.unfreezeAtEpoch);
    const auto frozenModules = applyFreeze(*run.net, frozenNow ? config.freezeAllButLast : -1);
    setLearningRate(*run.optimizer, learningRateForEpoch(run.state, config, epoch));
    run.net->train(true);
    for (auto& m : frozenModules)
        m->eval();

    const bool useVal = session.val && session.val->batchCount() != 0;
    train.startEpoch(epoch);
    const int batchCount = std::max(1, train.batchCount());
    double lossSum = 0.0;
    pausedSeconds = 0.0;
    int64_t correct = 0, seen = 0;
    batchIndex = -1;
    Batch b;
    bool more = true;
    const auto trained = run.trained();
    while (true) {
        pausedSeconds += session.waitWhilePaused();
        bool stop = session.stopRequested();
        if (run.dist) {
            // Ranks step together: the epoch ends when every shard is done, and a stop on any
            // rank stops all at the same batch. A rank whose shard is done adds no gradient.
            more = more && !stop && train.next(b);
            const auto votes = run.dist->sum({more ? 1.0 : 0.0, stop ? 1.0 : 0.0});
            if (votes[1] > 0)
                return false;
            if (votes[0] == 0)
                break;
            if (!more) {
                ++batchIndex;
                run.optimizer->zero_grad();
                if (run.dist->averageGradients(trained, 0.0) > 0 && scaler.unscale(*run.optimizer))
                    run.optimizer->step();
                continue;
            }
        } else {
            if (stop)
                return false;
            if (!train.next(b))
                break;
        }
        ++batchIndex;
        const std::string badBatch = checkBatch(b, run.inChannels, run.numClasses, &config.preprocess, "training");
        if (!badBatch.empty())
            return R::failure("epoch " + std::to_string(epoch + 1) + ": " + badBatch);
        auto x = pixelsTensor(b).to(run.device);
        auto y = labelsTensor(b).to(run.device);
        torch::Tensor logits, loss, cumulative;
        {
            detail::AutocastGuard autocast(run.half, run.device);
            if (run.net->cornHead()) {
                cumulative = run.net->conditionalLogits(run.net->pool(run.net->features(x)));
                logits = detail::cornLogProbs(cumulative);
            } else {
                logits = run.net->forward(x);
            }
        }
        loss = cumulative.defined() ? detail::cornLoss(cumulative, y, run.weights)
                                    : crossEntropy(logits, y, run.weights, config.labelSmoothing,
                                                   config.ordinal ? config.ordinalSigma : 0.0);
        run.optimizer->zero_grad();
        scaler.scale(loss).backward();
        // Ranks weigh their gradients by their share of the loss's denominator (samples, or
        // the class weights of their samples), so the average is the global batch's gradient.
        const double total =
            run.dist ? run.dist->averageGradients(trained, run.weights.defined()
                                                               ? run.weights.index_select(0, y).sum().item<double>()
                                                               : static_cast<double>(b.n))
                     : 1.0;
        if (total > 0 && scaler.unscale(*run.optimizer))
            run.optimizer->step();
        base::faultPoint("train-batch");

        const double batchLoss = loss.item<double>();
        const int64_t batchCorrect = (logits.argmax(1) == y).sum().item<int64_t>();
        if (!std::isfinite(batchLoss) && !run.scaled)
            return R::failure("epoch " + std::to_string(epoch + 1) + ", batch " + std::to_string(batchIndex + 1) +
                              ": the loss is no longer a number (the learning rate " +
                              std::to_string(run.state.learningRate) + " is probably too high)");
        lossSum += batchLoss * b.n;
        correct += batchCorrect;
        seen += b.n;

        if (session.observer) {
            const double elapsed = std::max(1e-9, secondsSince(epochStart) - pausedSeconds);
            pace.secondsPerBatch = elapsed / (batchIndex + 1);
            const double valGuess = !useVal ? 0.0
                                    : pace.lastValSeconds >= 0
                                        ? pace.lastValSeconds
                                        : pace.secondsPerBatch / 3.0 * std::max(0, session.val->batchCount());
            BatchMetrics bm;
            bm.epoch = epoch;
            bm.batch = batchIndex;
            bm.batchCount = train.batchCount();
            bm.loss = batchLoss;
            bm.accuracy = static_cast<double>(batchCorrect) / b.n;
            bm.learningRate = run.state.learningRate;
            bm.imagesPerSecond = static_cast<double>(seen) / elapsed;
            bm.secondsLeft = std::max(0, batchCount - batchIndex - 1) * pace.secondsPerBatch + valGuess +
                             (config.epochs - epoch - 1) * (batchCount * pace.secondsPerBatch + valGuess);
            session.observer->batchFinished(bm);
        }
        if (session.stopRequested())
            return false;
    }
    if (run.dist) {
        const auto sums = run.dist->sum({lossSum, static_cast<double>(correct), static_cast<double>(seen)});
        lossSum = sums[0];
        correct = static_cast<int64_t>(sums[1]);
        seen = static_cast<int64_t>(sums[2]);
    }
    if (seen == 0)
        return R::failure("the training data gave no batches in epoch " + std::to_string(epoch + 1));
    batchIndex = -1;
    em.epoch = epoch;
    em.trainLoss = lossSum / static_cast<double>(seen);
    em.trainAccuracy = static_cast<double>(correct) / static_cast<double>(seen);
    em.valLoss = em.valAccuracy = em.valQwk = kNaN;
    em.learningRate = run.state.learningRate;
    em.imagesPerSecond = static_cast<double>(seen) / std::max(1e-9, secondsSince(epochStart) - pausedSeconds);
    return true;
}

/// The validation half of `em`. False when a stop was asked for.
Result<bool> validateEpoch(Run& run, const Session& session, int epoch, TrainingControl* control, EpochMetrics& em)
{
    run.net->eval();
    // Validation stays float32 under mixed precision: the epoch is chosen, and the bundle's
    // card records, on the figures `evaluate` reproduces by default. Ranks validate their
    // shards without stopping half-way (a stop is honoured at the next training batch).
    auto pass = evaluatePass([&](const torch::Tensor& t) { return run.net->forward(t); }, *session.val, epoch,
                             run.device, run.inChannels, run.numClasses, &run.config.preprocess, run.weights, false,
                             /*half=*/false, run.dist ? nullptr : control, "validation");
    if (!pass)
        return Result<bool>::failure("epoch " + std::to_string(epoch + 1) + ": " + pass.error());
    if (pass->cancelled)
        return false;
    if (run.dist) {
        // The sums, and the confusion matrix (all that the kappa depends on), over the ranks.
        const int k = run.numClasses;
        std::vector<double> v{pass->lossSum, pass->weightSum, static_cast<double>(pass->correct),
                              static_cast<double>(pass->count)};
        v.resize(4 + size_t(k) * size_t(k), 0.0);
        for (size_t i = 0; i < pass->labels.size(); ++i)
            v[4 + size_t(pass->labels[i]) * size_t(k) + size_t(pass->predicted[i])] += 1.0;
        v = run.dist->sum(std::move(v));
        pass->lossSum = v[0];
        pass->weightSum = v[1];
        pass->correct = static_cast<int64_t>(v[2]);
        pass->count = static_cast<int64_t>(v[3]);
        pass->labels.clear();
        pass->predicted.clear();
        for (int t = 0; t < k; ++t)
            for (int p = 0; p < k; ++p)
                for (int64_t n = static_cast<int64_t>(v[4 + size_t(t) * size_t(k) + size_t(p)]); n > 0; --n) {
                    pass->labels.push_back(t);
                    pass->predicted.push_back(p);
                }
    }
    if (pass->count > 0) {
        em.valLoss = pass->lossSum / std::max(1e-12, pass->weightSum);
        em.valAccuracy = static_cast<double>(pass->correct) / static_cast<double>(pass->count);
        if (run.config.ordinal || run.config.monitor == "val_qwk")
            em.valQwk = quadraticWeightedKappa(pass->labels, pass->predicted, run.numClasses);
    }
    return true;
}

/// Writes a new best epoch's bundle, to wait as best.lbx.pending until the checkpoint commits it.
Status writePendingBest(const Run& run, const Session& session, const EpochMetrics& em)
{
    const TrainConfig& config = run.config;
    const bool useVal = session.val && session.val->batchCount() != 0;
    ModelCard card;
    card.architecture = config.architecture;
    card.task = config.task;
    card.classNames = config.classNames;
    card.notCovered = config.notCovered;
    card.ordinal = config.ordinal;
    card.head = config.head;
    card.preprocess = config.preprocess;
    card.trainingSummary = describeRun(config, run.trainImages, useVal ? run.valImages : 0, em.epoch, run.device.str());
    card.created = isoTimestampUtc();
    card.metrics["epoch"] = em.epoch;
    card.metrics["train_loss"] = em.trainLoss;
    card.metrics["train_accuracy"] = em.trainAccuracy;
    const std::initializer_list<std::pair<const char*, double>> valMetrics{
        {"val_loss", em.valLoss}, {"val_accuracy", em.valAccuracy}, {"val_qwk", em.valQwk}};
    for (const auto& [key, value] : valMetrics)
        if (std::isfinite(value))
            card.metrics[key] = value;
    auto impl = std::make_shared<Model::Impl>();
    impl->net = run.net;
    impl->inChannels = run.inChannels;
    impl->numClasses = run.numClasses;
    return saveBundle(Model(impl), card, run.pendingBestPath);
}

/// Commits a finished epoch: the checkpoint first (the commit point), then best.lbx and
/// metrics.csv. A kill between them is repaired on resume (recoverRunFolder).
Status commitEpoch(Run& run, const EpochMetrics& em, bool best)
{
    run.state.history.push_back(em);
    run.state.nextEpoch = em.epoch + 1;
    if (!run.writes())
        return success();
    auto saved = saveCheckpoint(run.checkpointPath, *run.net, *run.optimizer, run.state, run.identity);
    if (!saved) {
        std::remove(run.pendingBestPath.c_str());
        return saved;
    }
    base::faultPoint("epoch-committed");
    if (best && std::rename(run.pendingBestPath.c_str(), run.bestPath.c_str()) != 0)
        return Status::failure("cannot write " + run.bestPath + ": " + std::strerror(errno));
    return writeTextAtomically(inRunDir(run.config.runDir, kMetricsFile), metricsCsv(run.state.history),
                               "metrics-write");
}

Result<TrainSummary> runTraining(const TrainConfig& requested, BatchSource& train, BatchSource* val,
                                 TrainingObserver* observer, TrainingControl* control, bool resume)
{
    using R = Result<TrainSummary>;
    Run run;
    const Session session{train, val, observer, control};
    auto prepared = prepareRun(run, requested, resume, [&](const std::string& m) { session.message(m); });
    if (!prepared)
        return R::failure(prepared.error());
    const TrainConfig& config = run.config;
    RunState& state = run.state;
    if (auto started = startRanks(run, train, val, [&](const std::string& m) { session.message(m); }); !started)
        return R::failure(started.error());

    TrainSummary summary;
    summary.device = run.device.str();
    const auto finish = [&]() -> R {
        summary.history = state.history;
        summary.bestEpoch = state.bestEpoch;
        summary.bestScore = state.bestScore;
        summary.stoppedEarly = state.stoppedEarly;
        summary.bestBundle = state.bestEpoch >= 0 && fs::exists(run.bestPath) ? run.bestPath : std::string();
        summary.skipped = train.skipped();
        if (val)
            for (auto& s : val->skipped())
                summary.skipped.push_back(s);
        return summary;
    };
    if (state.stoppedEarly) {
        session.message("this run already stopped early at epoch " + std::to_string(state.nextEpoch));
        return finish();
    }

    session.message((resume ? "resuming " : "training ") + config.architecture + " on " + run.device.str() +
                    (run.device.is_cuda() ? "" : " (" + std::to_string(run.threads) + " threads)") +
                    (run.half ? " with " + run.reduced + " mixed precision" : "") + ": " +
                    std::to_string(run.trainImages) + " images per epoch" +
                    (resume ? ", from epoch " + std::to_string(state.nextEpoch + 1) : ""));

    LossScaler scaler(run.scaled, state.lossScale, state.lossScaleGoodSteps);
    const bool useVal = val && val->batchCount() != 0;
    Pace pace;
    int epoch = state.nextEpoch;
    int batchIndex = -1;
    const auto cancel = [&]() {
        summary.cancelled = true;
        train.cancel();
        if (val)
            val->cancel();
    };
    try {
        for (; epoch < config.epochs; ++epoch) {
            if (session.stopRequested()) {
                summary.cancelled = true;
                break;
            }
            const auto epochStart = Clock::now();
            EpochMetrics em;
            double pausedSeconds = 0.0;
            auto trained = trainEpoch(run, session, epoch, scaler, pace, em, pausedSeconds, batchIndex);
            if (!trained)
                return R::failure(trained.error());
            if (!trained.value()) {
                cancel();
                break;
            }
            if (run.dist) {
                // Each rank's batch-norm statistics came from its own batches: averaged, so
                // validation and the bundle see one network.
                run.dist->averageBuffers(run.net->buffers());
            }
            if (useVal) {
                const auto valStart = Clock::now();
                auto validated = validateEpoch(run, session, epoch, control, em);
                if (!validated)
                    return R::failure(validated.error());
                if (!validated.value()) {
                    cancel();
                    break;
                }
                pace.lastValSeconds = secondsSince(valStart);
            }
            em.seconds = secondsSince(epochStart) - pausedSeconds;

            const EpochVerdict verdict = recordEpoch(state, config, em, useVal);
            em.best = verdict.best;
            if (verdict.best && run.writes()) {
                auto written = writePendingBest(run, session, em);
                if (!written)
                    return R::failure(written.error());
            }
            if (!verdict.message.empty())
                session.message(verdict.message);
            auto committed = commitEpoch(run, em, verdict.best);
            if (!committed)
                return R::failure(committed.error());
            if (observer)
                observer->epochFinished(em);
            if (verdict.stopEarly) {
                session.message("early stopping: " + config.monitor + " has not improved for " +
                                std::to_string(state.sinceBest) + " epochs; best epoch " +
                                std::to_string(state.bestEpoch + 1) + " is in " + run.bestPath);
                break;
            }
        }
    } catch (const std::exception& e) {
        return R::failure(withOutOfMemoryHint("training failed in epoch " + std::to_string(epoch + 1) +
                                              (batchIndex >= 0 ? ", batch " + std::to_string(batchIndex + 1) : "") +
                                              ": " + detail::shortError(e)));
    }
    return finish();
}

} // namespace

Result<TrainSummary> Trainer::run(const TrainConfig& config, BatchSource& train, BatchSource* val,
                                  TrainingObserver* observer, TrainingControl* control, bool resume)
{
    try {
        return runTraining(config, train, val, observer, control, resume);
    } catch (const std::exception& e) {
        return Result<TrainSummary>::failure(withOutOfMemoryHint("training failed: " + detail::shortError(e)));
    } catch (...) {
        return Result<TrainSummary>::failure("training failed with an unknown error");
    }
}

} // namespace lightbox::ml
