// bench_train: training throughput (images per second, PNG decode and augmentation included)
// and data loading alone, through Lightbox's loader (core/data) and trainer (core/ml), next to
// the same work in PyTorch (bench_train.py: torchvision ImageFolder + transforms + DataLoader,
// the same thread count, the same files), with the ratios.
//
// usage: bench_train [--data DIR] [--arch A] [--size S] [--batch N] [--batches N]
//                    [--threads N] [--workers N] [--precision fp32|bf16|both] [--python PATH] [--smoke]
// On a CPU with hardware bfloat16 (AVX-512 BF16 / AMX) both sides also train with bfloat16
// autocast (Lightbox: TrainConfig::mixedPrecision; PyTorch: torch.autocast("cpu")).
// A benchmark is a program, not a timed test: it prints figures and asserts nothing about them.
#include "BenchCommon.h"

#include <data/Dataset.h>
#include <data/Loader.h>
#include <ml/Json.h>
#include <ml/Runtime.h>
#include <ml/Trainer.h>

#include <QDir>
#include <QTemporaryDir>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

using namespace lightbox;

namespace {

using Clock = std::chrono::steady_clock;

/// Passes on the first `limit` batches of each epoch of another source.
class LimitedSource : public ml::BatchSource {
public:
    LimitedSource(ml::BatchSource& inner, int limit) : m_inner(inner), m_limit(limit) {}
    void startEpoch(int epoch) override
    {
        m_done = 0;
        m_inner.startEpoch(epoch);
    }
    bool next(ml::Batch& out) override { return m_done++ < m_limit && m_inner.next(out); }
    int64_t sampleCount() const override
    {
        return m_inner.sampleCount() * batchCount() / std::max(1, m_inner.batchCount());
    }
    int batchCount() const override { return std::min(m_limit, m_inner.batchCount()); }
    void cancel() override { m_inner.cancel(); }

private:
    ml::BatchSource& m_inner;
    int m_limit;
    int m_done = 0;
};

/// Times batches [warmup, end) as they finish.
class Timer : public ml::TrainingObserver {
public:
    explicit Timer(int warmup, int batchSize) : m_warmup(warmup), m_batchSize(batchSize) {}
    void batchFinished(const ml::BatchMetrics& m) override
    {
        if (m.batch + 1 == m_warmup)
            m_start = Clock::now();
        else if (m.batch + 1 > m_warmup) {
            m_images += m_batchSize;
            m_end = Clock::now();
        }
    }
    double imagesPerSecond() const
    {
        const double s = std::chrono::duration<double>(m_end - m_start).count();
        return s > 0 ? m_images / s : 0.0;
    }

private:
    int m_warmup, m_batchSize;
    int64_t m_images = 0;
    Clock::time_point m_start, m_end;
};

data::AugmentOptions benchAugmentation()
{
    // What bench_train.py does: rotation +-10 degrees, horizontal flip, brightness and contrast 10 %.
    data::AugmentOptions a;
    a.rotationDeg = 10;
    a.horizontalFlip = true;
    a.brightness = 0.1;
    a.contrast = 0.1;
    return a;
}

} // namespace

int main(int argc, char** argv)
{
    std::string dataDir = LIGHTBOX_SHARED_DATA "/knee-kl/train";
    std::string arch = "resnet18";
    std::string python = "/usr/bin/python3";
    int size = 224, batch = 16, batches = 10, loadBatches = 40, threads = 0, workers = 1;
    bool smoke = false;
    std::string precision = ml::cpuHasFastBFloat16() ? "both" : "fp32";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--data")
            dataDir = next();
        else if (a == "--arch")
            arch = next();
        else if (a == "--size")
            size = std::atoi(next().c_str());
        else if (a == "--batch")
            batch = std::atoi(next().c_str());
        else if (a == "--batches")
            batches = std::atoi(next().c_str());
        else if (a == "--threads")
            threads = std::atoi(next().c_str());
        else if (a == "--workers")
            workers = std::atoi(next().c_str());
        else if (a == "--python")
            python = next();
        else if (a == "--precision")
            precision = next();
        else if (a == "--smoke")
            smoke = true;
        else {
            std::fprintf(stderr, "usage: bench_train [--data DIR] [--arch A] [--size S] [--batch N] [--batches N] "
                                 "[--threads N] [--workers N] [--precision fp32|bf16|both] [--python PATH] "
                                 "[--smoke]\n");
            return 2;
        }
    }
    if (smoke) {
        arch = "cnn5";
        size = 32;
        batch = 4;
        batches = 2;
        loadBatches = 3;
    }
    if (precision != "fp32" && precision != "bf16" && precision != "both") {
        std::fprintf(stderr, "bench_train: --precision is fp32, bf16 or both\n");
        return 2;
    }
    if (precision != "fp32" && !ml::cpuHasFastBFloat16()) {
        std::printf("bench_train: this CPU has no hardware bfloat16; measuring float32 only\n");
        precision = "fp32";
    }
    const bool wantFp32 = precision != "bf16", wantBf16 = precision != "fp32";
    if (!QDir(QString::fromStdString(dataDir)).exists()) {
        std::printf("bench_train: %s is missing; nothing to measure\n", dataDir.c_str());
        return 0;
    }
    threads = ml::configureThreads(threads);

    auto dataset = data::loadDataset(dataDir);
    if (!dataset) {
        std::fprintf(stderr, "bench_train: %s\n", dataset.error().c_str());
        return 1;
    }
    ml::PreprocessSpec spec;
    spec.width = spec.height = size;
    spec.channels = 1;
    spec.mean = {0.5f};
    spec.std = {0.25f};
    data::LoaderOptions lo;
    lo.batchSize = batch;
    lo.threads = workers;
    lo.augment = benchAugmentation();
    lo.cacheMiB = 0; // decode every epoch, as the DataLoader does
    lo.dropLast = true;
    std::printf("LibTorch %s; %s at %d px, batch %d, %d torch threads, %d loader thread(s); %zu images in %s\n",
                ml::torchSummary().c_str(), arch.c_str(), size, batch, threads, workers, dataset->samples.size(),
                dataDir.c_str());

    // 1. Data loading alone: decode, augment, resize, normalise, batch.
    double loadRate = 0;
    {
        data::ImageBatchSource source(dataset->samples, spec, lo);
        source.startEpoch(0);
        ml::Batch b;
        for (int i = 0; i < 2 && source.next(b); ++i) {
        }
        const auto t0 = Clock::now();
        int64_t images = 0;
        for (int i = 0; i < loadBatches && source.next(b); ++i)
            images += b.n;
        loadRate = images / std::chrono::duration<double>(Clock::now() - t0).count();
    }

    // 2. Training: the same loader feeding forward, cross-entropy, backward and an AdamW step.
    auto trainRate = [&](bool mixed) -> double {
        QTemporaryDir run;
        ml::TrainConfig config;
        config.architecture = arch;
        config.classNames = dataset->classNames;
        config.preprocess = spec;
        config.optimizer = "adamw";
        config.epochs = 1;
        config.schedule = "none";
        config.earlyStopPatience = 0;
        config.device = "cpu";
        config.threads = threads;
        config.mixedPrecision = mixed;
        config.runDir = run.path().toStdString();
        data::ImageBatchSource source(dataset->samples, spec, lo);
        LimitedSource limited(source, batches + 2);
        Timer timer(2, batch);
        auto result = ml::Trainer::run(config, limited, nullptr, &timer);
        if (!result) {
            std::fprintf(stderr, "bench_train: %s\n", result.error().c_str());
            return -1;
        }
        return timer.imagesPerSecond();
    };
    const double trainFp32 = wantFp32 ? trainRate(false) : -1;
    const double trainBf16 = wantBf16 ? trainRate(true) : -1;
    if ((wantFp32 && trainFp32 < 0) || (wantBf16 && trainBf16 < 0))
        return 1;

    const std::string cmd = python + " " LIGHTBOX_BENCH_DIR "/bench_train.py --data '" + dataDir + "' --threads " +
                            std::to_string(threads) + " --workers " + std::to_string(workers) + " --size " +
                            std::to_string(size) + " --batch " + std::to_string(batch) + " --batches " +
                            std::to_string(batches) + " --load-batches " + std::to_string(loadBatches) + " --arch " +
                            (arch == "cnn5" ? std::string("resnet18") : arch) + (wantBf16 ? " --bf16" : "") +
                            " 2>/dev/null";
    const std::string pyText = bench::runCommand(cmd);
    ml::Json py;
    std::string error;
    const bool havePython = !pyText.empty() && ml::Json::parse(pyText, py, error);
    double pyLoad = havePython ? py["load_images_per_s"].toNumber(-1) : -1;
    double pyTrain = havePython ? py["train_images_per_s"].toNumber(-1) : -1;
    double pyTrainBf16 = havePython && wantBf16 ? py["train_bf16_images_per_s"].toNumber(-1) : -1;
    if (havePython)
        std::printf("Python peer: torch %s, torchvision %s, %d threads, %d DataLoader worker(s)\n",
                    py["torch"].toString().c_str(), py["torchvision"].toString().c_str(), py["threads"].toInt(),
                    py["workers"].toInt());
    else
        std::printf("(Python peer did not run: %s)\n", pyText.empty() ? "no output" : error.c_str());

    std::printf("\n%-40s %12s %12s %10s\n", "images per second", "Lightbox", "PyTorch", "ratio");
    auto row = [](const char* what, double c, double p) {
        if (p > 0)
            std::printf("%-40s %12.1f %12.1f %9.2fx\n", what, c, p, c / p);
        else
            std::printf("%-40s %12.1f %12s %10s\n", what, c, "-", "-");
    };
    row("data loading (decode + augment)", loadRate, pyLoad);
    if (wantFp32)
        row(smoke ? "training float32 (cnn5 smoke; peer r18)" : "training float32 (loading included)", trainFp32,
            pyTrain);
    if (wantBf16)
        row(smoke ? "training bfloat16 (cnn5 smoke; peer r18)" : "training bfloat16 autocast, both sides", trainBf16,
            pyTrainBf16);
    if (wantFp32 && wantBf16)
        row("Lightbox bfloat16 vs PyTorch float32", trainBf16, pyTrain);
    return 0;
}
