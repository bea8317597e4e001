// Real data through the whole training path: a slice of ../shared/data/knee-kl (the first
// images of every grade by name) read with loadDataset, loaded by ImageBatchSource threads
// with augmentation, and trained by ml::Trainer for a few epochs. The loss must go down on
// real radiographs, not only on synthetic squares, and the run folder must hold what the
// trainer promises.
#include <data/Dataset.h>
#include <data/Loader.h>
#include <ml/Bundle.h>
#include <ml/Runtime.h>
#include <ml/Trainer.h>

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <map>

using namespace lightbox;

class tst_KneeSliceTraining : public QObject {
    Q_OBJECT
private slots:
    void lossGoesDownOnRealKnees();
};

void tst_KneeSliceTraining::lossGoesDownOnRealKnees()
{
    const QString root = QStringLiteral(LIGHTBOX_SHARED_DATA "/knee-kl");
    if (!QDir(root).exists(QStringLiteral("train/0")))
        QSKIP("the shared knee data is missing");
    ml::configureThreads(0);

    auto dataset = data::loadDataset(root.toStdString());
    QVERIFY2(dataset.ok(), dataset.error().c_str());
    QCOMPARE(dataset->classNames.size(), size_t(5));
    QVERIFY(dataset->hasGivenSplits);

    // The first 24 training and 8 validation images of each grade (file names are sorted).
    std::vector<data::Sample> train, val;
    std::map<std::pair<int, data::Split>, int> taken;
    for (const data::Sample& s : dataset->samples) {
        const int limit = s.split == data::Split::Train ? 24 : s.split == data::Split::Val ? 8 : 0;
        int& n = taken[{s.label, s.split}];
        if (n >= limit)
            continue;
        ++n;
        (s.split == data::Split::Train ? train : val).push_back(s);
    }
    QCOMPARE(train.size(), size_t(120));
    QCOMPARE(val.size(), size_t(40));

    ml::PreprocessSpec spec;
    spec.width = spec.height = 64;
    spec.channels = 1;
    spec.mean = {0.449f};
    spec.std = {0.226f};
    data::LoaderOptions lo;
    lo.batchSize = 16;
    lo.threads = 1;
    lo.seed = 3;
    QVERIFY(data::AugmentOptions::fromPreset("light", lo.augment));
    data::ImageBatchSource trainSource(train, spec, lo);
    data::LoaderOptions vo = lo;
    vo.shuffle = false;
    vo.augment = {};
    data::ImageBatchSource valSource(val, spec, vo);

    QTemporaryDir run;
    ml::TrainConfig config;
    config.architecture = "cnn5";
    config.task = "knee-kl";
    config.classNames = dataset->classNames;
    config.ordinal = true;
    config.preprocess = spec;
    config.learningRate = 2e-3;
    config.epochs = 8;
    config.schedule = "none";
    config.earlyStopPatience = 0;
    config.device = "cpu";
    config.seed = 11;
    config.runDir = run.path().toStdString();
    auto summary = ml::Trainer::run(config, trainSource, &valSource);
    QVERIFY2(summary.ok(), summary.error().c_str());
    const auto& h = summary->history;
    QCOMPARE(h.size(), size_t(8));
    for (const auto& e : h)
        qInfo("epoch %d: train loss %.4f acc %.3f, val loss %.4f acc %.3f, %.0f img/s", e.epoch + 1, e.trainLoss,
              e.trainAccuracy, e.valLoss, e.valAccuracy, e.imagesPerSecond);
    QVERIFY(summary->skipped.empty());
    // The mean training loss of the last two epochs is clearly below that of the first.
    const double late = (h[6].trainLoss + h[7].trainLoss) / 2;
    QVERIFY2(late < 0.9 * h[0].trainLoss, qPrintable(QStringLiteral("%1 -> %2").arg(h[0].trainLoss).arg(late)));
    for (const auto& e : h)
        QVERIFY(std::isfinite(e.valLoss) && std::isfinite(e.valQwk));

    // The run folder: a resumable checkpoint, a metrics row per epoch, a loadable best bundle.
    QVERIFY(ml::Trainer::canResume(config.runDir));
    QFile csv(run.filePath(QStringLiteral("metrics.csv")));
    QVERIFY(csv.open(QIODevice::ReadOnly));
    QCOMPARE(csv.readAll().trimmed().split('\n').size(), 1 + 8);
    auto best = ml::loadModel(summary->bestBundle);
    QVERIFY2(best.ok(), best.error().c_str());
    QCOMPARE(best->card.task, std::string("knee-kl"));
    QVERIFY(best->card.ordinal);
    QVERIFY(best->card.metrics.count("val_accuracy"));
}

QTEST_GUILESS_MAIN(tst_KneeSliceTraining)
#include "tst_KneeSliceTraining.moc"
