// Out-of-distribution detector, temperature scaling and calibration error (core/ml/Trust.h),
// with a real network trained on synthetic images for the detector.
#include <ml/Bundle.h>
#include <ml/Classifier.h>
#include <ml/Metrics.h>
#include <ml/Trainer.h>
#include <ml/Trust.h>

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <random>

using namespace lightbox::ml;

namespace {

/// Synthetic images of one kind. Squares: class 0 has a bright square in the left half, class 1
/// in the right half, over weak noise (the training kind). Stripes and Noise are other kinds.
class KindSource : public BatchSource {
public:
    enum class Kind { Squares, Stripes, Noise, Blank };

    KindSource(Kind kind, int count, uint64_t seed, int size = 32) : m_size(size)
    {
        std::mt19937 rng(static_cast<unsigned>(seed));
        std::normal_distribution<float> weak(0.f, 0.15f), strong(0.f, 1.5f);
        const int side = size / 4;
        std::uniform_int_distribution<int> y(0, size - side), x(0, size / 2 - side), period(2, 6);
        for (int i = 0; i < count; ++i) {
            std::vector<float> px(static_cast<size_t>(size) * size, 0.f);
            const int label = i % 2;
            if (kind == Kind::Squares) {
                for (auto& v : px)
                    v = weak(rng);
                const int top = y(rng), left = x(rng) + (label == 1 ? size / 2 : 0);
                for (int r = top; r < top + side; ++r)
                    for (int c = left; c < left + side; ++c)
                        px[static_cast<size_t>(r) * size + c] += 2.f;
            } else if (kind == Kind::Stripes) {
                const int p = period(rng);
                for (int r = 0; r < size; ++r)
                    for (int c = 0; c < size; ++c)
                        px[static_cast<size_t>(r) * size + c] = ((c / p) % 2 ? 2.f : -1.f) + weak(rng);
            } else if (kind == Kind::Noise) {
                for (auto& v : px)
                    v = strong(rng);
            }
            m_pixels.push_back(std::move(px));
            m_labels.push_back(label);
        }
    }

    void startEpoch(int epoch) override
    {
        m_order.resize(m_pixels.size());
        for (size_t i = 0; i < m_order.size(); ++i)
            m_order[i] = i;
        std::mt19937 rng(static_cast<unsigned>(epoch + 17));
        std::shuffle(m_order.begin(), m_order.end(), rng);
        m_pos = 0;
    }
    bool next(Batch& out) override
    {
        if (m_pos >= m_order.size())
            return false;
        const size_t n = std::min<size_t>(32, m_order.size() - m_pos);
        out.n = static_cast<int>(n);
        out.channels = 1;
        out.height = out.width = m_size;
        out.pixels.clear();
        out.labels.clear();
        out.ids.clear();
        for (size_t i = 0; i < n; ++i) {
            const size_t k = m_order[m_pos + i];
            out.pixels.insert(out.pixels.end(), m_pixels[k].begin(), m_pixels[k].end());
            out.labels.push_back(m_labels[k]);
            out.ids.push_back("img" + std::to_string(k));
        }
        m_pos += n;
        return true;
    }
    int64_t sampleCount() const override { return static_cast<int64_t>(m_pixels.size()); }
    int batchCount() const override { return static_cast<int>((m_pixels.size() + 31) / 32); }

    InputImage image(size_t i) const
    {
        InputImage in;
        in.channels = 1;
        in.height = in.width = m_size;
        in.data = m_pixels[i];
        return in;
    }

private:
    int m_size;
    std::vector<std::vector<float>> m_pixels;
    std::vector<int64_t> m_labels;
    std::vector<size_t> m_order;
    size_t m_pos = 0;
};

/// A small training run on the synthetic squares.
TrainConfig squaresConfig(const std::string& runDir, uint64_t seed, int epochs)
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
    c.epochs = epochs;
    c.schedule = "none";
    c.device = "cpu";
    c.threads = 1;
    c.seed = seed;
    c.runDir = runDir;
    return c;
}

/// Logits of an over-confident model: `sharpness` times the log of probabilities from which
/// the labels are really drawn.
void overConfident(int n, double sharpness, std::vector<std::vector<float>>& logits, std::vector<int64_t>& labels)
{
    std::mt19937 rng(5);
    std::gamma_distribution<double> g(1.0, 1.0);
    for (int i = 0; i < n; ++i) {
        std::vector<double> p(4);
        double sum = 0;
        for (auto& v : p)
            sum += v = g(rng);
        std::vector<float> l(4);
        for (size_t k = 0; k < 4; ++k)
            l[k] = static_cast<float>(sharpness * std::log(p[k] / sum));
        std::discrete_distribution<int> draw(p.begin(), p.end());
        labels.push_back(draw(rng));
        logits.push_back(l);
    }
}

} // namespace

class tst_Trust : public QObject {
    Q_OBJECT
private slots:
    void eceOfKnownBins();
    void temperatureLowersNllOfOverconfidentModel();
    void thresholdAndPercentile();
    void mahalanobisOnGaussians();
    void cardRoundTrip();
    void cardRejectsBadFields();
    void detectorFlagsOtherKinds();
    void cutPointsRaiseKappa();
    void ensembleAveragesItsMembers();
};

void tst_Trust::eceOfKnownBins()
{
    // Two images at 0.9 confidence (one right), two at 0.6 (both right): bins (0.8667, 0.9333]
    // and (0.5333, 0.6]: ECE = 0.5 * |0.5 - 0.9| + 0.5 * |1 - 0.6| = 0.4.
    const std::vector<std::vector<float>> p{{0.9f, 0.1f}, {0.9f, 0.1f}, {0.4f, 0.6f}, {0.4f, 0.6f}};
    const std::vector<int64_t> y{0, 1, 1, 1};
    const CalibrationReport r = calibrationReport(y, p, 15);
    QCOMPARE(static_cast<int>(r.bins.size()), 15);
    QVERIFY(std::abs(r.ece - 0.4) < 1e-6);
    int filled = 0;
    for (const auto& b : r.bins)
        filled += b.count > 0;
    QCOMPARE(filled, 2);
    QCOMPARE(r.bins[13].count, int64_t(2)); // 0.9 lies in (13/15, 14/15]
    QVERIFY(std::abs(r.bins[13].accuracy - 0.5) < 1e-9);
    // A perfectly calibrated, always-right model at confidence 1 has ECE 0.
    QVERIFY(calibrationReport({0, 1}, {{1.f, 0.f}, {0.f, 1.f}}).ece < 1e-9);
    // Nothing to score: NaN, not zero.
    QVERIFY(std::isnan(calibrationReport({}, {}).ece));
}

void tst_Trust::temperatureLowersNllOfOverconfidentModel()
{
    std::vector<std::vector<float>> logits;
    std::vector<int64_t> labels;
    overConfident(4000, 4.0, logits, labels);
    const double t = fitTemperature(logits, labels);
    // The labels follow softmax(logits / 4): the fit finds about 4.
    QVERIFY2(t > 3.4 && t < 4.6, qPrintable(QString::number(t)));
    const double before = negativeLogLikelihood(logits, labels, 1.0);
    const double after = negativeLogLikelihood(logits, labels, t);
    QVERIFY2(after < before - 0.5, qPrintable(QString("NLL %1 -> %2").arg(before).arg(after)));
    std::vector<std::vector<float>> p1, pt;
    for (const auto& l : logits) {
        p1.push_back(softmax(l, 1.0));
        pt.push_back(softmax(l, t));
    }
    const double eceBefore = calibrationReport(labels, p1).ece, eceAfter = calibrationReport(labels, pt).ece;
    QVERIFY2(eceAfter < 0.5 * eceBefore, qPrintable(QString("ECE %1 -> %2").arg(eceBefore).arg(eceAfter)));
    QVERIFY(eceAfter < 0.05);
    // An under-confident model gets T < 1.
    std::vector<std::vector<float>> soft;
    std::vector<int64_t> softLabels;
    overConfident(4000, 0.5, soft, softLabels);
    QVERIFY(fitTemperature(soft, softLabels) < 0.7);
    // The argmax never changes.
    for (size_t i = 0; i < 50; ++i)
        QCOMPARE(std::max_element(p1[i].begin(), p1[i].end()) - p1[i].begin(),
                 std::max_element(pt[i].begin(), pt[i].end()) - pt[i].begin());
}

void tst_Trust::thresholdAndPercentile()
{
    std::vector<double> scores;
    for (int i = 1; i <= 200; ++i)
        scores.push_back(i);
    std::reverse(scores.begin(), scores.end());
    const OodThreshold t = OodThreshold::fromValScores(scores, 97.5);
    QVERIFY(std::abs(t.threshold - 195.025) < 1e-9); // numpy.percentile(range(1, 201), 97.5)
    QVERIFY(std::abs(t.valFlagged - 5.0 / 200) < 1e-12);
    QVERIFY(std::abs(t.percentile(100.5) - 50.0) < 1e-9);
    QCOMPARE(t.percentile(0.0), 0.0);
    QCOMPARE(t.percentile(1e9), 100.0);
    // Thousands of scores are thinned for the card, keeping both ends.
    std::vector<double> many(10000);
    for (size_t i = 0; i < many.size(); ++i)
        many[i] = double(i);
    const OodThreshold m = OodThreshold::fromValScores(many, 95.0);
    QVERIFY(m.valScores.size() <= 2000);
    QCOMPARE(m.valScores.front(), 0.0);
    QCOMPARE(m.valScores.back(), 9999.0);
    QVERIFY(std::abs(m.percentile(5000.0) - 50.0) < 0.1);
    // Energy: -logsumexp.
    QVERIFY(std::abs(energyScore({0.f, 0.f}) + std::log(2.0)) < 1e-9);
    QVERIFY(energyScore({10.f, 0.f}) < energyScore({1.f, 0.f})); // confident = lower energy
}

void tst_Trust::mahalanobisOnGaussians()
{
    // Two classes, 8 dimensions, unit covariance, means 0 and 3 on the first axis.
    std::mt19937 rng(3);
    std::normal_distribution<float> n01(0.f, 1.f);
    std::vector<std::vector<float>> f;
    std::vector<int64_t> y;
    for (int i = 0; i < 4000; ++i) {
        std::vector<float> v(8);
        for (auto& x : v)
            x = n01(rng);
        if (i % 2)
            v[0] += 3.f;
        f.push_back(v);
        y.push_back(i % 2);
    }
    auto g = fitMahalanobis(f, y, 2, {}, 0.0);
    QVERIFY2(g.ok(), g.ok() ? "" : g.error().c_str());
    QCOMPARE(g->totalDim(), 8);
    QCOMPARE(static_cast<int>(g->blocks.size()), 1);
    const MahalanobisBlock& b = g->blocks[0];
    QCOMPARE(static_cast<int>(b.means.size()), 2);
    QVERIFY(std::abs(b.means[1][0] - 3.f) < 0.1f);
    // A class mean scores 0; a point 4 SD away along any axis scores about 16.
    QVERIFY(b.rawScore(b.means[0].data()) < 1e-6);
    std::vector<float> far(8, 0.f);
    far[3] = 4.f;
    const double s = b.rawScore(far.data());
    QVERIFY2(s > 14.0 && s < 18.0, qPrintable(QString::number(s)));
    // Standardised: the training points' squared distances follow chi-square(8), mean 8, SD 4.
    QVERIFY2(std::abs(b.valMean - 8.0) < 0.3 && std::abs(b.valSd - 4.0) < 0.3,
             qPrintable(QString("%1 %2").arg(b.valMean).arg(b.valSd)));
    QVERIFY(std::abs(g->score(far) - (s - b.valMean) / b.valSd) < 1e-9);

    // Two blocks: the first three and the last five dimensions; a shift in the first block
    // alone raises "max" and "sum" but not "last".
    auto two = fitMahalanobis(f, y, 2, {3, 5}, 0.0);
    QVERIFY(two.ok());
    QCOMPARE(static_cast<int>(two->blocks.size()), 2);
    QCOMPARE(two->blocks[1].offset, 3);
    std::vector<float> early(8, 0.f);
    early[1] = 6.f;
    const auto scores = two->blockScores(early);
    QCOMPARE(static_cast<int>(scores.size()), 2);
    QVERIFY(scores[0] > 5.0 && scores[1] < 1.0);
    QCOMPARE(two->score(early, "max"), scores[0]);
    QCOMPARE(two->score(early, "last"), scores[1]);
    QVERIFY(std::abs(two->score(early, "sum") - (scores[0] + scores[1])) < 1e-9);
    QVERIFY(!fitMahalanobis(f, y, 2, {3, 4}).ok()); // blocks do not add up

    // Wrong size: NaN. Nothing to fit: a message.
    QVERIFY(std::isnan(g->score(std::vector<float>(3, 0.f))));
    QVERIFY(!fitMahalanobis({}, {}, 2).ok());
    QVERIFY(!fitMahalanobis(f, std::vector<int64_t>(f.size(), 7), 2).ok());
    // Ledoit-Wolf: little shrinkage with 500 images per dimension of a covariance far from a
    // multiple of the identity, much with fewer images than dimensions.
    std::vector<std::vector<float>> wide;
    for (int i = 0; i < 4000; ++i) {
        std::vector<float> v(8);
        for (size_t k = 0; k < v.size(); ++k)
            v[k] = n01(rng) * float(1 + 3 * k);
        wide.push_back(v);
    }
    auto lw = fitMahalanobis(wide, std::vector<int64_t>(wide.size(), 0), 1, {}, -1.0);
    QVERIFY(lw.ok());
    QVERIFY2(lw->blocks[0].shrinkage >= 0.0 && lw->blocks[0].shrinkage < 0.02,
             qPrintable(QString::number(lw->blocks[0].shrinkage)));
    std::vector<std::vector<float>> few;
    for (int i = 0; i < 20; ++i) {
        std::vector<float> v(50);
        for (auto& x : v)
            x = n01(rng);
        few.push_back(v);
    }
    auto lwFew = fitMahalanobis(few, std::vector<int64_t>(20, 0), 1);
    QVERIFY(lwFew.ok());
    QVERIFY2(lwFew->blocks[0].shrinkage > 0.3, qPrintable(QString::number(lwFew->blocks[0].shrinkage)));
    // Constant features still give an invertible (shrunk) covariance.
    std::vector<std::vector<float>> flat(10, std::vector<float>(4, 1.f));
    QVERIFY(fitMahalanobis(flat, std::vector<int64_t>(10, 0), 1).ok());
}

void tst_Trust::cardRoundTrip()
{
    ModelCard c;
    c.architecture = "cnn5";
    c.classNames = {"a", "b"};
    c.preprocess.width = c.preprocess.height = 32;
    c.temperature = 1.7;
    std::vector<double> v{3, 1, 2, 5, 4};
    c.ood.method = "energy";
    c.ood.energy = OodThreshold::fromValScores(v, 97.5);
    auto back = ModelCard::fromJsonText(c.toJsonText());
    QVERIFY2(back.ok(), back.ok() ? "" : back.error().c_str());
    QCOMPARE(back->temperature, 1.7);
    QVERIFY(back->ood.valid());
    QCOMPARE(back->ood.method, std::string("energy"));
    QCOMPARE(back->ood.energy.threshold, c.ood.energy.threshold);
    QCOMPARE(back->ood.energy.valScores, c.ood.energy.valScores);
    // A card without either keeps the defaults (cards written before stay valid).
    ModelCard plain = c;
    plain.temperature = 1.0;
    plain.ood = OodCard();
    auto p = ModelCard::fromJsonText(plain.toJsonText());
    QVERIFY(p.ok());
    QCOMPARE(p->temperature, 1.0);
    QVERIFY(!p->ood.valid());
    QVERIFY(plain.toJsonText().find("ood") == std::string::npos);
}

void tst_Trust::cardRejectsBadFields()
{
    ModelCard c;
    c.architecture = "cnn5";
    c.classNames = {"a", "b"};
    c.preprocess.width = c.preprocess.height = 32;
    Json::Object o = c.toJson().object();
    for (double t : {0.0, -1.0, 1e9}) {
        o["temperature"] = t;
        QVERIFY(!ModelCard::fromJson(Json(o)).ok());
    }
    o["temperature"] = 1.0;
    o["ood"] = Json(Json::Object{{"method", "magic"}});
    auto r = ModelCard::fromJson(Json(o));
    QVERIFY(!r.ok());
    QVERIFY(r.error().find("magic") != std::string::npos);
    o["ood"] = Json(Json::Object{{"method", "energy"}}); // no thresholds
    QVERIFY(!ModelCard::fromJson(Json(o)).ok());
    o["ood"] = Json(Json::Object{
        {"method", "energy"},
        {"energy", Json(Json::Object{{"threshold", 1.0}, {"val_scores", Json(Json::Array{Json(3.0), Json(1.0)})}})}});
    QVERIFY(!ModelCard::fromJson(Json(o)).ok()); // unsorted scores
}

void tst_Trust::detectorFlagsOtherKinds()
{
    QTemporaryDir dir;
    KindSource train(KindSource::Kind::Squares, 512, 1), val(KindSource::Kind::Squares, 256, 2);
    const TrainConfig c = squaresConfig(dir.filePath("run").toStdString(), 99, 3);
    auto summary = Trainer::run(c, train, &val);
    QVERIFY2(summary.ok(), summary.ok() ? "" : summary.error().c_str());
    auto loaded = loadModel(summary->bestBundle);
    QVERIFY(loaded.ok());

    // Fit on train features, calibrate on val, as `lightbox-cli calibrate` does.
    auto trainOut = evaluateModel(loaded->model, train, "cpu", 1, false, true);
    auto valOut = evaluateModel(loaded->model, val, "cpu", 1, false, true);
    QVERIFY(trainOut.ok() && valOut.ok());
    QCOMPARE(trainOut->features.size(), trainOut->labels.size());
    QVERIFY(!trainOut->features.empty() && trainOut->features[0].size() > 8);
    auto g = fitMahalanobis(trainOut->features, trainOut->labels, 2, loaded->model.featureBlocks());
    QVERIFY(g.ok());
    QCOMPARE(g->blocks.size(), loaded->model.featureBlocks().size());
    g->standardise(valOut->features);
    std::vector<double> maha, energy;
    for (size_t i = 0; i < valOut->features.size(); ++i) {
        maha.push_back(g->score(valOut->features[i]));
        energy.push_back(energyScore(valOut->logits[i]));
    }
    ModelCard card = loaded->card;
    card.ood.method = "mahalanobis";
    card.ood.mahalanobis = OodThreshold::fromValScores(maha, 97.5);
    card.ood.energy = OodThreshold::fromValScores(energy, 97.5);
    card.temperature = fitTemperature(valOut->logits, valOut->labels);
    const std::string bundle = dir.filePath("calibrated.lbx").toStdString();
    QVERIFY(saveBundle(loaded->model, card, bundle, &g.value()).ok());
    // A card naming Mahalanobis without Gaussians is refused.
    QVERIFY(!saveBundle(loaded->model, card, dir.filePath("x.lbx").toStdString()).ok());

    ClassifierOptions o;
    o.device = "cpu";
    o.threads = 1;
    auto classifier = Classifier::load(bundle, o);
    QVERIFY2(classifier.ok(), classifier.ok() ? "" : classifier.error().c_str());
    QVERIFY(classifier->card().ood.valid());

    auto flaggedShare = [&](const KindSource& s, int n, PredictOptions po = {}) {
        int flagged = 0;
        for (int i = 0; i < n; ++i) {
            auto p = classifier->predict(s.image(static_cast<size_t>(i)), po);
            if (!p.ok() || !p->ood.available)
                return -1.0;
            flagged += p->ood.flagged;
        }
        return double(flagged) / n;
    };
    KindSource heldBack(KindSource::Kind::Squares, 200, 77);
    KindSource stripes(KindSource::Kind::Stripes, 100, 78), noise(KindSource::Kind::Noise, 100, 79),
        blank(KindSource::Kind::Blank, 4, 80);
    const double own = flaggedShare(heldBack, 200);
    const double striped = flaggedShare(stripes, 100), noisy = flaggedShare(noise, 100), empty = flaggedShare(blank, 4);
    qInfo("flagged: held-back squares %.3f, stripes %.3f, noise %.3f, blank %.3f", own, striped, noisy, empty);
    QVERIFY2(own >= 0 && own <= 0.08, qPrintable(QString::number(own)));
    QVERIFY2(striped >= 0.95, qPrintable(QString::number(striped)));
    QVERIFY2(noisy >= 0.95, qPrintable(QString::number(noisy)));
    QCOMPARE(empty, 1.0);

    // The Grad-CAM path gives the same verdict and probabilities as the plain one.
    PredictOptions cam;
    cam.cam = CamMethod::GradCam;
    auto a = classifier->predict(stripes.image(0));
    auto b = classifier->predict(stripes.image(0), cam);
    QVERIFY(a.ok() && b.ok());
    QCOMPARE(a->ood.flagged, b->ood.flagged);
    QVERIFY(std::abs(a->ood.score - b->ood.score) < 1e-3 * std::max(1.0, std::abs(a->ood.score)));
    QVERIFY(std::abs(a->probabilities[0] - b->probabilities[0]) < 1e-5);
    // The temperature is applied: probabilities are softmax(logits / T).
    const auto expected = softmax(a->logits, card.temperature);
    QVERIFY(std::abs(a->probabilities[1] - expected[1]) < 1e-6);
    QCOMPARE(a->temperature, card.temperature);
}

/// A graded set whose expected grades are squeezed towards the middle (as a cautious model's
/// are): the default cut points at 0.5, 1.5, ... under-call the high grades; tuned ones do not.
void tst_Trust::cutPointsRaiseKappa()
{
    QCOMPARE(gradeFromCutPoints(0.2, {0.5, 1.5, 2.5}), 0);
    QCOMPARE(gradeFromCutPoints(1.5, {0.5, 1.5, 2.5}), 2);
    QCOMPARE(gradeFromCutPoints(9.0, {0.5, 1.5, 2.5}), 3);
    QVERIFY(std::abs(expectedGrade({0.25f, 0.25f, 0.5f}) - 1.25) < 1e-6);

    std::mt19937 rng(9);
    std::normal_distribution<double> noise(0.0, 0.25);
    std::vector<double> expected;
    std::vector<int64_t> labels;
    for (int i = 0; i < 1000; ++i) {
        const int g = i % 5;
        labels.push_back(g);
        expected.push_back(1.0 + 0.45 * (g - 1) + noise(rng)); // grade 4 sits near 2.35
    }
    auto qwk = [&](const std::vector<double>& cuts) {
        std::vector<int64_t> predicted;
        for (double e : expected)
            predicted.push_back(gradeFromCutPoints(e, cuts));
        return quadraticWeightedKappa(labels, predicted, 5);
    };
    const std::vector<double> plain{0.5, 1.5, 2.5, 3.5};
    const auto tuned = fitCutPoints(expected, labels, 5);
    QCOMPARE(static_cast<int>(tuned.size()), 4);
    QVERIFY(std::is_sorted(tuned.begin(), tuned.end()));
    const double before = qwk(plain), after = qwk(tuned);
    qInfo("QWK with cut points at 0.5, 1.5, ...: %.3f; tuned (%.2f %.2f %.2f %.2f): %.3f", before, tuned[0], tuned[1],
          tuned[2], tuned[3], after);
    QVERIFY2(after > before + 0.05, qPrintable(QString("%1 -> %2").arg(before).arg(after)));
    QVERIFY(tuned[3] < 2.5); // the top cut moved down to where grade 4 lies
    // Reports decode with them too.
    std::vector<std::vector<float>> probs;
    for (double e : expected) {
        // Two-point distributions with the same expected grade.
        const int lo = std::clamp(static_cast<int>(std::floor(e)), 0, 3);
        const float hi = static_cast<float>(std::clamp(e - lo, 0.0, 1.0));
        std::vector<float> p(5, 0.f);
        p[size_t(lo)] = 1.f - hi;
        p[size_t(lo + 1)] += hi;
        probs.push_back(p);
    }
    std::vector<std::string> names{"0", "1", "2", "3", "4"};
    const ClassificationReport r = computeReport(labels, probs, names, true, tuned);
    QVERIFY(std::abs(r.quadraticKappa - after) < 1e-9);
    QCOMPARE(r.cutPoints, tuned);
}

/// An ensemble bundle averages its members' softmax outputs (checked against the members run
/// alone), reports their disagreement, explains with both map methods, survives a round trip
/// and evaluates to the same average.
void tst_Trust::ensembleAveragesItsMembers()
{
    QTemporaryDir dir;
    KindSource train(KindSource::Kind::Squares, 256, 3), val(KindSource::Kind::Squares, 64, 4);
    std::vector<Model> members;
    std::vector<std::string> paths;
    for (int k = 0; k < 3; ++k) {
        const TrainConfig c =
            squaresConfig(dir.filePath(QString("m%1").arg(k)).toStdString(), 100 + static_cast<uint64_t>(k), 1);
        auto summary = Trainer::run(c, train, &val);
        QVERIFY2(summary.ok(), summary.ok() ? "" : summary.error().c_str());
        auto m = loadModel(summary->bestBundle);
        QVERIFY(m.ok());
        members.push_back(m->model);
        paths.push_back(summary->bestBundle);
    }
    auto ensemble = makeEnsemble(members);
    QVERIFY2(ensemble.ok(), ensemble.ok() ? "" : ensemble.error().c_str());
    QCOMPARE(ensemble->memberCount(), 3);
    QCOMPARE(ensemble->parameterCount(), 3 * members[0].parameterCount());
    QVERIFY(!makeEnsemble({members[0]}).ok());
    auto other = createModel("cnn5", 1, 3);
    QVERIFY(other.ok());
    QVERIFY(!makeEnsemble({members[0], other.value()}).ok()); // three classes against two

    auto card = loadModel(paths[0])->card;
    const std::string bundle = dir.filePath("ensemble.lbx").toStdString();
    QVERIFY(saveBundle(ensemble.value(), card, bundle).ok());
    auto back = loadModel(bundle);
    QVERIFY2(back.ok(), back.ok() ? "" : back.error().c_str());
    QCOMPARE(back->card.members, 3);
    QCOMPARE(back->model.memberCount(), 3);

    ClassifierOptions o;
    o.device = "cpu";
    o.threads = 1;
    auto c = Classifier::load(bundle, o);
    QVERIFY(c.ok());
    std::vector<Classifier> alone;
    for (const auto& p : paths)
        alone.push_back(Classifier::load(p, o).value());
    KindSource images(KindSource::Kind::Squares, 20, 5);
    double spreadSum = 0;
    for (size_t i = 0; i < 20; ++i) {
        auto e = c->predict(images.image(i));
        QVERIFY(e.ok());
        QCOMPARE(e->memberProbabilities.size(), size_t(3));
        for (size_t k = 0; k < 2; ++k) {
            double mean = 0;
            for (size_t m = 0; m < 3; ++m) {
                auto single = alone[m].predict(images.image(i));
                QVERIFY(single.ok());
                QVERIFY(std::abs(single->probabilities[k] - e->memberProbabilities[m][k]) < 1e-5f);
                mean += single->probabilities[k] / 3.0;
            }
            QVERIFY2(std::abs(e->probabilities[k] - mean) < 1e-5,
                     qPrintable(QString("%1 vs %2").arg(e->probabilities[k]).arg(mean)));
        }
        QVERIFY(e->membersAgreeing >= 1 && e->membersAgreeing <= 3);
        spreadSum += e->memberSpread;
        for (CamMethod m : {CamMethod::GradCam, CamMethod::GradCamPlusPlus}) {
            PredictOptions po;
            po.cam = m;
            auto withMap = c->predict(images.image(i), po);
            QVERIFY2(withMap.ok(), withMap.ok() ? "" : withMap.error().c_str());
            QCOMPARE(withMap->camClass, e->topClass);
            QCOMPARE(withMap->camUpsampled.width, 32);
            QVERIFY(std::abs(withMap->probabilities[0] - e->probabilities[0]) < 1e-5f);
        }
    }
    qInfo("ensemble of 3 one-epoch cnn5: mean spread of the top class %.3f", spreadSum / 20);
    // Evaluation sees the same average.
    auto ev = evaluateModel(back->model, val, "cpu", 1);
    QVERIFY(ev.ok());
    QCOMPARE(ev->ids.size(), size_t(64));
    for (size_t i = 0; i < 8; ++i) {
        const size_t k = std::stoul(ev->ids[i].substr(3)); // "img<k>"
        auto p = c->predict(val.image(k));
        QVERIFY(p.ok());
        QVERIFY(std::abs(ev->probabilities[i][1] - p->probabilities[1]) < 1e-5f);
    }
}

QTEST_GUILESS_MAIN(tst_Trust)
#include "tst_Trust.moc"
