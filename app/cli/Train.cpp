#include "Commands.h"
#include "Shared.h"
#include "TrainLauncher.h"

#include <data/Loader.h>
#include <data/TaskPreset.h>
#include <jobs/TrainingWorker.h>
#include <ml/Model.h>
#include <ml/RunFolderLock.h>
#include <ml/Trainer.h>

#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <optional>
#include <unistd.h>

namespace lightbox::cli {
namespace {

std::atomic<jobs::TrainingWorker*> g_worker{nullptr};
std::atomic<int> g_stopSignals{0};

void onStopSignal(int)
{
    if (g_stopSignals.fetch_add(1) > 0)
        _exit(130); // a second Ctrl-C does not wait for the batch
    if (jobs::TrainingWorker* w = g_worker.load())
        w->stop(); // atomic stores only
}

std::string duration(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0)
        return "?";
    const long t = std::lround(seconds);
    char buf[32];
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
    else
        std::snprintf(buf, sizeof buf, "%lds", t);
    return buf;
}

/// What an ensemble member changes in the command line's request.
struct MemberOverrides {
    QString out;
    std::optional<int> seed, splitSeed;
};

/// Builds the training request from the command line (or the run folder with --resume).
Result<jobs::TrainingRequest> trainRequest(CommandLine& cl, const MemberOverrides& member = {})
{
    using R = Result<jobs::TrainingRequest>;
    auto refuse = [](const QString& e) { return R::failure(e.toStdString()); };
    // Range errors were printed by CommandLine: the caller returns its exit status.
    auto usage = [] { return R::failure(std::string()); };
    const std::string out = member.out.isEmpty() ? cl.text("out") : member.out.toStdString();

    jobs::TrainingRequest req;
    if (cl.has("resume")) {
        auto r = jobs::TrainingRequest::fromRunFolder(out);
        if (!r)
            return r;
        req = r.value();
        if (cl.has("device"))
            req.config.device = cl.text("device");
        if (!cl.integer("epochs", 1, 100000, req.config.epochs) ||
            !cl.integer("threads", 0, 1024, req.config.threads) ||
            !cl.integer("loader-threads", 0, 256, req.loaderThreads))
            return usage();
        return req;
    }

    if (!cl.has("data"))
        return refuse("--data DIR is required");
    req.dataPath = cl.text("data");
    req.config.runDir = out;
    // One core stays for the loader: LibTorch's threads spinning against it (or other work on
    // a shared machine) cost more than the extra core gains. --threads 0 = all cores.
    req.config.threads = std::max(1, QThread::idealThreadCount() - 1);
    int channels = 1;
    int size = 224;
    if (cl.has("preset")) {
        const data::TaskPreset* preset = data::findTaskPreset(cl.text("preset"));
        if (!preset) {
            QStringList ids;
            for (const auto& p : data::taskPresets())
                ids << QString::fromStdString(p.id);
            return refuse("unknown preset '" + cl.value("preset") + "' (known: " + ids.join(", ") + ")");
        }
        jobs::applyPreset(*preset, req);
        channels = preset->channels;
        size = preset->inputSize;
    }
    std::string known;
    for (const auto& a : ml::modelArchitectures())
        known += (known.empty() ? "" : ", ") + a;
    if (cl.has("arch"))
        req.config.architecture = cl.text("arch");
    else if (!cl.has("preset"))
        return refuse("--arch is required (one of: " + QString::fromStdString(known) + ")");
    const auto archs = ml::modelArchitectures();
    if (std::find(archs.begin(), archs.end(), req.config.architecture) == archs.end())
        return refuse("unknown network '" + QString::fromStdString(req.config.architecture) +
                      "' (known: " + QString::fromStdString(known) + ")");
    QString channelText = QString::number(channels);
    if (!cl.integer("size", 8, 4096, size) || !cl.choice("channels", {"1", "3"}, channelText))
        return usage();
    channels = channelText.toInt();
    req.config.preprocess = jobs::defaultPreprocess(channels, size);
    int seed = static_cast<int>(req.config.seed);
    int patience = req.config.earlyStopPatience;
    QString optimizer = QString::fromStdString(req.config.optimizer);
    QString schedule = QString::fromStdString(req.config.schedule);
    QString head = QString::fromStdString(req.config.head);
    if (!cl.integer("epochs", 1, 100000, req.config.epochs) || !cl.integer("batch", 1, 65536, req.batchSize) ||
        !cl.integer("patience", 0, 100000, patience) || !cl.integer("threads", 0, 1024, req.config.threads) ||
        !cl.integer("loader-threads", 0, 256, req.loaderThreads) ||
        !cl.integer("seed", 0, CommandLine::kIntMax, seed) || !cl.real("lr", 1e-9, 10.0, req.config.learningRate) ||
        !cl.real("weight-decay", 0.0, 1.0, req.config.weightDecay) ||
        !cl.real("label-smoothing", 0.0, 0.99, req.config.labelSmoothing) ||
        !cl.real("ordinal-sigma", 0.0, 10.0, req.config.ordinalSigma) ||
        !cl.choice("optimizer", {"adam", "adamw", "sgd"}, optimizer) ||
        !cl.choice("schedule", {"none", "plateau", "cosine"}, schedule) ||
        !cl.choice("head", {"softmax", "corn"}, head))
        return usage();
    // The split has its own seed when asked (members of an ensemble share one test carve).
    int splitSeed = seed;
    if (!cl.integer("split-seed", 0, CommandLine::kIntMax, splitSeed))
        return usage();
    if (member.seed)
        seed = *member.seed;
    if (member.splitSeed)
        splitSeed = *member.splitSeed;
    req.config.earlyStopPatience = patience;
    req.config.seed = static_cast<uint64_t>(seed);
    req.split.seed = static_cast<uint64_t>(splitSeed);
    req.config.optimizer = optimizer.toStdString();
    req.config.schedule = schedule.toStdString();
    req.config.head = head.toStdString();
    if (cl.has("device"))
        req.config.device = cl.text("device");
    if (cl.has("augment"))
        req.augmentPreset = cl.text("augment");
    if (cl.has("patient-pattern"))
        req.dataset.patientPattern = cl.text("patient-pattern");
    req.balanced = cl.has("balanced");
    req.skipEmptyClasses = cl.has("skip-empty-classes");
    req.checkShortcut = cl.has("shortcut-check");
    req.config.mixedPrecision = cl.has("mixed-precision");
    req.classWeightsFromCounts = cl.has("class-weights");
    req.checkLeakage = !cl.has("no-leakage-check");
    data::AugmentOptions probe;
    if (!data::AugmentOptions::fromPreset(req.augmentPreset, probe))
        return refuse("unknown augmentation preset '" + QString::fromStdString(req.augmentPreset) + "'");
    if (ml::Trainer::canResume(out))
        return refuse(QString::fromStdString(out) + " already holds a run: add --resume to continue it, or choose "
                                                    "another --out");
    if (const std::string problem = req.config.validate(); !problem.empty() && !req.config.classNames.empty())
        return refuse(QString::fromStdString(problem));
    return req;
}

/// The request's failure as the exit status: a range error was printed already.
int refused(const CommandLine& cl, const std::string& error)
{
    return error.empty() ? cl.exitCode() : fail("train", error);
}

/// Runs one training request with progress on the terminal; returns the exit status.
int runTraining(const jobs::TrainingRequest& req)
{
    const bool tty = isatty(fileno(stderr));
    const int epochs = req.config.epochs;

    jobs::TrainingWorker worker(req);
    bool progressShown = false;
    auto clearProgress = [&] {
        if (progressShown && tty)
            std::fprintf(stderr, "\r%*s\r", 110, "");
        progressShown = false;
    };
    QObject::connect(&worker, &jobs::TrainingWorker::stageChanged, [&](const QString& stage) {
        clearProgress();
        std::printf("== %s\n", qPrintable(stage));
        std::fflush(stdout);
    });
    QObject::connect(&worker, &jobs::TrainingWorker::logMessage, [&](const QString& text) {
        clearProgress();
        std::printf("   %s\n", qPrintable(text));
        std::fflush(stdout);
    });
    QObject::connect(&worker, &jobs::TrainingWorker::datasetReady, [&](const jobs::DatasetSummary& d) {
        std::printf("data set %s: %lld samples, %zu classes, %s\n", d.root.c_str(), static_cast<long long>(d.samples),
                    d.classNames.size(), d.hasGivenSplits ? "given splits" : "split 8:1:1 by patient");
        const char* names[] = {"train", "val", "test"};
        for (size_t s = 0; s < d.countsPerSplit.size() && s < 3; ++s) {
            long long total = 0;
            std::string counts;
            for (size_t c = 0; c < d.countsPerSplit[s].size(); ++c) {
                total += d.countsPerSplit[s][c];
                counts += (c ? " " : "") + d.classNames[c] + ":" + std::to_string(d.countsPerSplit[s][c]);
            }
            std::printf("  %-5s %6lld  (%s)\n", names[s], total, counts.c_str());
        }
        if (d.stats.measured > 0)
            std::printf("  image size %d-%d x %d-%d px (mean %.0f x %.0f, %lld measured)\n", d.stats.minWidth,
                        d.stats.maxWidth, d.stats.minHeight, d.stats.maxHeight, d.stats.meanWidth, d.stats.meanHeight,
                        static_cast<long long>(d.stats.measured));
        if (!d.skipped.empty())
            std::printf("  %zu file(s) left out while listing, e.g. %s\n", d.skipped.size(), d.skipped[0].c_str());
        std::fflush(stdout);
    });
    QObject::connect(&worker, &jobs::TrainingWorker::leakageChecked, [&](const jobs::LeakageSummary& l) {
        std::printf("leakage check: %s\n", l.report.summary().c_str());
        for (size_t i = 0; i < l.report.examples.size() && i < 5; ++i)
            std::printf("  %s\n", l.report.examples[i].c_str());
        if (!l.report.clean())
            std::printf("  WARNING: images or patients shared between splits inflate the validation and test "
                        "scores\n");
        std::fflush(stdout);
    });
    QObject::connect(&worker, &jobs::TrainingWorker::shortcutChecked, [&](const jobs::ShortcutReport& s) {
        std::printf("shortcut check: %s\n", s.summary().c_str());
        if (s.flagged)
            std::printf("  WARNING: a network reads the labels from the image borders alone\n");
        std::fflush(stdout);
    });
    QElapsedTimer sinceProgress;
    sinceProgress.start();
    QObject::connect(&worker, &jobs::TrainingWorker::batchProgress, [&](const ml::BatchMetrics& m) {
        const bool last = m.batch + 1 >= m.batchCount;
        if (!tty && !last && sinceProgress.elapsed() < 2000)
            return;
        sinceProgress.restart();
        constexpr int kWidth = 24;
        const double frac = m.batchCount > 0 ? double(m.batch + 1) / m.batchCount : 0.0;
        const int filled = std::clamp(static_cast<int>(std::lround(frac * kWidth)), 0, kWidth);
        std::fprintf(stderr, "\repoch %d/%d [%s%s] %d/%d  loss %.4f  acc %.3f  %.0f img/s  %s left   ", m.epoch + 1,
                     epochs, std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(), m.batch + 1,
                     m.batchCount, m.loss, m.accuracy, m.imagesPerSecond, duration(m.secondsLeft).c_str());
        if (!tty)
            std::fprintf(stderr, "\n");
        std::fflush(stderr);
        progressShown = true;
    });
    QObject::connect(&worker, &jobs::TrainingWorker::epochCompleted, [&](const ml::EpochMetrics& e) {
        clearProgress();
        std::printf("epoch %d/%d  train loss %.4f acc %.4f  val loss %s acc %s", e.epoch + 1, epochs, e.trainLoss,
                    e.trainAccuracy, number(e.valLoss).c_str(), number(e.valAccuracy).c_str());
        if (std::isfinite(e.valQwk))
            std::printf(" qwk %.4f", e.valQwk);
        std::printf("  lr %.3g  %.1f s  %.0f img/s%s\n", e.learningRate, e.seconds, e.imagesPerSecond,
                    e.best ? "  * best" : "");
        std::fflush(stdout);
    });
    int rc = 0;
    QObject::connect(&worker, &jobs::TrainingWorker::failed, [&](const QString& message) {
        clearProgress();
        rc = fail("train", message.toStdString());
    });
    QObject::connect(&worker, &jobs::TrainingWorker::finished, [&](const jobs::TrainingOutcome& o) {
        clearProgress();
        const ml::TrainSummary& s = o.summary;
        if (s.cancelled) {
            if (ml::Trainer::canResume(o.runDir))
                std::printf("stopped after %zu epoch(s); continue with: lightbox-cli train --resume --out %s\n",
                            s.history.size(), o.runDir.c_str());
            else
                std::printf("stopped before the first epoch finished: nothing to resume in %s\n", o.runDir.c_str());
            rc = 130;
            return;
        }
        std::printf("trained %zu epoch(s) on %s%s; best epoch %d, model %s\n", s.history.size(), s.device.c_str(),
                    s.stoppedEarly ? " (stopped early)" : "", s.bestEpoch + 1, s.bestBundle.c_str());
        if (!s.skipped.empty())
            std::printf("%zu unreadable sample(s) skipped, e.g. %s\n", s.skipped.size(), s.skipped[0].c_str());
        if (o.report.numClasses > 0) {
            std::printf("evaluation on the %s split:\n", o.evaluatedSplit.c_str());
            printReport(o.report, stdout);
            for (const auto& f : o.reportFiles)
                std::printf("wrote %s\n", f.c_str());
        }
    });

    g_worker = &worker;
    std::signal(SIGINT, onStopSignal);
    std::signal(SIGTERM, onStopSignal);
    worker.run();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    g_worker = nullptr;
    return rc;
}

/// An ensemble: K members trained one after another in OUT/member-1 ... member-K, each with
/// its own initialisation seed (seed + k - 1) and the same split (the split seed, or the seed),
/// then joined into OUT/ensemble.lbx and evaluated on the test split. A stopped run continues
/// with --resume: finished members are kept, a stopped one resumes, missing ones start.
int trainEnsemble(CommandLine& cl, int members, const QString& out)
{
    const bool resume = cl.has("resume");
    if (resume) {
        const int asked = members;
        members = 0;
        while (QFileInfo::exists(QString("%1/member-%2").arg(out).arg(members + 1)))
            ++members;
        if (cl.has("ensemble"))
            members = std::max(members, asked);
    }
    std::optional<jobs::TrainingRequest> first;
    std::vector<std::string> bundles;
    for (int k = 1; k <= members; ++k) {
        const QString dir = QString("%1/member-%2").arg(out).arg(k);
        jobs::TrainingRequest req;
        if (ml::Trainer::canResume(dir.toStdString()) && !QFileInfo::exists(dir + "/report.json")) {
            auto r = jobs::TrainingRequest::fromRunFolder(dir.toStdString());
            if (!r)
                return fail("train", r.error());
            req = r.value();
        } else if (QFileInfo::exists(dir + "/report.json")) {
            std::printf("== member %d of %d: trained (%s)\n", k, members, qPrintable(dir));
            bundles.push_back((dir + "/best.lbx").toStdString());
            if (!first) {
                auto r = jobs::TrainingRequest::fromRunFolder(dir.toStdString());
                if (r)
                    first = r.value();
            }
            continue;
        } else if (first) {
            req = *first; // same data, recipe and split; the next seed
            req.resume = false;
            req.config.runDir = dir.toStdString();
            req.config.seed = first->config.seed + static_cast<uint64_t>(k - 1);
        } else if (!resume) {
            int seed = 42;
            if (!cl.integer("seed", 0, CommandLine::kIntMax, seed))
                return cl.exitCode();
            MemberOverrides member;
            member.out = dir;
            member.seed = seed + k - 1;
            if (!cl.has("split-seed"))
                member.splitSeed = seed;
            auto r = trainRequest(cl, member);
            if (!r)
                return refused(cl, r.error());
            req = r.value();
        } else {
            return fail("train", "cannot continue the ensemble in " + out.toStdString() +
                                     ": its first member holds no run to copy");
        }
        std::printf("== member %d of %d: seed %llu, split seed %llu\n", k, members,
                    static_cast<unsigned long long>(req.config.seed), static_cast<unsigned long long>(req.split.seed));
        std::fflush(stdout);
        const int rc = runTraining(req);
        if (rc != 0)
            return rc;
        if (!first) {
            first = req;
            first->config.seed = req.config.seed - static_cast<uint64_t>(k - 1);
        }
        bundles.push_back((dir + "/best.lbx").toStdString());
    }
    const std::string ensemble = (out + "/ensemble.lbx").toStdString();
    auto written = writeEnsemble(bundles, ensemble);
    if (!written)
        return fail("train", written.error());
    std::printf("joined %zu members into %s; calibrate it next (lightbox-cli calibrate --model %s --data DIR "
                "--splits %s/member-1)\n",
                bundles.size(), ensemble.c_str(), ensemble.c_str(), qPrintable(out));
    return 0;
}

/// A request written by the training tab for the other ranks of its run (run.json's form).
Result<jobs::TrainingRequest> requestFromFile(const QString& path, const QString& out, bool resume)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return Result<jobs::TrainingRequest>::failure("cannot read " + path.toStdString() + ": " +
                                                      f.errorString().toStdString());
    auto r = jobs::TrainingRequest::fromJsonText(f.readAll().toStdString());
    if (!r)
        return r;
    r->config.runDir = out.toStdString();
    r->resume = resume;
    return r;
}

} // namespace

int runTrain(const QStringList& argv)
{
    CommandLine cl("train", QString(),
                   "Trains a zoo network on a data set folder (one sub-folder per class, optionally under train/ val/ "
                   "test/), a CSV or a crop-tool data set; splits 8:1:1 by patient when none are given, checks for "
                   "leakage, keeps the best epoch on val as RUN_DIR/best.lbx and evaluates it on test (val when there "
                   "is no test). Ctrl-C stops after the batch; --resume continues.");
    cl.option("data", "DIR", "The data set: a folder, a CSV file or a crop-tool data-set folder.");
    cl.option("arch", "A", "The network (see lightbox-cli version for the zoo); a preset may choose it.");
    cl.option("out", "RUN_DIR", "The run folder (checkpoints, metrics.csv, best.lbx, report).", true);
    cl.option("preset", "P", "A task preset (knee-kl, chest-pneumonia, ...): classes, input, augmentation.");
    cl.option("epochs", "N", "Epochs (1 to 100000; default 20).");
    cl.option("batch", "N", "Batch size (1 to 65536; default 32).");
    cl.option("lr", "X", "Learning rate (up to 10; default 0.001).");
    cl.option("weight-decay", "X", "Weight decay (0 to 1; default 0.0001).");
    cl.option("optimizer", "O", "adam, adamw (default) or sgd.");
    cl.option("size", "N", "Input side in pixels (8 to 4096; default 224 or the preset's).");
    cl.option("channels", "C", "1 (grey) or 3 (colour).");
    cl.option("augment", "PRESET",
              "Augmentation: none, light (default), standard, medical-safe or dermoscopy (or the preset's).");
    cl.option("patience", "N", "Early stopping after N epochs without improvement on val (0 = off; default 5).");
    cl.option("schedule", "S", "Learning-rate schedule: none, plateau (default) or cosine.");
    cl.option("label-smoothing", "X", "Label smoothing (0 to 0.99).");
    cl.option("ordinal-sigma", "X", "Graded tasks learn from Gaussian soft labels X grades wide (0 to 10).");
    cl.option("head", "H", "softmax (default) or corn: a CORN ordinal head for graded tasks.");
    addDeviceOption(cl);
    cl.option("threads", "N", "LibTorch CPU threads (0 to 1024; default: cores - 1; 0 = all cores).");
    cl.option("loader-threads", "N", "Image loading threads (0 to 256; 0 = the loader's default).");
    cl.option("seed", "N", "Seed of the initialisation, the order and the split (default 42).");
    cl.option("split-seed", "N", "Carve the splits with N instead of --seed (ensemble members share one test split).");
    cl.option("patient-pattern", "REGEX", "How a file name names its patient (splits keep patients together).");
    cl.option("ensemble", "K",
              "Train K members (1 to 32; seeds N, N+1, ...; one split) in RUN_DIR/member-k and join "
              "them into RUN_DIR/ensemble.lbx.");
    cl.flag("balanced", "Sample the classes evenly.");
    cl.flag("class-weights", "Weigh the loss by the inverse class frequencies.");
    cl.flag("no-leakage-check", "Skip the check for images and patients shared between splits.");
    cl.flag("skip-empty-classes", "Train on the task's classes that have images and record the others in the card as "
                                  "not covered (without it a class with no images stops training).");
    cl.flag("shortcut-check", "Run the shortcut check before training and record its result in the card.");
    cl.flag("mixed-precision", "float16 autocast on a GPU, bfloat16 on a CPU with AVX-512 BF16 or AMX.");
    cl.flag("resume", "Continue RUN_DIR after a stop.");
    cl.option("nproc", "N",
              "Data-parallel training in N processes on this machine (1 to 256; each reads 1/N of every epoch, "
              "the global batch is N x --batch). Under torchrun, srun or a PyTorchJob the ranks come from RANK, "
              "WORLD_SIZE, LOCAL_RANK, MASTER_ADDR and MASTER_PORT instead.");
    cl.option("dist-timeout", "S", "Seconds a rank waits for the others before failing (1 to 86400; default 300).");
    cl.option("request", "FILE",
              "Train the request in FILE (the JSON of a run.json) instead of the options above: how the training "
              "tab starts the other ranks of a run in several processes.");
    if (!cl.parse(argv, 0, 0))
        return cl.exitCode();
    int members = 1;
    int nproc = 1;
    int timeout = 300;
    if (!cl.integer("ensemble", 1, 32, members) || !cl.integer("nproc", 1, 256, nproc) ||
        !cl.integer("dist-timeout", 1, 86400, timeout))
        return cl.exitCode();
    auto dist = distributedFromEnvironment(timeout);
    if (!dist)
        return fail("train", dist.error());
    if (dist->enabled())
        std::printf("%s (rendezvous %s:%d)\n", dist->describe().c_str(), dist->masterAddr.c_str(), dist->masterPort);
    else if (nproc > 1)
        return launchLocalRanks(nproc, QStringList{QStringLiteral("train")} + argv, timeout);
    std::fflush(stdout);
    const QString out = cl.value("out");
    if (members > 1 || QFileInfo::exists(out + "/member-1")) {
        if (dist->enabled())
            return fail("train", "an ensemble cannot be trained across processes; train its members one by one");
        return trainEnsemble(cl, members, out);
    }
    // The run folder is refused at once when another process trains in it.
    std::shared_ptr<ml::RunFolderLock> lock;
    if (dist->rank == 0 && QFileInfo::exists(out)) {
        auto locked = ml::RunFolderLock::acquire(out.toStdString());
        if (!locked)
            return fail("train", locked.error());
        lock = locked.value();
    }
    auto request = cl.has("request") ? requestFromFile(cl.value("request"), out, cl.has("resume")) : trainRequest(cl);
    if (!request)
        return refused(cl, request.error());
    request->config.distributed = dist.value();
    return runTraining(request.value());
}

} // namespace lightbox::cli
