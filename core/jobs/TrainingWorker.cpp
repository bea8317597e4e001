// The training worker: a TrainingRequest run on a background thread, its progress as queued
// signals, pause, resume and stop. The request is in TrainingRequest.cpp, evaluation and run
// folders in TrainingRuns.cpp.
#include "TrainingWorker.h"
#include "TrainingWorkerPrivate.h"

#include <data/Loader.h>
#include <ml/Bundle.h>
#include <ml/Distributed.h>
#include <ml/Json.h>
#include <ml/RunFolderLock.h>

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>

#include <algorithm>

namespace lightbox::jobs {

using namespace trainingworker;

namespace {

std::string metricPrefix(const std::string& split)
{
    return split + "_";
}

/// The other ranks of a data-parallel run on this machine (TrainingRequest::processes), as
/// `lightbox-cli train --request FILE` processes with the launcher's environment. Their output
/// goes to files in a temporary folder; the end of a failed rank's is reported.
class LocalRanks {
public:
    ~LocalRanks() { finish(0); }

    /// Starts ranks 1 .. n-1 of `config.distributed` with the request of rank 0.
    Result<bool> start(const TrainingRequest& req)
    {
        const ml::DistributedConfig& d = req.config.distributed;
        QString cli = qEnvironmentVariable("LIGHTBOX_CLI");
        if (cli.isEmpty())
            cli = QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("lightbox-cli"));
        if (!QFileInfo(cli).isExecutable())
            return Result<bool>::failure("cannot start the other ranks: " + cli.toStdString() + " is missing");
        if (!m_dir.isValid() ||
            !writeText(m_dir.filePath(QStringLiteral("request.json")).toStdString(), req.toJsonText()))
            return Result<bool>::failure("cannot start the other ranks: no temporary folder");
        for (int rank = 1; rank < d.worldSize; ++rank) {
            auto p = std::make_unique<QProcess>();
            QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
            env.insert(QStringLiteral("RANK"), QString::number(rank));
            env.insert(QStringLiteral("LOCAL_RANK"), QString::number(rank));
            env.insert(QStringLiteral("WORLD_SIZE"), QString::number(d.worldSize));
            env.insert(QStringLiteral("MASTER_ADDR"), q(d.masterAddr));
            env.insert(QStringLiteral("MASTER_PORT"), QString::number(d.masterPort));
            p->setProcessEnvironment(env);
            p->setProcessChannelMode(QProcess::MergedChannels);
            p->setStandardOutputFile(m_dir.filePath(QStringLiteral("rank-%1.log").arg(rank)));
            QStringList args{QStringLiteral("train"),
                             QStringLiteral("--out"),
                             q(req.config.runDir),
                             QStringLiteral("--request"),
                             m_dir.filePath(QStringLiteral("request.json")),
                             QStringLiteral("--dist-timeout"),
                             QString::number(d.timeoutSeconds)};
            if (req.resume)
                args << QStringLiteral("--resume");
            p->start(cli, args);
            if (!p->waitForStarted(10000))
                return Result<bool>::failure("cannot start rank " + std::to_string(rank) + ": " +
                                             p->errorString().toStdString());
            m_ranks.push_back(std::move(p));
        }
        return true;
    }

    /// Waits up to `ms` for the ranks to end (they end with rank 0), then kills the rest.
    /// Returns the last lines of the first rank that failed, or "".
    QString finish(int ms)
    {
        QString failure;
        for (size_t i = 0; i < m_ranks.size(); ++i) {
            QProcess& p = *m_ranks[i];
            if (!p.waitForFinished(ms)) {
                p.kill();
                p.waitForFinished(2000);
            }
            if (failure.isEmpty() && (p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)) {
                QFile log(m_dir.filePath(QStringLiteral("rank-%1.log").arg(i + 1)));
                const QStringList lines = log.open(QIODevice::ReadOnly)
                                              ? QString::fromUtf8(log.readAll()).trimmed().split(QLatin1Char('\n'))
                                              : QStringList();
                failure = QStringLiteral("rank %1: %2")
                              .arg(i + 1)
                              .arg(lines.mid(std::max(0, int(lines.size()) - 2)).join(QStringLiteral(" / ")));
            }
        }
        m_ranks.clear();
        return failure;
    }

private:
    QTemporaryDir m_dir;
    std::vector<std::unique_ptr<QProcess>> m_ranks;
};

} // namespace

// ---------------------------------------------------------------------------------------
// Worker

void registerTrainingMetaTypes()
{
    qRegisterMetaType<DatasetSummary>("lightbox::jobs::DatasetSummary");
    qRegisterMetaType<LeakageSummary>("lightbox::jobs::LeakageSummary");
    qRegisterMetaType<ShortcutReport>("lightbox::jobs::ShortcutReport");
    qRegisterMetaType<SampleGallery>("lightbox::jobs::SampleGallery");
    qRegisterMetaType<TrainingOutcome>("lightbox::jobs::TrainingOutcome");
    qRegisterMetaType<ml::BatchMetrics>("lightbox::ml::BatchMetrics");
    qRegisterMetaType<ml::EpochMetrics>("lightbox::ml::EpochMetrics");
}

TrainingWorker::TrainingWorker(TrainingRequest request, QObject* parent)
    : QObject(parent), m_request(std::move(request))
{
    registerTrainingMetaTypes();
    m_batchClock.start();
}

TrainingWorker::~TrainingWorker() = default;

void TrainingWorker::pause()
{
    m_control.pause = true;
}

void TrainingWorker::resume()
{
    m_control.pause = false;
}

void TrainingWorker::stop()
{
    m_control.stop = true;
    m_control.pause = false;
}

bool TrainingWorker::isPaused() const
{
    return m_control.pause.load();
}

bool TrainingWorker::isStopRequested() const
{
    return m_control.stop.load();
}

void TrainingWorker::batchFinished(const ml::BatchMetrics& metrics)
{
    const qint64 now = m_batchClock.elapsed();
    const int rate = std::max(1, m_request.batchSignalsPerSecond);
    const bool last = metrics.batch + 1 >= metrics.batchCount;
    if (!last && now - m_lastBatchSignalMs < 1000 / rate)
        return;
    m_lastBatchSignalMs = now;
    emit batchProgress(metrics);
}

void TrainingWorker::epochFinished(const ml::EpochMetrics& metrics)
{
    emit epochCompleted(metrics);
}

void TrainingWorker::message(const std::string& text)
{
    emit logMessage(q(text));
}

void TrainingWorker::run()
{
    Result<TrainingOutcome> r = Result<TrainingOutcome>::failure("training did not start");
    try {
        r = runJob();
    } catch (const std::exception& e) {
        r = Result<TrainingOutcome>::failure(std::string("training failed: ") + e.what());
    } catch (...) {
        r = Result<TrainingOutcome>::failure("training failed with an unknown error");
    }
    if (r)
        emit finished(r.value());
    else
        emit failed(q(r.error()));
}

Result<TrainingOutcome> TrainingWorker::runJob()
{
    using R = Result<TrainingOutcome>;
    TrainingRequest& req = m_request;
    ml::TrainConfig& config = req.config;
    if (config.runDir.empty())
        return R::failure("no run folder given");
    if (req.batchSize < 1)
        return R::failure("the batch size must be at least 1");
    // Rank r of n: rank 0 checks, writes the run folder and evaluates; the others train.
    std::unique_ptr<LocalRanks> ranks;
    if (req.processes > 1 && !config.distributed.enabled()) {
        // This process is rank 0 of a run on this machine; the others start before training.
        ml::DistributedConfig& d = config.distributed;
        d.worldSize = req.processes;
        d.masterAddr = "127.0.0.1";
        d.masterPort = ml::freeLocalPort();
        if (d.masterPort <= 0)
            return R::failure("no free port on 127.0.0.1 for the ranks to meet");
        if (config.threads == 0) // the cores shared out between the ranks
            config.threads = std::max(1, QThread::idealThreadCount() / req.processes);
        ranks = std::make_unique<LocalRanks>();
    }
    const ml::DistributedConfig& dist = config.distributed;
    const bool writer = dist.rank == 0;
    std::shared_ptr<ml::RunFolderLock> lock;
    if (writer) {
        auto locked = ml::RunFolderLock::acquire(config.runDir);
        if (!locked)
            return R::failure(locked.error());
        lock = locked.value();
    }

    emit stageChanged(tr("Loading data set"));
    auto loaded = data::loadDataset(req.dataPath, req.dataset);
    if (!loaded)
        return R::failure(loaded.error());
    data::Dataset& dataset = loaded.value();
    if (const std::vector<size_t> empty = dataset.emptyClasses(); !empty.empty()) {
        // A class without images cannot be learnt: refuse, or leave it out on request.
        const std::vector<std::string> names = displayNames(req, dataset.classNames);
        std::string list;
        for (size_t i : empty)
            list += (list.empty() ? "" : ", ") + names[i];
        const size_t kept = names.size() - empty.size();
        if (!req.skipEmptyClasses)
            return R::failure("the data set has no images of " + list + ": a model cannot learn a class it never " +
                              "sees. Train on the " + std::to_string(kept) +
                              " classes that have images (--skip-empty-classes), and the model card will say " +
                              "that it does not cover " + list);
        if (kept < 2)
            return R::failure("the data set has images of fewer than two classes (none of " + list + ")");
        dataset.removeEmptyClasses();
        config.classNames.clear();
        for (size_t i = 0; i < names.size(); ++i)
            (std::binary_search(empty.begin(), empty.end(), i) ? config.notCovered : config.classNames)
                .push_back(names[i]);
        req.dataset.classes = dataset.classNames; // run.json: a resumed run reads the same classes
        emit logMessage(tr("No images of %1: training on the %2 classes that have images; the model will not "
                           "cover %1")
                            .arg(q(list))
                            .arg(kept));
    }
    const bool splitsFromRun = req.resume && readSplits(dataset, config.runDir);
    if (!splitsFromRun)
        data::assignSplits(dataset, req.split);
    if (config.classNames.empty())
        config.classNames = dataset.classNames;
    if (config.classNames.size() != dataset.classNames.size())
        return R::failure("the data set has " + std::to_string(dataset.classNames.size()) + " classes, the task " +
                          std::to_string(config.classNames.size()));

    DatasetSummary ds;
    ds.root = dataset.root;
    ds.classNames = config.classNames;
    ds.hasGivenSplits = dataset.hasGivenSplits;
    ds.samples = static_cast<int64_t>(dataset.samples.size());
    ds.skipped = dataset.skipped;
    for (data::Split s : {data::Split::Train, data::Split::Val, data::Split::Test})
        ds.countsPerSplit.push_back(dataset.classCounts(s));
    ds.stats = data::datasetStats(dataset, 500);
    emit datasetReady(ds);
    if (req.galleryPerClass > 0 && writer)
        emit samplesReady(
            sampleGallery(dataset, config.classNames, req.augmentPreset, req.galleryPerClass, config.seed));
    if (dataset.inSplit(data::Split::Train).empty())
        return R::failure("the data set has no training samples");
    {
        // A class with a handful of training images is learnt barely, if at all: say so.
        const std::vector<int64_t> train = dataset.classCounts(data::Split::Train);
        for (size_t i = 0; i < train.size() && i < config.classNames.size(); ++i)
            if (train[i] < 10)
                emit logMessage(tr("Only %1 training image(s) of %2: the model will hardly learn it")
                                    .arg(train[i])
                                    .arg(q(config.classNames[i])));
        if (dataset.conflictingDuplicates > 0)
            emit logMessage(tr("%1 set(s) of identical images filed under different classes were left out "
                               "(contradictory labels)")
                                .arg(dataset.conflictingDuplicates));
    }
    if (req.classWeightsFromCounts && !req.resume) {
        // w_c = N / (K * n_c): a class with half the samples weighs twice as much.
        const std::vector<int64_t> counts = dataset.classCounts(data::Split::Train);
        int64_t total = 0;
        for (int64_t n : counts)
            total += n;
        // Capped at kMaxClassWeight: two images of a class must not outweigh hundreds of others
        // in every batch they appear in (the ISIC set keeps 2 seborrheic keratoses).
        constexpr double kMaxClassWeight = 10.0;
        config.classWeights.clear();
        for (size_t c = 0; c < counts.size(); ++c) {
            const int64_t n = counts[c];
            double w = n > 0 ? double(total) / (double(counts.size()) * double(n)) : 0.0;
            if (w > kMaxClassWeight) {
                emit logMessage(tr("The class weight of %1 (%2 training images) is capped at %3 instead of %4")
                                    .arg(c < config.classNames.size() ? q(config.classNames[c]) : QString::number(c))
                                    .arg(n)
                                    .arg(kMaxClassWeight)
                                    .arg(w, 0, 'f', 1));
                w = kMaxClassWeight;
            }
            config.classWeights.push_back(static_cast<float>(w));
        }
    }
    if (dataset.inSplit(data::Split::Val).empty())
        emit logMessage(tr("No validation split: the last epoch counts as the best and early stopping is off"));

    if (req.checkLeakage && writer && !m_control.stop) {
        emit stageChanged(tr("Checking for leakage"));
        LeakageSummary leak;
        leak.checked = true;
        leak.report = data::checkLeakage(dataset);
        emit leakageChecked(leak);
    }

    TrainingOutcome outcome;
    outcome.runDir = config.runDir;
    if (req.checkShortcut && !req.resume && writer && !m_control.stop) {
        emit stageChanged(tr("Checking for shortcuts (image centres blanked)"));
        ShortcutOptions so;
        so.channels = config.preprocess.channels;
        so.device = config.device;
        so.threads = config.threads;
        so.loaderThreads = req.loaderThreads;
        so.seed = config.seed;
        auto sc = checkShortcut(dataset, config.classNames, so, &m_control);
        if (sc) {
            outcome.shortcut = sc.value();
            if (sc->checked)
                emit shortcutChecked(sc.value());
        } else {
            emit logMessage(tr("The shortcut check failed: %1").arg(q(sc.error())));
        }
    }
    if (m_control.stop) {
        outcome.summary.cancelled = true;
        return outcome;
    }

    if (writer && !QDir().mkpath(q(config.runDir)))
        return R::failure(config.runDir + ": cannot create the run folder");
    if (writer &&
        (!writeSplits(dataset, config.runDir) || !writeText(joinPath(config.runDir, "run.json"), req.toJsonText())))
        return R::failure(config.runDir + ": cannot write into the run folder");

    data::AugmentOptions augment;
    if (!data::AugmentOptions::fromPreset(req.augmentPreset, augment))
        return R::failure("unknown augmentation preset '" + req.augmentPreset + "'");
    data::LoaderOptions trainOptions;
    trainOptions.batchSize = req.batchSize;
    trainOptions.shuffle = true;
    trainOptions.balanced = req.balanced;
    trainOptions.augment = augment;
    trainOptions.threads = req.loaderThreads;
    trainOptions.seed = config.seed;
    trainOptions.cacheMiB = req.cacheMiB;
    data::LoaderOptions valOptions = trainOptions;
    valOptions.shuffle = false;
    valOptions.balanced = false;
    valOptions.augment = data::AugmentOptions{};

    data::ImageBatchSource trainSource(samplesOf(dataset, data::Split::Train), config.preprocess, trainOptions);
    std::vector<data::Sample> valSamples = samplesOf(dataset, data::Split::Val);
    const bool haveVal = !valSamples.empty();
    data::ImageBatchSource valSource(std::move(valSamples), config.preprocess, valOptions);

    if (ranks) {
        auto started = ranks->start(req);
        if (!started)
            return R::failure(started.error());
        emit logMessage(tr("Training in %1 processes on this machine: this one is rank 0, the others are "
                           "lightbox-cli processes")
                            .arg(dist.worldSize));
    }
    emit stageChanged(tr("Training"));
    m_batchClock.restart();
    m_lastBatchSignalMs = -1000000;
    auto trained = ml::Trainer::run(config, trainSource, haveVal ? &valSource : nullptr, this, &m_control, req.resume);
    if (ranks) {
        // The others end with rank 0 (a failed collective ends them too, within the timeout).
        const QString failedRank = ranks->finish(trained ? 60000 : 5000);
        if (!failedRank.isEmpty())
            emit logMessage(failedRank);
    }
    if (!trained)
        return R::failure(trained.error());
    outcome.summary = trained.value();
    if (outcome.summary.cancelled || outcome.summary.bestBundle.empty() || !writer)
        return outcome;

    const data::Split evalSplit = !dataset.inSplit(data::Split::Test).empty() ? data::Split::Test : data::Split::Val;
    if (dataset.inSplit(evalSplit).empty()) {
        emit logMessage(tr("No test or validation split: nothing to evaluate on"));
        return outcome;
    }
    emit stageChanged(tr("Evaluating on the %1 split").arg(QLatin1String(data::toString(evalSplit))));
    auto ev =
        evaluateBundle(outcome.summary.bestBundle, dataset, evalSplit, config.device, config.threads, req.batchSize);
    if (!ev)
        return R::failure("evaluation failed: " + ev.error());
    auto files = writeReportFiles(ev.value(), config.runDir);
    if (!files)
        return R::failure(files.error());
    outcome.report = ev->report;
    outcome.evaluatedSplit = ev->split;
    outcome.reportFiles = files.value();

    // The bundle's card carries the metrics it earned on the held-out split.
    if (auto best = ml::loadModel(outcome.summary.bestBundle)) {
        ml::ModelCard card = best->card;
        recordMetrics(card, metricPrefix(ev->split), ev->report);
        if (outcome.shortcut.checked)
            outcome.shortcut.recordIn(card);
        std::ostringstream summary;
        summary << "data " << req.dataPath << "; train/val/test samples " << dataset.inSplit(data::Split::Train).size()
                << "/" << dataset.inSplit(data::Split::Val).size() << "/" << dataset.inSplit(data::Split::Test).size()
                << (dataset.hasGivenSplits ? " (given splits)" : " (stratified, grouped by patient)") << "; "
                << outcome.summary.history.size() << " epochs, best " << outcome.summary.bestEpoch + 1 << "; "
                << config.optimizer << " lr " << config.learningRate << ", batch " << req.batchSize << ", augment "
                << req.augmentPreset;
        card.trainingSummary = summary.str();
        auto saved = ml::saveBundle(best->model, card, outcome.summary.bestBundle, &best->gaussians);
        if (!saved)
            emit logMessage(tr("Could not record the metrics in the bundle: %1").arg(q(saved.error())));
    }
    return outcome;
}

} // namespace lightbox::jobs
