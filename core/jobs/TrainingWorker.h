#pragma once

#include <base/Result.h>
#include <data/Dataset.h>
#include <data/TaskPreset.h>
#include <jobs/ShortcutCheck.h>
#include <ml/Bundle.h>
#include <ml/Metrics.h>
#include <ml/ModelCard.h>
#include <ml/Trainer.h>

#include <QElapsedTimer>
#include <QMetaType>
#include <QObject>
#include <QString>

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

namespace lightbox::jobs {

/// Everything a training run needs beyond ml::TrainConfig: where the data comes from, how it
/// is split and loaded. Saved as `<runDir>/run.json` beside the trainer's config.json so a
/// stopped run can be resumed from its folder alone.
struct TrainingRequest {
    std::string dataPath;                ///< data-set folder, CSV or crop-tool root
    std::string presetId;                ///< task preset id ("knee-kl"), or empty
    data::DatasetOptions dataset;        ///< classes, aliases, CSV columns, patient pattern
    data::SplitOptions split;            ///< used when the data set has no given splits
    ml::TrainConfig config;              ///< architecture, optimiser, epochs, runDir, ...
    int batchSize = 32;                  ///< loader batch size
    bool balanced = false;               ///< balanced sampler instead of shuffling
    bool classWeightsFromCounts = false; ///< weight the loss by inverse training-split class frequency
    std::string augmentPreset = "light"; ///< data::AugmentOptions preset name
    int loaderThreads = 0;               ///< 0 = the loader's default
    int cacheMiB = 1024;                 ///< decoded-image cache of each loader
    bool checkLeakage = true;            ///< run data::checkLeakage before training
    /// A class of the task with no images: false = refuse to train (the message names it),
    /// true = train on the classes that have images and record the others in the card.
    bool skipEmptyClasses = false;
    /// Run the shortcut check (a probe trained on centre-blanked images) after the leakage
    /// check; its result goes into the card.
    bool checkShortcut = false;
    bool resume = false;            ///< continue the checkpoint in config.runDir
    int galleryPerClass = 4;        ///< samples per class shown in the data view (0 = none)
    int batchSignalsPerSecond = 20; ///< throttle of batchProgress (epochs always arrive)
    /// Data-parallel training on this machine: this process is rank 0 and starts the other
    /// processes - 1 ranks as `lightbox-cli train --request` (the CLI next to this program, or
    /// $LIGHTBOX_CLI). Not part of the JSON form: a rank's place comes from its environment.
    int processes = 1;

    std::string toJsonText() const;
    static Result<TrainingRequest> fromJsonText(const std::string& text);
    /// Reads `<runDir>/run.json` and `<runDir>/config.json` and sets resume; fails with a
    /// message when the folder is not a Lightbox run or has no checkpoint to continue.
    static Result<TrainingRequest> fromRunFolder(const std::string& runDir);
};

/// Fills `request` from a task preset: classes, spellings, CSV columns, patient pattern (the
/// knee set's `<patient><L|R>.png`), ordinal flag, input size, channels, normalisation,
/// augmentation preset and architecture. Class names in the card are the preset's display names.
void applyPreset(const data::TaskPreset& preset, TrainingRequest& request);

/// Reading options for evaluating a model on a data set labelled like `preset`: the preset's
/// options without the classes the model's card lists as not covered (a chest-4class model
/// trained without tuberculosis images reads the data set as its three classes).
data::DatasetOptions datasetOptionsForModel(const data::TaskPreset* preset, const ml::ModelCard& card);

/// The task's classes that have no image in the request's data set (display names, in class
/// order); lists files only. Fails when the data set cannot be read.
Result<std::vector<std::string>> emptyClasses(const TrainingRequest& request);

/// Reading options for a data set labelled like `preset` (classes, aliases, CSV columns,
/// patient pattern); default options for nullptr.
data::DatasetOptions datasetOptionsFor(const data::TaskPreset* preset);

/// The normalisation Lightbox trains with for `channels` (ImageNet statistics, or their
/// grey average for one channel) at `size` x `size`.
ml::PreprocessSpec defaultPreprocess(int channels, int size);

/// What the data view shows about a loaded data set (after splitting).
struct DatasetSummary {
    std::string root;
    std::vector<std::string> classNames;
    std::vector<std::vector<int64_t>> countsPerSplit; ///< [Train, Val, Test][class]
    data::DatasetStats stats;
    bool hasGivenSplits = false;
    int64_t samples = 0;
    std::vector<std::string> skipped;
};

/// A small 8-bit picture on its way to the GUI (QtCore only, so no QImage here).
struct Thumbnail {
    int label = 0;
    std::string id;
    bool augmented = false;
    int width = 0, height = 0, channels = 1; ///< channels 1 (grey) or 3 (RGB)
    std::vector<uint8_t> pixels;             ///< height * width * channels, rows packed
};

/// Random training samples per class, as stored and as the augmentation makes them.
struct SampleGallery {
    std::vector<std::string> classNames;
    std::string augmentPreset;
    std::vector<Thumbnail> thumbnails;
};

/// Picks up to `perClass` training samples per class (seeded) and renders each as the
/// network sees it before and after the `augmentPreset` augmentation, shrunk to at most
/// `maxSide` pixels. Unreadable samples are left out.
SampleGallery sampleGallery(const data::Dataset& dataset, const std::vector<std::string>& classNames,
                            const std::string& augmentPreset, int perClass = 4, uint64_t seed = 42, int maxSide = 96);

/// The leakage check as the GUI and the CLI show it.
struct LeakageSummary {
    bool checked = false;
    data::LeakageReport report;
};

/// What a finished or stopped run hands back.
struct TrainingOutcome {
    ml::TrainSummary summary;
    ml::ClassificationReport report; ///< numClasses == 0 when nothing was evaluated
    std::string evaluatedSplit;      ///< "test" or "val"
    std::string runDir;
    std::vector<std::string> reportFiles; ///< files written into the run folder
    ShortcutReport shortcut;              ///< checked == false when not asked for
};

/// Result of evaluating a bundle on part of a data set.
struct EvaluationResult {
    ml::ClassificationReport report;
    std::string split; ///< "test", "val", "train" or "all"
    double seconds = 0.0;
    std::vector<std::string> skipped;
    std::string device;
    std::string precision;         ///< "float32", "bfloat16" or "float16"
    int views = 1;                 ///< test-time augmentation: views averaged per image
    std::string oodMethod;         ///< the card's detector; empty when it has none
    int64_t oodFlagged = 0;        ///< images the detector flags as out of distribution
    std::vector<ml::OodScore> ood; ///< per image, in the report's order (empty without a detector)

    /// Share of the images flagged (NaN without a detector).
    double oodFlaggedShare() const;
    /// The report's JSON (with its calibration: "ece", "reliability", and "temperature" and
    /// "ece_uncalibrated" where the card has a temperature) and, with a detector, "ood_method",
    /// "ood_flagged" and "ood_flagged_share".
    ml::Json toJson() const;
};

/// Loads the bundle at `modelPath` and evaluates it on `split` of `dataset` (Unassigned = all
/// samples): ml::loadModel, ml::evaluateModel over an unshuffled, unaugmented loader,
/// ml::computeReport with the card's class names, the card's temperature applied, calibration
/// error before and after it, and the out-of-distribution detector's verdict on each image.
/// Never throws. `reducedPrecision` as in ml::evaluateModel.
Result<EvaluationResult> evaluateBundle(const std::string& modelPath, const data::Dataset& dataset, data::Split split,
                                        const std::string& device = "auto", int threads = 0, int batchSize = 32,
                                        bool reducedPrecision = false, const ml::TtaOptions& tta = {});

/// A loaded model's raw outputs on one split of a data set, read unshuffled and unaugmented.
struct SplitOutput {
    ml::EvaluationOutput out;         ///< labels, probabilities, logits (and features when asked)
    std::vector<std::string> skipped; ///< unreadable samples
};

/// Runs `model` over `split` of `dataset` (Unassigned = all samples) with ml::evaluateModel.
/// Fails when the split is empty or none of its images could be read.
Result<SplitOutput> runOnSplit(const ml::LoadedModel& model, const data::Dataset& dataset, data::Split split,
                               const std::string& device = "auto", int threads = 0, int batchSize = 32,
                               bool reducedPrecision = false, bool withFeatures = false,
                               const ml::TtaOptions& tta = {});

/// Records a report's headline figures in a card as `<prefix>accuracy`, `macro_f1`,
/// `balanced_accuracy`, `auc`, `qwk` and `mae` (graded tasks) and `samples`.
void recordMetrics(ml::ModelCard& card, const std::string& prefix, const ml::ClassificationReport& report);

/// Writes report.json, per_class.csv and confusion.csv into `dir`; returns the paths written.
Result<std::vector<std::string>> writeReportFiles(const EvaluationResult& result, const std::string& dir);

/// Writes `<runDir>/splits.csv` (id,split) so a resumed run and `evaluate` see the same splits.
bool writeSplits(const data::Dataset& dataset, const std::string& runDir);
/// Applies `<runDir>/splits.csv` to the samples it names; false when there is no such file.
bool readSplits(data::Dataset& dataset, const std::string& runDir);

/// Parses a metrics.csv written by ml::Trainer into its epochs (columns found by name; a
/// missing or empty value reads NaN, `best` reads false).
Result<std::vector<ml::EpochMetrics>> readMetricsCsv(const std::string& path);

/// One line of the runs table.
struct RunInfo {
    std::string dir;
    std::string architecture;
    std::string task;
    int epochs = 0;               ///< epochs finished
    int bestEpoch = -1;           ///< the epoch kept as best.lbx (0-based)
    double bestValAccuracy = 0.0; ///< val accuracy of that epoch
    double bestValQwk = 0.0;      ///< NaN when not ordinal
    double reportAccuracy = 0.0;  ///< from report.json; NaN without one
    double reportQwk = 0.0;       ///< NaN without one
    std::string reportSplit;
    bool resumable = false;
    int worldSize = 1; ///< processes that trained it (run.json)
};
/// Summarises a run folder (config.json, metrics.csv, report.json); fails when it is none.
Result<RunInfo> readRunFolder(const std::string& dir);

/// Runs one training job: loads the data set, assigns splits (stratified 8:1:1 grouped by
/// patient unless the data set brings its own), checks for leakage, trains with ml::Trainer,
/// evaluates the best bundle on the test split (val when there is none), writes the report
/// into the run folder and records the metrics in the bundle's card.
///
/// Lives on its own QThread (QtCore only: no widgets) or is driven synchronously by the CLI;
/// run() is the slot to start. pause(), resume() and stop() are thread-safe and take effect
/// between batches. Progress leaves as value types through signals: batch progress throttled
/// to request.batchSignalsPerSecond (the last batch of an epoch always), every epoch, stage
/// changes. Failures come back through
/// failed(), never as exceptions. It does not own a thread itself.
class TrainingWorker : public QObject, private ml::TrainingObserver {
    Q_OBJECT
public:
    explicit TrainingWorker(TrainingRequest request, QObject* parent = nullptr);
    ~TrainingWorker() override;

    const TrainingRequest& request() const { return m_request; }

    /// Thread-safe controls.
    void pause();
    void resume();
    void stop();
    bool isPaused() const;
    bool isStopRequested() const;

public slots:
    /// The whole job, synchronously on the calling thread; ends with finished() or failed().
    void run();

signals:
    void stageChanged(const QString& stage);
    void datasetReady(const lightbox::jobs::DatasetSummary& summary);
    void samplesReady(const lightbox::jobs::SampleGallery& gallery);
    void leakageChecked(const lightbox::jobs::LeakageSummary& leakage);
    void shortcutChecked(const lightbox::jobs::ShortcutReport& shortcut);
    void batchProgress(const lightbox::ml::BatchMetrics& metrics);
    void epochCompleted(const lightbox::ml::EpochMetrics& metrics);
    void logMessage(const QString& text);
    void finished(const lightbox::jobs::TrainingOutcome& outcome);
    void failed(const QString& message);

private:
    void batchFinished(const ml::BatchMetrics& metrics) override;
    void epochFinished(const ml::EpochMetrics& metrics) override;
    void message(const std::string& text) override;
    Result<TrainingOutcome> runJob();

    TrainingRequest m_request;
    ml::TrainingControl m_control;
    QElapsedTimer m_batchClock;
    qint64 m_lastBatchSignalMs = -1000000;
};

/// Registers the value types above (and the ml ones) for queued connections; idempotent.
void registerTrainingMetaTypes();

} // namespace lightbox::jobs

Q_DECLARE_METATYPE(lightbox::jobs::DatasetSummary)
Q_DECLARE_METATYPE(lightbox::jobs::LeakageSummary)
Q_DECLARE_METATYPE(lightbox::jobs::ShortcutReport)
Q_DECLARE_METATYPE(lightbox::jobs::SampleGallery)
Q_DECLARE_METATYPE(lightbox::jobs::TrainingOutcome)
Q_DECLARE_METATYPE(lightbox::ml::BatchMetrics)
Q_DECLARE_METATYPE(lightbox::ml::EpochMetrics)
