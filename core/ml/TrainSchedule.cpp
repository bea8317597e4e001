// The trainer's schedules: the learning rate per epoch (cosine, or ReduceLROnPlateau), the
// best epoch on the monitored value, and early stopping. Torch-free; the state lives in
// RunState, so a resumed run carries on where the checkpoint left it.
#include "detail/TrainState.h"

#include <algorithm>
#include <cmath>

namespace lightbox::ml::detail {

namespace {

bool lowerIsBetter(const std::string& monitor)
{
    return monitor == "val_loss";
}

double monitoredValue(const std::string& monitor, const EpochMetrics& m)
{
    if (monitor == "val_accuracy")
        return m.valAccuracy;
    if (monitor == "val_qwk")
        return m.valQwk;
    return m.valLoss;
}

} // namespace

double learningRateForEpoch(RunState& s, const TrainConfig& c, int epoch)
{
    if (c.schedule == "cosine") {
        const double t = static_cast<double>(epoch) / std::max(1, c.epochs);
        s.learningRate =
            c.minLearningRate + (c.learningRate - c.minLearningRate) * (1.0 + std::cos(std::acos(-1.0) * t)) / 2.0;
    }
    return s.learningRate;
}

EpochVerdict recordEpoch(RunState& s, const TrainConfig& c, const EpochMetrics& em, bool useVal)
{
    EpochVerdict v;
    // Best epoch (and early stopping) on the monitored value; without validation data the
    // latest epoch is the best.
    v.best = true;
    if (useVal) {
        const double score = monitoredValue(c.monitor, em);
        const bool lower = lowerIsBetter(c.monitor);
        v.best = s.bestEpoch < 0 || (std::isfinite(score) && (!std::isfinite(s.bestScore) ||
                                                              (lower ? score < s.bestScore : score > s.bestScore)));
        if (v.best) {
            s.bestScore = score;
            s.sinceBest = 0;
        } else {
            ++s.sinceBest;
        }
    } else {
        s.bestScore = em.trainLoss;
    }
    if (v.best)
        s.bestEpoch = em.epoch;

    // ReduceLROnPlateau (PyTorch's rule: relative threshold 1e-4, reduce once the number of
    // bad epochs exceeds the patience) on the validation loss, else the training loss. The
    // new rate applies from the next epoch.
    if (c.schedule == "plateau") {
        const double watched = std::isfinite(em.valLoss) ? em.valLoss : em.trainLoss;
        if (watched < s.plateauBest * (1.0 - 1e-4)) {
            s.plateauBest = watched;
            s.plateauBad = 0;
        } else if (++s.plateauBad > c.plateauPatience) {
            const double lower = std::max(c.minLearningRate, s.learningRate * c.plateauFactor);
            if (lower < s.learningRate)
                v.message = "epoch " + std::to_string(em.epoch + 1) + ": learning rate lowered to " + csvNumber(lower);
            s.learningRate = lower;
            s.plateauBad = 0;
        }
    }
    if (useVal && c.earlyStopPatience > 0 && s.sinceBest >= c.earlyStopPatience)
        s.stoppedEarly = true;
    v.stopEarly = s.stoppedEarly;
    return v;
}

} // namespace lightbox::ml::detail
