// Grad-CAM and Grad-CAM++ correctness on a synthetic radiograph task with known evidence
// locations, plus classifier options and the memory behaviour of repeated maps.
// LibTorch comes first: it must not meet Qt's `slots` macro.
#include <ml/detail/ModelImpl.h>

#include <ml/Bundle.h>
#include <ml/Classifier.h>
#include <ml/Runtime.h>

#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>

using namespace lightbox::ml;

namespace {

constexpr int kSize = 48;  // image side
constexpr int kPatch = 12; // evidence patch side

/// Synthetic "radiographs": smooth low-frequency anatomy, a vertical density gradient and
/// noise, with a 12x12 striped patch at a random place. Class 0 has horizontal stripes,
/// class 1 vertical ones, so the only class evidence is inside the patch. Every image also
/// has a bright blob as large and as bright as the patch elsewhere (a distractor that
/// carries no class information), so a map that merely finds bright structures fails.
struct SyntheticSet {
    torch::Tensor images;                    // N x 1 x H x W
    torch::Tensor labels;                    // N
    std::vector<std::array<int, 2>> corners; // x, y of each patch
};

SyntheticSet makeSet(int n)
{
    namespace F = torch::nn::functional;
    SyntheticSet s;
    auto low = torch::rand({n, 1, 5, 5});
    auto images = F::interpolate(low, F::InterpolateFuncOptions()
                                          .size(std::vector<int64_t>{kSize, kSize})
                                          .mode(torch::kBicubic)
                                          .align_corners(false)) *
                  0.6;
    images += torch::linspace(0.0, 0.3, kSize).view({1, 1, kSize, 1});
    images += 0.08 * torch::randn({n, 1, kSize, kSize});
    images = images.contiguous();
    s.labels = torch::randint(0, 2, {n}, torch::kLong);
    auto pos = torch::randint(2, kSize - kPatch - 1, {n, 2}, torch::kLong);
    auto img = images.accessor<float, 4>();
    auto lab = s.labels.accessor<int64_t, 1>();
    auto p = pos.accessor<int64_t, 2>();
    for (int i = 0; i < n; ++i) {
        const int x0 = static_cast<int>(p[i][0]);
        const int y0 = static_cast<int>(p[i][1]);
        s.corners.push_back({x0, y0});
        // Distractor: a Gaussian blob (peak 0.4, like the stripes) whose 12x12 box does not
        // touch the patch.
        int bx = 0, by = 0;
        do {
            auto b = torch::randint(2, kSize - kPatch - 1, {2}, torch::kLong);
            bx = static_cast<int>(b[0].item<int64_t>());
            by = static_cast<int>(b[1].item<int64_t>());
        } while (std::abs(bx - x0) < kPatch + 2 && std::abs(by - y0) < kPatch + 2);
        for (int dy = 0; dy < kPatch; ++dy)
            for (int dx = 0; dx < kPatch; ++dx) {
                const float ry = dy - (kPatch - 1) / 2.f, rx = dx - (kPatch - 1) / 2.f;
                img[i][0][by + dy][bx + dx] += 0.4f * std::exp(-(rx * rx + ry * ry) / (2.f * 3.f * 3.f));
            }
        for (int dy = 0; dy < kPatch; ++dy)
            for (int dx = 0; dx < kPatch; ++dx) {
                const int phase = lab[i] == 0 ? dy : dx;
                img[i][0][y0 + dy][x0 + dx] += 0.4f * (0.5f + 0.5f * std::cos(2.f * float(M_PI) * phase / 4.f));
            }
    }
    s.images = images;
    return s;
}

InputImage toInput(const torch::Tensor& image) // 1 x H x W
{
    auto c = image.contiguous();
    InputImage in;
    in.channels = static_cast<int>(c.size(0));
    in.height = static_cast<int>(c.size(1));
    in.width = static_cast<int>(c.size(2));
    in.data.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    return in;
}

long rssKb()
{
    std::ifstream f("/proc/self/status");
    std::string line;
    while (std::getline(f, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::stol(line.substr(6));
    return -1;
}

bool peakInBox(const CamMap& m, const std::array<int, 2>& corner)
{
    const auto it = std::max_element(m.values.begin(), m.values.end());
    const int idx = static_cast<int>(it - m.values.begin());
    const int x = idx % m.width;
    const int y = idx / m.width;
    return x >= corner[0] && x < corner[0] + kPatch && y >= corner[1] && y < corner[1] + kPatch;
}

} // namespace

class tst_GradCam : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void pointingGame_data();
    void pointingGame();
    void camFollowsTargetClass();
    void testTimeAugmentationUndoesFlips();
    void deletionLowersProbability();
    void layersAreSelectable();
    void classifierOptions();
    void memoryStaysFlat();

private:
    QTemporaryDir m_dir;
    std::string m_bundle;
    std::unique_ptr<SyntheticSet> m_test;
    Classifier m_classifier;
};

void tst_GradCam::initTestCase()
{
    QVERIFY(m_dir.isValid());
    const int threads = configureThreads(0);
    manualSeed(2024);

    // Train cnn5 on the synthetic task (seeded) and save it as a bundle.
    std::string error;
    auto net = lightbox::ml::detail::createNet("cnn5", 1, 2, error);
    QVERIFY2(net, error.c_str());
    torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(2e-3));
    net->train();
    const auto start = std::chrono::steady_clock::now();
    const int steps = 220;
    float lastLoss = 0.f;
    for (int step = 0; step < steps; ++step) {
        auto batch = makeSet(16);
        opt.zero_grad();
        auto loss = torch::nn::functional::cross_entropy(net->forward(batch.images), batch.labels);
        loss.backward();
        opt.step();
        lastLoss = 0.9f * lastLoss + 0.1f * loss.item().toFloat();
    }
    net->eval();
    qInfo("trained cnn5 for %d steps of 16 on %d threads in %.1f s, smoothed loss %.3f", steps, threads,
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(), lastLoss);

    auto impl = std::make_shared<Model::Impl>();
    impl->net = net;
    impl->inChannels = 1;
    impl->numClasses = 2;
    ModelCard card;
    card.architecture = "cnn5";
    card.task = "synthetic stripes";
    card.classNames = {"horizontal", "vertical"};
    card.preprocess.width = kSize;
    card.preprocess.height = kSize;
    card.preprocess.channels = 1;
    card.preprocess.mean = {0.f};
    card.preprocess.std = {1.f};
    m_bundle = m_dir.filePath("synthetic.lbx").toStdString();
    auto saved = saveBundle(Model(impl), card, m_bundle);
    QVERIFY2(saved.ok(), saved.error().c_str());

    auto c = Classifier::load(m_bundle, {"cpu", false, -1});
    QVERIFY2(c.ok(), c.error().c_str());
    m_classifier = c.value();
    m_test = std::make_unique<SyntheticSet>(makeSet(100)); // held out: drawn after training
}

void tst_GradCam::pointingGame_data()
{
    QTest::addColumn<int>("method");
    QTest::newRow("Grad-CAM") << int(CamMethod::GradCam);
    QTest::newRow("Grad-CAM++") << int(CamMethod::GradCamPlusPlus);
}

void tst_GradCam::pointingGame()
{
    QFETCH(int, method);
    const int n = static_cast<int>(m_test->labels.size(0));
    int correct = 0, hits = 0;
    double ms = 0;
    for (int i = 0; i < n; ++i) {
        PredictOptions opts;
        opts.cam = static_cast<CamMethod>(method);
        opts.targetClass = static_cast<int>(m_test->labels[i].item<int64_t>());
        auto p = m_classifier.predict(toInput(m_test->images[i]), opts);
        QVERIFY2(p.ok(), p.error().c_str());
        correct += p->topClass == opts.targetClass;
        QCOMPARE(p->camClass, opts.targetClass);
        QCOMPARE(p->camUpsampled.width, kSize);
        QCOMPARE(p->cam.width, 6);
        for (float v : p->camUpsampled.values)
            QVERIFY(v >= 0.f && v <= 1.f);
        hits += peakInBox(p->camUpsampled, m_test->corners[static_cast<size_t>(i)]);
        ms += p->latencyMs;
    }
    qInfo("%s: accuracy %d/%d, pointing game %d/%d, %.2f ms per prediction with map", toString(CamMethod(method)),
          correct, n, hits, n, ms / n);
    QVERIFY2(correct >= 0.9 * n, "the synthetic classifier did not learn the task");
    QVERIFY2(hits >= 0.9 * n, qPrintable(QString("pointing game %1/%2").arg(hits).arg(n)));
}

void tst_GradCam::camFollowsTargetClass()
{
    // The map for the other class must differ from the map for the true class, and it must
    // not point at the evidence as often.
    double meanDiff = 0;
    int otherHits = 0, ownHits = 0;
    const int n = 40;
    for (int i = 0; i < n; ++i) {
        const auto input = toInput(m_test->images[i]);
        const int label = static_cast<int>(m_test->labels[i].item<int64_t>());
        PredictOptions opts;
        opts.cam = CamMethod::GradCam;
        opts.targetClass = label;
        auto own = m_classifier.predict(input, opts);
        opts.targetClass = 1 - label;
        auto other = m_classifier.predict(input, opts);
        QVERIFY(own.ok() && other.ok());
        QCOMPARE(other->camClass, 1 - label);
        double d = 0;
        for (size_t k = 0; k < own->cam.values.size(); ++k)
            d += std::fabs(own->cam.values[k] - other->cam.values[k]);
        meanDiff += d / own->cam.values.size();
        ownHits += peakInBox(own->camUpsampled, m_test->corners[static_cast<size_t>(i)]);
        otherHits += peakInBox(other->camUpsampled, m_test->corners[static_cast<size_t>(i)]);
    }
    meanDiff /= n;
    qInfo("mean |CAM(true) - CAM(other)| = %.3f; evidence hits %d (true class) vs %d (other class) of %d", meanDiff,
          ownHits, otherHits, n);
    QVERIFY(meanDiff > 0.1);
    QVERIFY(ownHits > otherHits);
}

/// Test-time augmentation: the probabilities are the mean of the views', and each view's map
/// is brought back before averaging, so the evidence stays where it is (a patch on the left
/// stays on the left) for Grad-CAM and Grad-CAM++.
void tst_GradCam::testTimeAugmentationUndoesFlips()
{
    PredictOptions tta;
    tta.tta.horizontalFlip = true;
    tta.tta.verticalFlip = true;
    tta.tta.shift = 0.04;
    QCOMPARE(tta.tta.views(), 7);
    // Probabilities: the mean over the identity and the mirrored views, checked by hand.
    PredictOptions flipOnly;
    flipOnly.tta.horizontalFlip = true;
    const auto input = toInput(m_test->images[0]);
    auto plain = m_classifier.predict(input);
    auto mirroredInput = toInput(m_test->images[0].flip({2}));
    auto mirrored = m_classifier.predict(mirroredInput);
    auto averaged = m_classifier.predict(input, flipOnly);
    QVERIFY(plain.ok() && mirrored.ok() && averaged.ok());
    QCOMPARE(averaged->views, 2);
    for (size_t c = 0; c < 2; ++c)
        QVERIFY(std::abs(averaged->probabilities[c] - 0.5f * (plain->probabilities[c] + mirrored->probabilities[c])) <
                1e-5f);
    QVERIFY(averaged->latencyMs >= averaged->singleViewMs);

    for (CamMethod method : {CamMethod::GradCam, CamMethod::GradCamPlusPlus}) {
        tta.cam = method;
        int hits = 0, leftRight = 0, mirroredHits = 0;
        const int n = 40;
        for (int i = 0; i < n; ++i) {
            tta.targetClass = static_cast<int>(m_test->labels[i].item<int64_t>());
            auto p = m_classifier.predict(toInput(m_test->images[i]), tta);
            QVERIFY2(p.ok(), p.error().c_str());
            QCOMPARE(p->views, 7);
            QCOMPARE(p->camUpsampled.width, kSize);
            QCOMPARE(p->cam.width, 6);
            const auto& corner = m_test->corners[static_cast<size_t>(i)];
            hits += peakInBox(p->camUpsampled, corner);
            // The peak's side of the image matches the patch's.
            const auto it = std::max_element(p->camUpsampled.values.begin(), p->camUpsampled.values.end());
            const int x = static_cast<int>(it - p->camUpsampled.values.begin()) % kSize;
            leftRight += (x < kSize / 2) == (corner[0] + kPatch / 2 < kSize / 2);
            // A map that was not flipped back would point at the mirrored patch.
            std::array<int, 2> mirroredCorner{kSize - corner[0] - kPatch, corner[1]};
            if (std::abs(mirroredCorner[0] - corner[0]) >= kPatch)
                mirroredHits += peakInBox(p->camUpsampled, mirroredCorner);
        }
        qInfo("%s with test-time augmentation (7 views): pointing game %d/%d, peak on the patch's side %d/%d, on "
              "the mirrored place %d",
              toString(method), hits, n, leftRight, n, mirroredHits);
        QVERIFY2(hits >= 0.85 * n, qPrintable(QString("pointing game %1/%2").arg(hits).arg(n)));
        QVERIFY(leftRight >= 0.9 * n);
        QVERIFY(mirroredHits <= 2);
    }
}

void tst_GradCam::deletionLowersProbability()
{
    // Masking the 20 % of pixels the map ranks highest must lower the predicted class's
    // probability more than masking a random 20 %.
    std::mt19937 rng(77);
    const int n = 50;
    double dropCam = 0, dropRandom = 0;
    for (int i = 0; i < n; ++i) {
        const auto input = toInput(m_test->images[i]);
        PredictOptions opts;
        opts.cam = CamMethod::GradCam;
        auto p = m_classifier.predict(input, opts);
        QVERIFY(p.ok());
        const int cls = p->topClass;
        const float base = p->probabilities[static_cast<size_t>(cls)];
        const size_t count = input.data.size();
        const size_t k = count / 5;
        const float fill = std::accumulate(input.data.begin(), input.data.end(), 0.f) / count;

        std::vector<size_t> order(count);
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](size_t a, size_t b) { return p->camUpsampled.values[a] > p->camUpsampled.values[b]; });
        InputImage byCam = input;
        for (size_t j = 0; j < k; ++j)
            byCam.data[order[j]] = fill;
        std::shuffle(order.begin(), order.end(), rng);
        InputImage byChance = input;
        for (size_t j = 0; j < k; ++j)
            byChance.data[order[j]] = fill;

        auto a = m_classifier.predict(byCam);
        auto b = m_classifier.predict(byChance);
        QVERIFY(a.ok() && b.ok());
        dropCam += base - a->probabilities[static_cast<size_t>(cls)];
        dropRandom += base - b->probabilities[static_cast<size_t>(cls)];
    }
    dropCam /= n;
    dropRandom /= n;
    qInfo("deletion of 20 %% of pixels: mean probability drop %.3f (top Grad-CAM) vs %.3f (random)", dropCam,
          dropRandom);
    QVERIFY(dropCam > dropRandom);
    QVERIFY(dropCam > 0.1);
}

void tst_GradCam::layersAreSelectable()
{
    const auto names = m_classifier.model().layerNames();
    QCOMPARE(names.back(), std::string("block5"));
    PredictOptions opts;
    opts.cam = CamMethod::GradCam;
    opts.layer = "block2";
    auto p = m_classifier.predict(toInput(m_test->images[0]), opts);
    QVERIFY2(p.ok(), p.error().c_str());
    QCOMPARE(p->camLayer, std::string("block2"));
    QCOMPARE(p->cam.width, 12);
    QCOMPARE(p->cam.height, 12);
    QCOMPARE(p->camUpsampled.width, kSize);
    opts.layer = "block9";
    auto bad = m_classifier.predict(toInput(m_test->images[0]), opts);
    QVERIFY(!bad.ok());
    QVERIFY(bad.error().find("block9") != std::string::npos);
    opts.layer.clear();
    opts.targetClass = 2;
    QVERIFY(!m_classifier.predict(toInput(m_test->images[0]), opts).ok());
}

void tst_GradCam::classifierOptions()
{
    if (cudaDeviceCount() == 0) {
        auto gpu = Classifier::load(m_bundle, {"cuda", false, -1});
        QVERIFY(!gpu.ok());
        QVERIFY2(gpu.error().find("no CUDA device") != std::string::npos, gpu.error().c_str());
    }
    auto bad = Classifier::load(m_bundle, {"gpu0", false, -1});
    QVERIFY(!bad.ok());
    QVERIFY(bad.error().find("invalid device") != std::string::npos);
    auto autoDevice = Classifier::load(m_bundle, {"auto", true, -1});
    QVERIFY2(autoDevice.ok(), autoDevice.error().c_str());
    QCOMPARE(autoDevice->device(), std::string(cudaDeviceCount() > 0 ? "cuda:0" : "cpu"));

    // Raw pixels go through the card's preprocessing; the wrong channel count is refused.
    const auto input = toInput(m_test->images[3]);
    RawImage raw;
    raw.width = kSize;
    raw.height = kSize;
    raw.channels = 1;
    raw.maxValue = 1.f;
    raw.data = input.data;
    auto viaRaw = m_classifier.predictRaw(raw);
    auto direct = m_classifier.predict(input);
    QVERIFY(viaRaw.ok() && direct.ok());
    QCOMPARE(viaRaw->probabilities, direct->probabilities);
    QCOMPARE(direct->expectedGrade, -1.0);
    QCOMPARE(direct->device, std::string("cpu"));
    QVERIFY(direct->latencyMs > 0);
    QVERIFY(std::fabs(direct->probabilities[0] + direct->probabilities[1] - 1.f) < 1e-5f);
    QCOMPARE(direct->topClassName, std::string(direct->topClass == 0 ? "horizontal" : "vertical"));
    InputImage rgb;
    rgb.channels = 3;
    rgb.height = kSize;
    rgb.width = kSize;
    rgb.data.assign(3 * kSize * kSize, 0.f);
    QVERIFY(!m_classifier.predict(rgb).ok());

    // An ordinal model reports the expected grade.
    auto loaded = loadModel(m_bundle);
    QVERIFY(loaded.ok());
    loaded->card.ordinal = true;
    auto ordinal = Classifier::create(loaded.value(), {"cpu", false, -1});
    QVERIFY(ordinal.ok());
    auto g = ordinal->predict(input);
    QVERIFY(g.ok());
    QVERIFY(std::fabs(g->expectedGrade - g->probabilities[1]) < 1e-6);
}

void tst_GradCam::memoryStaysFlat()
{
    // 50 maps on a ResNet-18 must not accumulate graphs or activations.
    manualSeed(3);
    auto model = createModel("resnet18", 1, 3);
    QVERIFY(model.ok());
    ModelCard card;
    card.architecture = "resnet18";
    card.classNames = {"a", "b", "c"};
    card.preprocess.width = card.preprocess.height = 128;
    card.preprocess.channels = 1;
    card.preprocess.mean = {0.f};
    card.preprocess.std = {1.f};
    const std::string file = m_dir.filePath("mem.lbx").toStdString();
    QVERIFY(saveBundle(model.value(), card, file).ok());
    auto c = Classifier::load(file, {"cpu", false, -1});
    QVERIFY(c.ok());
    InputImage input;
    input.channels = 1;
    input.height = input.width = 128;
    std::mt19937 rng(5);
    std::normal_distribution<float> d;
    for (int i = 0; i < 128 * 128; ++i)
        input.data.push_back(d(rng));

    auto run = [&](int count) {
        for (int i = 0; i < count; ++i) {
            PredictOptions opts;
            opts.cam = i % 2 ? CamMethod::GradCamPlusPlus : CamMethod::GradCam;
            opts.targetClass = i % 3;
            opts.layer = i % 5 == 0 ? "layer3" : "";
            auto p = c->predict(input, opts);
            if (!p.ok() || p->cam.empty())
                return false;
        }
        return true;
    };
    QVERIFY(run(10)); // warm up allocator caches
    const long before = rssKb();
    QVERIFY(run(50));
    const long after = rssKb();
    qInfo("RSS over 50 Grad-CAM runs: %ld kB -> %ld kB (%+ld kB)", before, after, after - before);
    QVERIFY(before > 0);
    QVERIFY2(after - before < 16 * 1024, "memory grew by more than 16 MB over 50 maps");
}

QTEST_APPLESS_MAIN(tst_GradCam)
#include "tst_GradCam.moc"
