// Reduced precision on real radiographs: the shipped knee model over all 826 validation images
// of ../shared/data/knee-kl, once in float32 and once with bfloat16 autocast (on a CPU that
// computes bfloat16 in hardware). The grades must agree on nearly every image and the
// probabilities must stay close, and the Grad-CAM maps of the same images must look alike;
// otherwise the speed would be bought with different answers. On a CPU without bfloat16 the
// option must be ignored: the same figures to the last bit.
#include <data/Dataset.h>
#include <data/Loader.h>
#include <ml/Bundle.h>
#include <ml/Classifier.h>
#include <ml/Runtime.h>
#include <ml/Trainer.h>

#include <QDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <numeric>

using namespace lightbox;

namespace {

const char* kModel = LIGHTBOX_SOURCE_DIR "/models/knee-kl-resnet10s.lbx";

/// In order, every image once, no augmentation or cache: as `evaluate` reads a split.
data::LoaderOptions inOrder(int batchSize)
{
    data::LoaderOptions lo;
    lo.batchSize = batchSize;
    lo.shuffle = false;
    lo.dropLast = false;
    lo.cacheMiB = 0;
    return lo;
}

int argmax(const std::vector<float>& p)
{
    return static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
}

double correlation(const std::vector<float>& a, const std::vector<float>& b)
{
    const double n = static_cast<double>(a.size());
    const double ma = std::accumulate(a.begin(), a.end(), 0.0) / n;
    const double mb = std::accumulate(b.begin(), b.end(), 0.0) / n;
    double sab = 0, saa = 0, sbb = 0;
    for (size_t i = 0; i < a.size(); ++i) {
        sab += (a[i] - ma) * (b[i] - mb);
        saa += (a[i] - ma) * (a[i] - ma);
        sbb += (b[i] - mb) * (b[i] - mb);
    }
    return saa > 0 && sbb > 0 ? sab / std::sqrt(saa * sbb) : (saa == sbb ? 1.0 : 0.0);
}

} // namespace

class tst_ReducedPrecision : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void gradesAgreeOnKneeValidation();
    void gradCamMapsAgree();

private:
    std::vector<data::Sample> m_val;
    ml::ModelCard m_card;
};

void tst_ReducedPrecision::initTestCase()
{
    const QString root = QStringLiteral(LIGHTBOX_SHARED_DATA "/knee-kl");
    if (!QDir(root).exists(QStringLiteral("val/0")))
        QSKIP("the shared knee data is missing");
    ml::configureThreads(0);
    auto dataset = data::loadDataset(root.toStdString());
    QVERIFY2(dataset.ok(), dataset.error().c_str());
    for (const data::Sample* s : dataset->inSplit(data::Split::Val))
        m_val.push_back(*s);
    QCOMPARE(m_val.size(), size_t(826));
    auto model = ml::loadModel(kModel);
    QVERIFY2(model.ok(), model.ok() ? "" : model.error().c_str());
    m_card = model->card;
    qInfo("CPU bfloat16: %s", ml::cpuHasFastBFloat16() ? "yes" : "no (the option must be ignored)");
}

void tst_ReducedPrecision::gradesAgreeOnKneeValidation()
{
    auto evaluate = [&](bool reduced) {
        auto model = ml::loadModel(kModel);
        data::ImageBatchSource source(m_val, m_card.preprocess, inOrder(32));
        return ml::evaluateModel(model->model, source, "cpu", -1, reduced);
    };
    auto full = evaluate(false);
    QVERIFY2(full.ok(), full.ok() ? "" : full.error().c_str());
    auto reduced = evaluate(true);
    QVERIFY2(reduced.ok(), reduced.ok() ? "" : reduced.error().c_str());
    QCOMPARE(reduced->labels, full->labels);
    QCOMPARE(full->probabilities.size(), size_t(826));

    int agree = 0, correctFull = 0, correctReduced = 0;
    double sumDiff = 0, maxDiff = 0;
    for (size_t i = 0; i < full->probabilities.size(); ++i) {
        const auto& a = full->probabilities[i];
        const auto& b = reduced->probabilities[i];
        agree += argmax(a) == argmax(b);
        correctFull += argmax(a) == full->labels[i];
        correctReduced += argmax(b) == full->labels[i];
        for (size_t c = 0; c < a.size(); ++c) {
            const double d = std::abs(static_cast<double>(a[c]) - b[c]);
            sumDiff += d;
            maxDiff = std::max(maxDiff, d);
        }
    }
    const double n = static_cast<double>(full->probabilities.size());
    const double meanDiff = sumDiff / (n * m_card.numClasses());
    qInfo("826 val images: %d grades agree (%.1f %%), accuracy %.4f float32 vs %.4f reduced, |dp| mean %.5f max "
          "%.4f; %.2f s vs %.2f s",
          agree, 100.0 * agree / n, correctFull / n, correctReduced / n, meanDiff, maxDiff, full->seconds,
          reduced->seconds);
    if (!ml::cpuHasFastBFloat16()) {
        QCOMPARE(agree, static_cast<int>(n));
        QCOMPARE(maxDiff, 0.0);
        return;
    }
    QVERIFY2(maxDiff > 0, "bfloat16 gave float32's probabilities exactly: autocast did not take effect");
    QVERIFY2(agree >= 0.97 * n, qPrintable(QString::number(agree)));
    QVERIFY2(meanDiff < 0.01, qPrintable(QString::number(meanDiff)));
    QVERIFY2(maxDiff < 0.2, qPrintable(QString::number(maxDiff)));
    QVERIFY2(std::abs(correctFull - correctReduced) <= 0.01 * n,
             qPrintable(QString("%1 vs %2").arg(correctFull).arg(correctReduced)));
}

void tst_ReducedPrecision::gradCamMapsAgree()
{
    auto full = ml::Classifier::load(kModel, {"cpu", false, -1});
    QVERIFY2(full.ok(), full.ok() ? "" : full.error().c_str());
    auto reduced = ml::Classifier::load(kModel, {"cpu", true, -1});
    QVERIFY2(reduced.ok(), reduced.ok() ? "" : reduced.error().c_str());

    // Every 40th validation image, through the same loader (no augmentation) as evaluation.
    std::vector<data::Sample> some;
    for (size_t i = 0; i < m_val.size(); i += 40)
        some.push_back(m_val[i]);
    data::ImageBatchSource source(some, m_card.preprocess, inOrder(1));
    source.startEpoch(0);
    ml::Batch b;
    ml::PredictOptions cam;
    cam.cam = ml::CamMethod::GradCam;
    double worst = 1.0;
    int images = 0;
    while (source.next(b)) {
        ml::InputImage input;
        input.channels = b.channels;
        input.height = b.height;
        input.width = b.width;
        input.data = b.pixels;
        auto a = full->predict(input, cam);
        QVERIFY2(a.ok(), a.ok() ? "" : a.error().c_str());
        cam.targetClass = a->camClass; // explain the same class in both
        auto r = reduced->predict(input, cam);
        cam.targetClass = -1;
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
        QCOMPARE(r->camClass, a->camClass);
        QCOMPARE(r->cam.values.size(), a->cam.values.size());
        worst = std::min(worst, correlation(a->cam.values, r->cam.values));
        QCOMPARE(QString::fromStdString(r->device),
                 ml::cpuHasFastBFloat16() ? QStringLiteral("cpu (bfloat16)") : QStringLiteral("cpu"));
        ++images;
    }
    QCOMPARE(images, static_cast<int>(some.size()));
    qInfo("%d val images: lowest correlation of float32 and reduced-precision Grad-CAM maps %.4f", images, worst);
    if (ml::cpuHasFastBFloat16())
        QVERIFY2(worst > 0.9, qPrintable(QString::number(worst)));
    else
        QCOMPARE(worst, 1.0);
}

QTEST_APPLESS_MAIN(tst_ReducedPrecision)
#include "tst_ReducedPrecision.moc"
