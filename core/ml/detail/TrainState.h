#pragma once
// Internal to core/ml's trainer, which is four files along its seams:
//   Trainer.cpp         the epoch loop (LibTorch)
//   TrainSetup.cpp      network, optimiser, run-folder lock, resume, the ranks (LibTorch)
//   TrainSchedule.cpp   learning-rate schedules, best epoch and early stopping (torch-free)
//   TrainCheckpoint.cpp the run folder: checkpoints, metrics.csv, resume and repair (LibTorch)
//   Evaluate.cpp        validation and evaluation passes, the loss (LibTorch)
// and TrainConfig.cpp (the configuration's JSON and checks, torch-free).
// This header is torch-free: it holds what those files share about a run's state.
#include "../MlResult.h"
#include "../Trainer.h"

#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace lightbox::ml::detail {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// The run folder's files.
constexpr const char* kConfigFile = "config.json";
constexpr const char* kMetricsFile = "metrics.csv";
constexpr const char* kCheckpointFile = "checkpoint.pt";
constexpr const char* kBestFile = "best.lbx";
// A new best epoch's bundle waits here until the epoch's checkpoint is written: the checkpoint
// is the commit point, so best.lbx never holds an epoch that a resumed run trains again.
constexpr const char* kPendingBestFile = "best.lbx.pending";

std::string inRunDir(const std::string& runDir, const char* name);

/// What the checkpoint holds besides weights and optimiser: the schedules' and early
/// stopping's state, the loss scale and the epochs done.
struct RunState {
    int nextEpoch = 0;
    double learningRate = 0.0;
    double plateauBest = std::numeric_limits<double>::infinity();
    int plateauBad = 0;
    double bestScore = kNaN;
    int bestEpoch = -1;
    int sinceBest = 0;
    bool stoppedEarly = false;
    double lossScale = 65536.0;
    int lossScaleGoodSteps = 0;
    std::vector<EpochMetrics> history;
};

/// Identifies the network a checkpoint belongs to.
struct NetIdentity {
    std::string architecture;
    int inChannels = 0;
    int numClasses = 0;
    std::string optimizer;
};

// ---- The run folder (TrainCheckpoint.cpp) ----

/// Writes `text` next to `path` and renames it over `path`. `faultName` names the point at
/// which the crash-safety tests may kill the program half-way (core/base/FaultInjection.h).
Status writeTextAtomically(const std::string& path, const std::string& text, const char* faultName = "text-write");
/// A number as metrics.csv writes it: 6 significant digits, empty for NaN.
std::string csvNumber(double v);
std::string metricsCsv(const std::vector<EpochMetrics>& history);
std::string stateJson(const RunState& s, const NetIdentity& id);
/// Fails when the text is damaged or belongs to another network (`expected`).
Result<RunState> stateFromJson(const std::string& text, const NetIdentity& expected);
/// Puts a run folder back into the state its checkpoint describes, after a run that was
/// killed (or ran out of disk) between writes: temporary files are removed, a pending best
/// bundle of the committed epoch is moved into place (one of an uncommitted epoch is dropped),
/// and metrics.csv is written again from the checkpoint's history.
Status recoverRunFolder(const std::string& runDir, const RunState& state,
                        const std::function<void(const std::string&)>& message);

// ---- Schedules, best epoch and early stopping (TrainSchedule.cpp) ----

/// The learning rate for `epoch`: the cosine schedule's, or the one the plateau rule (or
/// none) left in `s`. Stored in `s` too.
double learningRateForEpoch(RunState& s, const TrainConfig& c, int epoch);

/// What a finished epoch decided.
struct EpochVerdict {
    bool best = false;      ///< the monitored value improved (or no validation: every epoch is the latest best)
    bool stopEarly = false; ///< early stopping fired
    std::string message;    ///< "learning rate lowered to …", or empty
};
/// Records the finished epoch `em` (its metrics filled in) in `s`: the best epoch on the
/// monitored value, the plateau rule's rate for the next epoch, and early stopping.
EpochVerdict recordEpoch(RunState& s, const TrainConfig& c, const EpochMetrics& em, bool useVal);

} // namespace lightbox::ml::detail
