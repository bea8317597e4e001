// The trainer on synthetic data: it learns, repeats with a seed, stops and resumes from its
// checkpoint, stops early and keeps the best weights, freezes stages, follows its schedules
// and refuses bad batches with a message. LibTorch comes first (weights are compared
// directly): it must not meet Qt's `slots` macro.
// Over 600 lines: the trainer's behaviours share the synthetic sources and small networks at
// the top, and each is a few dozen lines; one suite keeps them in one place.
#include <ml/detail/ModelImpl.h>

#include <ml/Bundle.h>
#include <ml/Metrics.h>
#include <ml/Runtime.h>
#include <ml/Trainer.h>

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <thread>

using namespace lightbox::ml;

namespace {

/// In-memory images: class 0 has a bright square in the left half, class 1 in the right half,
/// at random positions over noise. Shuffles per epoch with its seed, as BatchSource asks.
class SyntheticSource : public BatchSource {
public:
    /// Squares: two classes by the square's side; Graded: four grades (0-3) by the square's
    /// brightness, anywhere in the image; Blank: noise-free zeros.
    enum class Kind { Squares, Blank, Graded };

    SyntheticSource(int count, int batchSize, uint64_t seed, int size = 32, int channels = 1, Kind kind = Kind::Squares)
        : m_batch(batchSize), m_seed(seed), m_size(size), m_channels(channels)
    {
        std::mt19937 rng(static_cast<unsigned>(seed));
        std::normal_distribution<float> noise(0.f, 0.15f);
        const int side = std::max(2, size / 4);
        std::uniform_int_distribution<int> y(0, size - side), x(0, size / 2 - side);
        for (int i = 0; i < count; ++i) {
            Sample s;
            s.label = kind == Kind::Graded ? i % 4 : i % 2;
            s.id = "img" + std::to_string(i) + ".png";
            s.pixels.assign(static_cast<size_t>(size) * size, 0.f);
            if (kind != Kind::Blank) {
                for (auto& v : s.pixels)
                    v = noise(rng);
                const bool right = kind == Kind::Graded ? (rng() & 1u) != 0 : s.label == 1;
                const float bright = kind == Kind::Graded ? 0.6f * static_cast<float>(s.label + 1) : 2.f;
                const int top = y(rng), left = x(rng) + (right ? size / 2 : 0);
                for (int r = top; r < top + side; ++r)
                    for (int c = left; c < left + side; ++c)
                        s.pixels[static_cast<size_t>(r) * size + c] += bright;
            }
            m_samples.push_back(std::move(s));
        }
    }

    void startEpoch(int epoch) override
    {
        m_order.resize(m_samples.size());
        for (size_t i = 0; i < m_order.size(); ++i)
            m_order[i] = i;
        std::mt19937 rng(static_cast<unsigned>(m_seed * 7919 + static_cast<uint64_t>(epoch)));
        std::shuffle(m_order.begin(), m_order.end(), rng);
        m_pos = 0;
        m_epoch = epoch;
    }
    bool next(Batch& out) override
    {
        if (m_pos >= m_order.size())
            return false;
        const size_t n = std::min(static_cast<size_t>(m_batch), m_order.size() - m_pos);
        out.n = static_cast<int>(n);
        out.channels = m_channels;
        out.height = out.width = m_size;
        out.pixels.clear();
        out.labels.clear();
        out.ids.clear();
        for (size_t i = 0; i < n; ++i) {
            const Sample& s = m_samples[m_order[m_pos + i]];
            for (int c = 0; c < m_channels; ++c)
                out.pixels.insert(out.pixels.end(), s.pixels.begin(), s.pixels.end());
            out.labels.push_back(s.label + m_labelOffset);
            out.ids.push_back(s.id);
        }
        m_pos += n;
        ++m_batchesServed;
        return true;
    }
    int64_t sampleCount() const override { return static_cast<int64_t>(m_samples.size()); }
    int batchCount() const override { return static_cast<int>((m_samples.size() + m_batch - 1) / m_batch); }

    int m_labelOffset = 0; ///< added to every label (to make labels out of range)
    int m_batchesServed = 0;
    int m_epoch = -1;

private:
    struct Sample {
        std::vector<float> pixels;
        int64_t label = 0;
        std::string id;
    };
    std::vector<Sample> m_samples;
    std::vector<size_t> m_order;
    size_t m_pos = 0;
    int m_batch;
    uint64_t m_seed;
    int m_size;
    int m_channels;
};

/// Records what the trainer reports and can ask it to stop after N batches.
class Recorder : public TrainingObserver {
public:
    void batchFinished(const BatchMetrics& m) override
    {
        batches.push_back(m);
        if (onBatch)
            onBatch(m);
    }
    void epochFinished(const EpochMetrics& m) override { epochs.push_back(m); }
    void message(const std::string& m) override { messages.push_back(m); }

    std::vector<BatchMetrics> batches;
    std::vector<EpochMetrics> epochs;
    std::vector<std::string> messages;
    std::function<void(const BatchMetrics&)> onBatch;
};

std::string readFile(const std::string& path)
{
    std::ifstream f(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

int countLines(const std::string& s)
{
    return static_cast<int>(std::count(s.begin(), s.end(), '\n'));
}

/// A copy of every parameter and buffer, by name.
std::map<std::string, torch::Tensor> weightsOf(const Model& m)
{
    std::map<std::string, torch::Tensor> w;
    for (const auto& p : m.impl()->net->named_parameters())
        w[p.key()] = p.value().detach().clone();
    for (const auto& b : m.impl()->net->named_buffers())
        w[b.key()] = b.value().clone();
    return w;
}

bool sameTensors(const std::map<std::string, torch::Tensor>& a, const std::map<std::string, torch::Tensor>& b,
                 const std::string& prefix)
{
    bool any = false;
    for (const auto& [name, t] : a) {
        if (name.rfind(prefix, 0) != 0)
            continue;
        any = true;
        if (!b.count(name) || !torch::equal(t, b.at(name)))
            return false;
    }
    return any;
}

} // namespace

class tst_MlTrainer : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void configRoundTrip();
    void configValidation_data();
    void configValidation();
    void learnsAndRepeats();
    void evaluationMatchesHistory();
    void stopAndResume();
    void earlyStoppingKeepsBest();
    void fineTuneFreezesStages();
    void plateauLowersRate();
    void cosineSchedule();
    void labelSmoothingBoundsLoss();
    void ordinalSoftLabels();
    void cornHead();
    void pauseHoldsBatches();
    void refusesBadBatches();
    void mixedPrecisionOnCpu();
    void resnet18Throughput();

private:
    TrainConfig smallConfig(const char* name) const;
    /// The uninterrupted 4-epoch reference run (computed once).
    const TrainSummary& reference();

    QTemporaryDir m_dir;
    SyntheticSource m_train{256, 32, 1};
    SyntheticSource m_val{128, 64, 2};
    std::optional<TrainSummary> m_reference;
};

void tst_MlTrainer::initTestCase()
{
    QVERIFY(m_dir.isValid());
    configureThreads(1);
}

TrainConfig tst_MlTrainer::smallConfig(const char* name) const
{
    TrainConfig c;
    c.architecture = "cnn5";
    c.task = "synthetic-halves";
    c.classNames = {"left", "right"};
    c.preprocess.width = c.preprocess.height = 32;
    c.preprocess.channels = 1;
    c.preprocess.mean = {0.f};
    c.preprocess.std = {1.f};
    c.optimizer = "adam";
    c.learningRate = 1e-3;
    c.epochs = 4;
    c.schedule = "none";
    c.device = "cpu";
    // One thread: on a machine whose cores are shared with other jobs, two OpenMP threads
    // spin against each other and a small network trains several times slower.
    c.threads = 1;
    c.seed = 1234;
    c.runDir = m_dir.filePath(name).toStdString();
    return c;
}

const TrainSummary& tst_MlTrainer::reference()
{
    if (!m_reference) {
        auto r = Trainer::run(smallConfig("reference"), m_train, &m_val);
        if (!r)
            qFatal("reference run failed: %s", r.error().c_str());
        m_reference = r.value();
    }
    return *m_reference;
}

void tst_MlTrainer::configRoundTrip()
{
    TrainConfig c = smallConfig("roundtrip");
    c.classWeights = {1.f, 2.5f};
    c.labelSmoothing = 0.1;
    c.ordinal = true;
    c.monitor = "val_qwk";
    c.freezeAllButLast = 2;
    c.unfreezeAtEpoch = 3;
    c.mixedPrecision = true;
    c.seed = (1ull << 60) + 3; // beyond a double's integers: written as text
    auto back = TrainConfig::fromJsonText(c.toJsonText());
    QVERIFY2(back.ok(), back.ok() ? "" : back.error().c_str());
    QCOMPARE(back->toJsonText(), c.toJsonText());
    QCOMPARE(back->seed, c.seed);
    QCOMPARE(back->classWeights, c.classWeights);
    QCOMPARE(back->preprocess.channels, 1);
    QCOMPARE(back->preprocess.mean, c.preprocess.mean);

    QVERIFY(!TrainConfig::fromJsonText("{\"epochs\": \"many\"}").ok());
    QVERIFY(!TrainConfig::fromJsonText("[1, 2]").ok());
    auto partial = TrainConfig::fromJsonText("{\"epochs\": 3}");
    QVERIFY(partial.ok());
    QCOMPARE(partial->epochs, 3);
    QCOMPARE(partial->optimizer, TrainConfig().optimizer);
}

void tst_MlTrainer::configValidation_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("expected");
    // field, value that breaks it, what the message names
    const char* rows[][3] = {{"optimizer", "\"rmsprop\"", "optimizer"}, {"architecture", "\"alexnet\"", "architecture"},
                             {"class_names", "[\"a\"]", "two classes"}, {"class_weights", "[1, 2, 3]", "class weights"},
                             {"label_smoothing", "0.9", "smoothing"},   {"schedule", "\"step\"", "schedule"},
                             {"monitor", "\"val_f1\"", "monitor"},      {"learning_rate", "0", "learning rate"},
                             {"run_dir", "\"\"", "run folder"}};
    for (const auto& row : rows)
        QTest::newRow(row[0]) << QString(row[0]) << QString(row[1]) << QString(row[2]);
}

void tst_MlTrainer::configValidation()
{
    QFETCH(QString, field);
    QFETCH(QString, value);
    QFETCH(QString, expected);
    QVERIFY(smallConfig("valid").validate().empty());
    std::string text = smallConfig("invalid").toJsonText();
    const std::string key = "\"" + field.toStdString() + "\": ";
    const size_t at = text.find(key);
    QVERIFY(at != std::string::npos);
    const size_t end = text.find_first_of(",}", text[at + key.size()] == '[' ? text.find(']', at) : at);
    text.replace(at + key.size(), end - at - key.size(), value.toStdString());
    auto c = TrainConfig::fromJsonText(text);
    QVERIFY2(c.ok(), c.ok() ? "" : c.error().c_str());
    const std::string why = c->validate();
    QVERIFY2(why.find(expected.toStdString()) != std::string::npos, why.c_str());
    // The trainer refuses it with the same message instead of training.
    SyntheticSource tiny(8, 8, 3);
    auto r = Trainer::run(c.value(), tiny, nullptr);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().find(why) != std::string::npos, r.error().c_str());
}

void tst_MlTrainer::learnsAndRepeats()
{
    Recorder rec;
    const auto t0 = std::chrono::steady_clock::now();
    auto first = Trainer::run(smallConfig("learn"), m_train, &m_val, &rec);
    QVERIFY2(first.ok(), first.ok() ? "" : first.error().c_str());
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const auto& h = first->history;
    QCOMPARE(h.size(), size_t(4));
    qInfo("cnn5 32x32: train loss %.3f -> %.3f, val accuracy %.3f -> %.3f, %.0f images/s, %.1f s", h.front().trainLoss,
          h.back().trainLoss, h.front().valAccuracy, h.back().valAccuracy, h.back().imagesPerSecond, seconds);
    QVERIFY(h.back().trainLoss < h.front().trainLoss);
    QVERIFY2(h.back().valAccuracy > 0.9, qPrintable(QString::number(h.back().valAccuracy)));
    QVERIFY(!first->cancelled && !first->stoppedEarly);
    QCOMPARE(first->device, std::string("cpu"));

    // Progress reached the observer: every batch, every epoch, in order, with live figures.
    QCOMPARE(rec.epochs.size(), size_t(4));
    QCOMPARE(rec.batches.size(), size_t(4 * m_train.batchCount()));
    QCOMPARE(rec.batches.back().batch, m_train.batchCount() - 1);
    QCOMPARE(rec.batches.back().batchCount, m_train.batchCount());
    QVERIFY(rec.batches.front().imagesPerSecond > 0);
    QVERIFY(rec.batches.front().secondsLeft > rec.batches.back().secondsLeft);
    QVERIFY(rec.batches.back().secondsLeft >= 0.0);
    QVERIFY(std::isnan(h.front().valQwk)); // not an ordinal run

    // The run folder: config, one CSV row per epoch, checkpoint, best bundle.
    const std::string dir = smallConfig("learn").runDir;
    QVERIFY(TrainConfig::fromJsonText(readFile(dir + "/config.json")).ok());
    const std::string csv = readFile(dir + "/metrics.csv");
    QVERIFY(csv.rfind("epoch,train_loss,", 0) == 0);
    QCOMPARE(countLines(csv), 5);
    QVERIFY(Trainer::canResume(dir));
    QVERIFY(!Trainer::canResume(m_dir.filePath("nowhere").toStdString()));
    QCOMPARE(first->bestBundle, dir + "/best.lbx");
    QVERIFY(h[static_cast<size_t>(first->bestEpoch)].best);

    // Same seed, same data, same threads: the same history, to the last bit on the CPU.
    auto second = Trainer::run(smallConfig("repeat"), m_train, &m_val);
    QVERIFY(second.ok());
    for (size_t e = 0; e < h.size(); ++e) {
        QCOMPARE(second->history[e].trainLoss, h[e].trainLoss);
        QCOMPARE(second->history[e].valLoss, h[e].valLoss);
        QCOMPARE(second->history[e].valAccuracy, h[e].valAccuracy);
    }
    m_reference = first.value();

    // Another seed trains differently (so the comparison above could fail).
    TrainConfig other = smallConfig("other-seed");
    other.epochs = 1;
    other.seed = 99;
    auto third = Trainer::run(other, m_train, &m_val);
    QVERIFY(third.ok());
    QVERIFY(third->history[0].trainLoss != h[0].trainLoss);
}

void tst_MlTrainer::evaluationMatchesHistory()
{
    const TrainSummary& ref = reference();
    auto loaded = loadModel(ref.bestBundle);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().c_str());
    QCOMPARE(loaded->card.architecture, std::string("cnn5"));
    QCOMPARE(loaded->card.classNames, (std::vector<std::string>{"left", "right"}));
    QCOMPARE(loaded->card.preprocess.width, 32);
    QVERIFY(!loaded->card.trainingSummary.empty());
    QVERIFY(!loaded->card.created.empty());
    const EpochMetrics& best = ref.history[static_cast<size_t>(ref.bestEpoch)];
    QCOMPARE(loaded->card.metrics.at("epoch"), double(ref.bestEpoch));
    QVERIFY(std::abs(loaded->card.metrics.at("val_accuracy") - best.valAccuracy) < 1e-12);
    QVERIFY(std::abs(loaded->card.metrics.at("val_loss") - best.valLoss) < 1e-9);

    auto out = evaluateModel(loaded->model, m_val, "cpu", 1);
    QVERIFY2(out.ok(), out.ok() ? "" : out.error().c_str());
    QCOMPARE(out->labels.size(), size_t(m_val.sampleCount()));
    QCOMPARE(out->ids.size(), out->labels.size());
    QCOMPARE(out->numClasses, 2);
    const auto report = computeReport(out->labels, out->probabilities, loaded->card.classNames, false);
    QVERIFY2(std::abs(report.accuracy - best.valAccuracy) < 1e-12,
             qPrintable(QString("%1 vs %2").arg(report.accuracy).arg(best.valAccuracy)));
    double nll = 0;
    for (size_t i = 0; i < out->labels.size(); ++i)
        nll -= std::log(out->probabilities[i][static_cast<size_t>(out->labels[i])]);
    QVERIFY(std::abs(nll / out->labels.size() - best.valLoss) < 1e-4);
    QVERIFY(report.macroAuc > 0.9);
    QCOMPARE(report.trueCounts, (std::vector<int64_t>{64, 64}));

    // A batch with the wrong channel count is refused with a message.
    SyntheticSource rgb(8, 8, 5, 32, 3);
    auto bad = evaluateModel(loaded->model, rgb, "cpu", 1);
    QVERIFY(!bad.ok());
    QVERIFY2(bad.error().find("channel") != std::string::npos, bad.error().c_str());
}

void tst_MlTrainer::stopAndResume()
{
    const TrainSummary& ref = reference();
    const TrainConfig config = smallConfig("stopped");
    TrainingControl control;
    Recorder rec;
    const int stopAt = 2 * m_train.batchCount() + 3; // 4th batch of epoch 3
    rec.onBatch = [&](const BatchMetrics&) {
        if (static_cast<int>(rec.batches.size()) == stopAt)
            control.stop = true;
    };
    auto stopped = Trainer::run(config, m_train, &m_val, &rec, &control);
    QVERIFY2(stopped.ok(), stopped.ok() ? "" : stopped.error().c_str());
    QVERIFY(stopped->cancelled);
    QCOMPARE(rec.batches.size(), size_t(stopAt)); // the batch in flight finished, no further one
    QCOMPARE(stopped->history.size(), size_t(2)); // epochs 1 and 2 completed
    QCOMPARE(countLines(readFile(config.runDir + "/metrics.csv")), 3);
    QVERIFY(Trainer::canResume(config.runDir));

    // Resume: continues at epoch 3 from the checkpoint and ends with all four epochs, the same
    // as the run that was never interrupted (per-epoch seeding, restored optimiser state).
    Recorder after;
    auto resumed = Trainer::run(config, m_train, &m_val, &after, nullptr, /*resume=*/true);
    QVERIFY2(resumed.ok(), resumed.ok() ? "" : resumed.error().c_str());
    QVERIFY(!resumed->cancelled);
    QCOMPARE(resumed->history.size(), size_t(4));
    QCOMPARE(after.epochs.size(), size_t(2));
    QCOMPARE(after.epochs.front().epoch, 2);
    QCOMPARE(after.batches.size(), size_t(2 * m_train.batchCount()));
    for (size_t e = 0; e < 4; ++e) {
        QCOMPARE(resumed->history[e].epoch, int(e));
        QVERIFY2(
            std::abs(resumed->history[e].trainLoss - ref.history[e].trainLoss) < 1e-5,
            qPrintable(
                QString("epoch %1: %2 vs %3").arg(e).arg(resumed->history[e].trainLoss).arg(ref.history[e].trainLoss)));
        QVERIFY(std::abs(resumed->history[e].valLoss - ref.history[e].valLoss) < 1e-5);
    }
    QCOMPARE(countLines(readFile(config.runDir + "/metrics.csv")), 5);

    // A damaged checkpoint is refused with a message and not replaced.
    const std::string damagedDir = m_dir.filePath("damaged").toStdString();
    QDir().mkpath(QString::fromStdString(damagedDir));
    {
        std::ofstream f(damagedDir + "/checkpoint.pt", std::ios::binary);
        f << "not a checkpoint";
    }
    TrainConfig damaged = config;
    damaged.runDir = damagedDir;
    auto refused = Trainer::run(damaged, m_train, &m_val, nullptr, nullptr, true);
    QVERIFY(!refused.ok());
    QVERIFY2(refused.error().find("checkpoint") != std::string::npos, refused.error().c_str());
    QCOMPARE(readFile(damagedDir + "/checkpoint.pt"), std::string("not a checkpoint"));

    // A checkpoint of another architecture is refused too.
    TrainConfig otherArch = config;
    otherArch.architecture = "resnet18";
    auto mismatch = Trainer::run(otherArch, m_train, &m_val, nullptr, nullptr, true);
    QVERIFY(!mismatch.ok());
    QVERIFY2(mismatch.error().find("cnn5") != std::string::npos, mismatch.error().c_str());
}

void tst_MlTrainer::earlyStoppingKeepsBest()
{
    // Blank validation images: the network gives every one the same output, so validation
    // accuracy is exactly 0.5 in every epoch and never improves on the first.
    SyntheticSource blank(64, 32, 9, 32, 1, SyntheticSource::Kind::Blank);
    TrainConfig config = smallConfig("early");
    config.epochs = 10;
    config.monitor = "val_accuracy";
    config.earlyStopPatience = 2;
    Recorder rec;
    auto r = Trainer::run(config, m_train, &blank, &rec);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    QVERIFY(r->stoppedEarly);
    QCOMPARE(r->history.size(), size_t(3)); // best epoch 1, then 2 epochs without improvement
    QCOMPARE(r->bestEpoch, 0);
    QCOMPARE(r->bestScore, 0.5);
    QVERIFY(r->history[0].best && !r->history[1].best && !r->history[2].best);
    QVERIFY(std::any_of(rec.messages.begin(), rec.messages.end(),
                        [](const std::string& m) { return m.find("early stopping") != std::string::npos; }));
    // The weights did move after the best epoch (so restoring them is observable)...
    QVERIFY(r->history[2].valLoss != r->history[0].valLoss);

    // ...and best.lbx holds epoch 1's: its validation loss is epoch 1's, not epoch 3's.
    auto loaded = loadModel(r->bestBundle);
    QVERIFY2(loaded.ok(), loaded.ok() ? "" : loaded.error().c_str());
    QCOMPARE(loaded->card.metrics.at("epoch"), 0.0);
    QCOMPARE(loaded->card.metrics.at("val_accuracy"), 0.5);
    auto out = evaluateModel(loaded->model, blank, "cpu", 1);
    QVERIFY(out.ok());
    double nll = 0;
    for (size_t i = 0; i < out->labels.size(); ++i)
        nll -= std::log(out->probabilities[i][static_cast<size_t>(out->labels[i])]);
    nll /= out->labels.size();
    QVERIFY2(std::abs(nll - r->history[0].valLoss) < 1e-5,
             qPrintable(QString("%1 vs %2").arg(nll).arg(r->history[0].valLoss)));

    // Resuming a run that stopped early trains no further.
    auto again = Trainer::run(config, m_train, &blank, nullptr, nullptr, true);
    QVERIFY(again.ok());
    QCOMPARE(again->history.size(), size_t(3));
    QVERIFY(again->stoppedEarly);
}

void tst_MlTrainer::fineTuneFreezesStages()
{
    const TrainSummary& ref = reference();
    auto init = loadModel(ref.bestBundle);
    QVERIFY(init.ok());
    const auto before = weightsOf(init->model);

    // Train only the last stage and the head for two epochs.
    TrainConfig config = smallConfig("finetune");
    config.architecture = "resnet18"; // ignored: the bundle's architecture wins
    config.initBundle = ref.bestBundle;
    config.classNames.clear(); // taken from the bundle
    config.freezeAllButLast = 1;
    config.epochs = 2;
    config.learningRate = 1e-2;
    auto r = Trainer::run(config, m_train, &m_val);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    auto tuned = loadModel(config.runDir + "/checkpoint.pt");
    QVERIFY(!tuned.ok()); // a checkpoint is not a bundle
    auto best = loadModel(r->bestBundle);
    QVERIFY(best.ok());
    QCOMPARE(best->card.architecture, std::string("cnn5"));
    const auto frozen = weightsOf(best->model);
    for (const char* stage : {"block1.", "block2.", "block3.", "block4."})
        QVERIFY2(sameTensors(before, frozen, stage), stage); // weights and batch-norm statistics
    QVERIFY(!sameTensors(before, frozen, "block5."));
    QVERIFY(!sameTensors(before, frozen, "fc."));

    // Extend the run by one epoch with everything released from epoch 3 on (without
    // validation data, so that epoch's weights become best.lbx).
    config.epochs = 3;
    config.unfreezeAtEpoch = 2;
    auto more = Trainer::run(config, m_train, nullptr, nullptr, nullptr, /*resume=*/true);
    QVERIFY2(more.ok(), more.ok() ? "" : more.error().c_str());
    QCOMPARE(more->history.size(), size_t(3));
    QCOMPARE(more->bestEpoch, 2);
    auto released = loadModel(more->bestBundle);
    QVERIFY(released.ok());
    QVERIFY(!sameTensors(before, weightsOf(released->model), "block1."));

    // Fine-tuning to another class count: the head is new, the rest comes from the bundle.
    TrainConfig three = smallConfig("finetune3");
    three.initBundle = ref.bestBundle;
    three.classNames = {"a", "b", "c"};
    three.epochs = 1;
    three.freezeAllButLast = 0;
    Recorder rec;
    auto r3 = Trainer::run(three, m_train, &m_val, &rec);
    QVERIFY2(r3.ok(), r3.ok() ? "" : r3.error().c_str());
    QVERIFY(std::any_of(rec.messages.begin(), rec.messages.end(),
                        [](const std::string& m) { return m.find("freshly initialised") != std::string::npos; }));
    auto b3 = loadModel(r3->bestBundle);
    QVERIFY(b3.ok());
    QCOMPARE(b3->model.numClasses(), 3);
    QVERIFY(sameTensors(before, weightsOf(b3->model), "block5."));
}

void tst_MlTrainer::plateauLowersRate()
{
    // All stages frozen and a vanishing learning rate: the validation loss stays flat, so
    // ReduceLROnPlateau (patience 1) halves the rate once two epochs have not improved.
    TrainConfig config = smallConfig("plateau");
    config.freezeAllButLast = 0;
    config.learningRate = 1e-9;
    config.minLearningRate = 1e-12;
    config.schedule = "plateau";
    config.plateauPatience = 1;
    config.plateauFactor = 0.5;
    config.earlyStopPatience = 0;
    config.epochs = 5;
    auto r = Trainer::run(config, m_train, &m_val);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    std::vector<double> lr;
    for (const auto& e : r->history)
        lr.push_back(e.learningRate);
    // epoch 1 sets the best, epochs 2 and 3 are bad (2 > patience): epoch 4 runs at half.
    const std::vector<double> expected{1e-9, 1e-9, 1e-9, 0.5e-9, 0.5e-9};
    for (size_t i = 0; i < lr.size(); ++i)
        QVERIFY2(std::abs(lr[i] - expected[i]) < 1e-15, qPrintable(QString("epoch %1: %2").arg(i).arg(lr[i])));
}

void tst_MlTrainer::cosineSchedule()
{
    TrainConfig config = smallConfig("cosine");
    config.schedule = "cosine";
    config.optimizer = "sgd";
    config.learningRate = 0.01;
    config.minLearningRate = 0.0;
    config.epochs = 4;
    SyntheticSource small(64, 32, 11);
    auto r = Trainer::run(config, small, nullptr); // no validation: the last epoch is the best
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    const double pi = std::acos(-1.0);
    for (int e = 0; e < 4; ++e)
        QVERIFY(std::abs(r->history[e].learningRate - 0.01 * (1 + std::cos(pi * e / 4)) / 2) < 1e-12);
    QCOMPARE(r->bestEpoch, 3);
    QVERIFY(std::isnan(r->history[3].valLoss));
    auto best = loadModel(r->bestBundle);
    QVERIFY(best.ok());
    QCOMPARE(best->card.metrics.at("epoch"), 3.0);
    QVERIFY(!best->card.metrics.count("val_loss"));
}

void tst_MlTrainer::labelSmoothingBoundsLoss()
{
    // With smoothing 0.5 over two classes the target is (0.75, 0.25): no output can push the
    // cross-entropy below that target's entropy, while the plain run falls to ~0.01.
    TrainConfig config = smallConfig("smoothing");
    config.labelSmoothing = 0.5;
    config.epochs = 2;
    auto r = Trainer::run(config, m_train, &m_val);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    const double floor = -(0.75 * std::log(0.75) + 0.25 * std::log(0.25));
    for (const auto& e : r->history)
        QVERIFY2(e.trainLoss >= floor - 1e-6, qPrintable(QString("%1 < %2").arg(e.trainLoss).arg(floor)));
    QVERIFY(r->history.back().trainLoss < floor + 0.1); // it still learns
    QVERIFY(r->history.back().valAccuracy > 0.9);
}

void tst_MlTrainer::ordinalSoftLabels()
{
    // Gaussian soft labels with sigma 1 over two grades: the target is (1, e^-1/2) normalised,
    // (0.622, 0.378), so the training loss cannot fall below its entropy, and the run still
    // learns. Without `ordinal` the option is ignored.
    TrainConfig config = smallConfig("ordinal-sigma");
    config.ordinal = true;
    config.ordinalSigma = 1.0;
    config.epochs = 2;
    auto r = Trainer::run(config, m_train, &m_val);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    const double a = 1.0 / (1.0 + std::exp(-0.5)), b = 1.0 - a;
    const double floor = -(a * std::log(a) + b * std::log(b));
    for (const auto& e : r->history)
        QVERIFY2(e.trainLoss >= floor - 1e-6, qPrintable(QString("%1 < %2").arg(e.trainLoss).arg(floor)));
    QVERIFY(r->history.back().trainLoss < floor + 0.1);
    QVERIFY(r->history.back().valAccuracy > 0.9);

    TrainConfig plain = smallConfig("ordinal-sigma-ignored");
    plain.ordinalSigma = 1.0; // not an ordinal task
    plain.epochs = 1;
    auto p = Trainer::run(plain, m_train, &m_val);
    QVERIFY(p.ok());
    QCOMPARE(p->history[0].trainLoss, reference().history[0].trainLoss);

    TrainConfig bad = smallConfig("ordinal-sigma-bad");
    bad.ordinalSigma = 3.0;
    QVERIFY(bad.validate().find("ordinal sigma") != std::string::npos);
}

void tst_MlTrainer::cornHead()
{
    namespace d = lightbox::ml::detail;
    // The head's arithmetic: P(y > k) is the product of the conditional sigmoids, the class
    // probabilities are its differences and sum to one; the loss is each threshold's binary
    // cross-entropy over its conditional subset (y >= k).
    auto h = torch::tensor({2.0f, 0.5f, -1.0f, -3.0f, 4.0f, 4.0f}).view({2, 3});
    auto p = d::cornLogProbs(h).exp();
    QCOMPARE(p.size(1), int64_t(4));
    QVERIFY(torch::allclose(p.sum(1), torch::ones({2}), 1e-5, 1e-5));
    auto c = torch::sigmoid(h);
    const double above0 = c[0][0].item<double>(), above1 = above0 * c[0][1].item<double>(),
                 above2 = above1 * c[0][2].item<double>();
    QVERIFY(std::abs(p[0][0].item<double>() - (1 - above0)) < 1e-5);
    QVERIFY(std::abs(p[0][1].item<double>() - (above0 - above1)) < 1e-5);
    QVERIFY(std::abs(p[0][2].item<double>() - (above1 - above2)) < 1e-5);
    QVERIFY(std::abs(p[0][3].item<double>() - above2) < 1e-5);
    QVERIFY(p[1][0].item<double>() > 0.9); // first threshold says "not above 0"
    auto y = torch::tensor({1, 3}, torch::kLong);
    // Sample 0 (y = 1): thresholds 0 (above) and 1 (not above); sample 1 (y = 3): all three.
    auto bce = [](double logit, bool above) {
        const double s = 1 / (1 + std::exp(-logit));
        return -(above ? std::log(s) : std::log(1 - s));
    };
    const double manual = (bce(2.0, true) + bce(0.5, false) + bce(-3.0, true) + bce(4.0, true) + bce(4.0, true)) / 5;
    QVERIFY(std::abs(d::cornLoss(h, y, {}).item<double>() - manual) < 1e-4);

    // Trained on four brightness grades, it learns them, writes a corn bundle that loads to the
    // same outputs, and P(y > k) falls with k on every image.
    SyntheticSource train(256, 32, 5, 32, 1, SyntheticSource::Kind::Graded);
    SyntheticSource val(128, 64, 6, 32, 1, SyntheticSource::Kind::Graded);
    TrainConfig config = smallConfig("corn");
    config.classNames = {"0", "1", "2", "3"};
    config.ordinal = true;
    config.head = "corn";
    config.epochs = 10;
    config.learningRate = 3e-3;
    auto r = Trainer::run(config, train, &val);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    double bestAccuracy = 0;
    for (const auto& e : r->history)
        bestAccuracy = std::max(bestAccuracy, e.valAccuracy);
    QVERIFY2(bestAccuracy > 0.85, qPrintable(QString::number(bestAccuracy)));
    QVERIFY(r->history.back().trainLoss < r->history.front().trainLoss);
    auto best = loadModel(r->bestBundle);
    QVERIFY2(best.ok(), best.ok() ? "" : best.error().c_str());
    QCOMPARE(best->card.head, std::string("corn"));
    QVERIFY(best->model.impl()->net->cornHead());
    QVERIFY(best->card.trainingSummary.find("CORN") != std::string::npos);
    auto again = TrainConfig::fromJsonText(config.toJsonText());
    QVERIFY(again.ok());
    QCOMPARE(again->head, std::string("corn"));

    auto& net = *best->model.impl()->net;
    net.eval();
    torch::NoGradGuard noGrad;
    Batch b;
    val.startEpoch(0);
    QVERIFY(val.next(b));
    auto x = torch::from_blob(b.pixels.data(), {b.n, 1, 32, 32}, torch::kFloat32).clone();
    auto out = net.forward(x);
    QVERIFY(torch::allclose(out, d::cornLogProbs(net.conditionalLogits(net.pool(net.features(x))))));
    auto probs = out.exp();
    QVERIFY(torch::allclose(probs.sum(1), torch::ones({b.n}), 1e-4, 1e-4));
    auto above = 1 - probs.cumsum(1); // P(y > k)
    QVERIFY2((above.slice(1, 1, 4) - above.slice(1, 0, 3)).max().item<float>() <= 1e-6, "P(y > k) rose with k");
    // A CORN head saved under a softmax card, and a mixed ensemble, are refused.
    ModelCard wrong = best->card;
    wrong.head = "softmax";
    QVERIFY(!saveBundle(best->model, wrong, m_dir.filePath("wrong.lbx").toStdString()).ok());
    auto plain = createModel("cnn5", 1, 4);
    QVERIFY(!makeEnsemble({best->model, plain.value()}).ok());

    TrainConfig bad = smallConfig("corn-bad");
    bad.head = "corn"; // two unordered classes
    QVERIFY(bad.validate().find("graded") != std::string::npos);
    bad.ordinal = true;
    bad.ordinalSigma = 1.0;
    QVERIFY(bad.validate().find("corn") != std::string::npos);
    bad.head = "cumulative";
    QVERIFY(bad.validate().find("unknown head") != std::string::npos);
}

void tst_MlTrainer::pauseHoldsBatches()
{
    TrainConfig config = smallConfig("paused");
    config.epochs = 1;
    TrainingControl control;
    Recorder rec;
    std::thread release;
    int heldAt = -1, seenAfterWait = -1;
    rec.onBatch = [&](const BatchMetrics& m) {
        if (m.batch != 1)
            return;
        control.pause = true;
        heldAt = static_cast<int>(rec.batches.size());
        release = std::thread([&] {
            std::this_thread::sleep_for(std::chrono::milliseconds(400));
            seenAfterWait = static_cast<int>(rec.batches.size());
            control.pause = false;
        });
    };
    const auto t0 = std::chrono::steady_clock::now();
    auto r = Trainer::run(config, m_train, nullptr, &rec, &control);
    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (release.joinable())
        release.join();
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    QCOMPARE(seenAfterWait, heldAt); // no batch ran while paused
    QCOMPARE(rec.batches.size(), size_t(m_train.batchCount()));
    QVERIFY(!r->cancelled);
    QVERIFY2(r->history[0].seconds < wall - 0.3, qPrintable(QString("%1 vs %2").arg(r->history[0].seconds).arg(wall)));

    // Stop while paused: the run returns at once, cancelled, without a checkpoint.
    config.runDir = m_dir.filePath("paused-stop").toStdString();
    rec.onBatch = [&](const BatchMetrics&) {
        control.pause = true;
        control.stop = true;
    };
    r = Trainer::run(config, m_train, nullptr, &rec, &control);
    QVERIFY(r.ok());
    QVERIFY(r->cancelled);
    QVERIFY(r->history.empty());
    QVERIFY(!Trainer::canResume(config.runDir));
}

void tst_MlTrainer::refusesBadBatches()
{
    // Three channels for a one-channel network.
    SyntheticSource rgb(16, 8, 5, 32, 3);
    auto r = Trainer::run(smallConfig("rgb"), rgb, nullptr);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().find("3 channel(s) but the model takes 1") != std::string::npos, r.error().c_str());

    // A label beyond the class list.
    SyntheticSource shifted(16, 8, 5);
    shifted.m_labelOffset = 1;
    r = Trainer::run(smallConfig("labels"), shifted, nullptr);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().find("label 2") != std::string::npos, r.error().c_str());

    // Images of another size than the run's preprocessing.
    SyntheticSource large(16, 8, 5, 48);
    r = Trainer::run(smallConfig("size"), large, nullptr);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().find("48x48") != std::string::npos, r.error().c_str());

    // The validation source is checked too, and nothing is left half-written.
    SyntheticSource rgbVal(16, 8, 6, 32, 3);
    TrainConfig config = smallConfig("rgbval");
    config.epochs = 1;
    r = Trainer::run(config, m_train, &rgbVal);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().find("validation") != std::string::npos, r.error().c_str());
    QVERIFY(!Trainer::canResume(config.runDir));

    // No batches at all, and an unknown device.
    SyntheticSource none(0, 8, 5);
    r = Trainer::run(smallConfig("empty"), none, nullptr);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().find("no batches") != std::string::npos, r.error().c_str());
    config.device = "tpu";
    r = Trainer::run(config, m_train, nullptr);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().find("tpu") != std::string::npos, r.error().c_str());
}

void tst_MlTrainer::mixedPrecisionOnCpu()
{
    // bfloat16 autocast where the CPU computes it in hardware; elsewhere the flag is ignored
    // and the run is the float32 reference to the last bit.
    const TrainSummary& ref = reference();
    TrainConfig config = smallConfig("bf16");
    config.mixedPrecision = true;
    Recorder rec;
    auto r = Trainer::run(config, m_train, &m_val, &rec);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    const auto& h = r->history;
    QCOMPARE(h.size(), ref.history.size());
    const bool announced = std::any_of(rec.messages.begin(), rec.messages.end(), [](const std::string& m) {
        return m.find("bfloat16 mixed precision") != std::string::npos;
    });
    QCOMPARE(announced, cpuHasFastBFloat16());
    if (!cpuHasFastBFloat16()) {
        for (size_t e = 0; e < h.size(); ++e)
            QCOMPARE(h[e].trainLoss, ref.history[e].trainLoss);
        return;
    }
    qInfo("bfloat16: train loss %.3f -> %.3f (float32 %.3f -> %.3f), val accuracy %.3f (float32 %.3f)",
          h.front().trainLoss, h.back().trainLoss, ref.history.front().trainLoss, ref.history.back().trainLoss,
          h.back().valAccuracy, ref.history.back().valAccuracy);
    // It learns as the float32 run does, with figures that are close but not identical.
    QVERIFY(h.back().trainLoss < h.front().trainLoss);
    QVERIFY2(h.back().valAccuracy > 0.9, qPrintable(QString::number(h.back().valAccuracy)));
    QVERIFY(h.front().trainLoss != ref.history.front().trainLoss);
    QVERIFY2(std::abs(h.back().trainLoss - ref.history.back().trainLoss) < 0.1,
             qPrintable(QString::number(h.back().trainLoss)));
    // The weights and the bundle stay float32.
    auto best = loadModel(r->bestBundle);
    QVERIFY2(best.ok(), best.ok() ? "" : best.error().c_str());
    for (const auto& [name, t] : weightsOf(best->model))
        QVERIFY2(t.scalar_type() != torch::kBFloat16, name.c_str());
}

void tst_MlTrainer::resnet18Throughput()
{
    // CPU training throughput of resnet18 at 224 x 224, batch 16, 2 threads: the first batch
    // warms up, the second is timed.
    SyntheticSource images(32, 16, 21, 224, 3);
    TrainConfig config = smallConfig("resnet18");
    config.architecture = "resnet18";
    config.preprocess = PreprocessSpec{};
    config.epochs = 1;
    config.optimizer = "adamw";
    config.threads = 2;
    Recorder rec;
    std::vector<std::chrono::steady_clock::time_point> stamps;
    rec.onBatch = [&](const BatchMetrics&) { stamps.push_back(std::chrono::steady_clock::now()); };
    auto r = Trainer::run(config, images, nullptr, &rec);
    QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
    QCOMPARE(stamps.size(), size_t(2));
    const double timed = std::chrono::duration<double>(stamps.back() - stamps.front()).count();
    const double perSecond = 16 / timed;
    double load = 0;
    if (FILE* f = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(f, "%lf", &load) != 1)
            load = 0;
        std::fclose(f);
    }
    qInfo("resnet18 224x224 batch 16, %d threads, CPU: %.1f training images/s (%.2f s per batch; %s; load "
          "average %.1f on %u cores)",
          torch::get_num_threads(), perSecond, timed, torchSummary().c_str(), load,
          std::thread::hardware_concurrency());
    QVERIFY(perSecond > 0);
    QVERIFY(std::isfinite(r->history[0].trainLoss));
}

QTEST_APPLESS_MAIN(tst_MlTrainer)
#include "tst_MlTrainer.moc"
