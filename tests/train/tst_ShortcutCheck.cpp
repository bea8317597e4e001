// The shortcut check on synthetic data with a known answer: a label carried by a corner
// marker (readable with the centre blanked) is flagged, a label carried by a lesion in the
// centre is not. And the training worker's empty-class path: a task class without images is
// refused by name, or left out on request and recorded in the card.

#include <data/Dataset.h>
#include <data/Loader.h>
#include <jobs/ShortcutCheck.h>
#include <jobs/TrainingWorker.h>
#include <ml/Bundle.h>

#include <QDir>
#include <QFile>
#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

#include <random>

using namespace lightbox;

namespace {

enum class Cue { CornerMarker, CentreLesion };

/// Two classes of `size` px grey noise. Both carry a random blob in the centre; class "b"
/// also carries the cue: a bright square in the top-left corner, or a bright disc in the
/// centre (inside the blanked region).
bool makeCueDataset(const QString& root, Cue cue, int perClass, int size = 48, unsigned seed = 3)
{
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> noise(20, 90);
    std::uniform_int_distribution<int> jitter(-4, 4);
    for (const char* cls : {"a", "b"}) {
        if (!QDir().mkpath(root + "/" + cls))
            return false;
        const bool cued = cls[0] == 'b';
        for (int i = 0; i < perClass; ++i) {
            QImage img(size, size, QImage::Format_Grayscale8);
            for (int y = 0; y < size; ++y)
                for (int x = 0; x < size; ++x)
                    img.scanLine(y)[x] = static_cast<uchar>(noise(rng));
            // Anatomy-like clutter in the centre of every image, of either class.
            const int bx = size / 2 + jitter(rng), by = size / 2 + jitter(rng);
            for (int y = by - 4; y < by + 4; ++y)
                for (int x = bx - 6; x < bx + 2; ++x)
                    img.scanLine(y)[x] = 150;
            if (cued && cue == Cue::CornerMarker) {
                for (int y = 2; y < 8; ++y)
                    for (int x = 2; x < 8; ++x)
                        img.scanLine(y)[x] = 255;
            } else if (cued) {
                const int cx = size / 2 + jitter(rng), cy = size / 2 + jitter(rng);
                for (int y = 0; y < size; ++y)
                    for (int x = 0; x < size; ++x)
                        if ((x - cx) * (x - cx) + (y - cy) * (y - cy) <= 25)
                            img.scanLine(y)[x] = 240;
            }
            if (!img.save(QString("%1/%2/%3.png").arg(root, cls).arg(i, 3, 10, QChar('0'))))
                return false;
        }
    }
    return true;
}

Result<jobs::ShortcutReport> probe(const QString& root)
{
    auto ds = data::loadDataset(root.toStdString());
    if (!ds)
        return Result<jobs::ShortcutReport>::failure(ds.error());
    data::SplitOptions split;
    split.train = 0.6;
    split.val = 0.4;
    split.test = 0.0;
    data::assignSplits(ds.value(), split);
    jobs::ShortcutOptions o;
    o.architecture = "cnn5";
    o.size = 48;
    o.epochs = 15;
    o.device = "cpu";
    o.threads = 1;
    o.loaderThreads = 1;
    return jobs::checkShortcut(ds.value(), ds->classNames, o);
}

} // namespace

class TstShortcutCheck : public QObject {
    Q_OBJECT
private slots:
    void blankCentreLeavesTheBorder()
    {
        cv::Mat m(10, 20, CV_8UC3, cv::Scalar(9, 9, 9));
        data::blankCentre(m, 0.5);
        QCOMPARE(int(m.at<cv::Vec3b>(5, 10)[0]), 0); // centre
        QCOMPARE(int(m.at<cv::Vec3b>(0, 0)[1]), 9);  // corner
        QCOMPARE(int(m.at<cv::Vec3b>(5, 4)[2]), 9);  // left border (x < 5)
        QCOMPARE(int(m.at<cv::Vec3b>(5, 5)[2]), 0);  // first blanked column
        QCOMPARE(int(m.at<cv::Vec3b>(1, 10)[0]), 9); // top border (y < 2)
        QCOMPARE(int(m.at<cv::Vec3b>(2, 10)[0]), 0);
        QCOMPARE(cv::countNonZero(m.reshape(1) == 0), 5 * 10 * 3);
    }

    void cornerMarkerIsFlagged()
    {
        QTemporaryDir dir;
        QVERIFY(makeCueDataset(dir.path(), Cue::CornerMarker, 100));
        auto r = probe(dir.path());
        QVERIFY2(r, r ? "" : r.error().c_str());
        qInfo("corner marker: %s", r->summary().c_str());
        QVERIFY(r->checked);
        QCOMPARE(r->chance, 0.5);
        QVERIFY2(r->balancedAccuracy > 0.85, r->summary().c_str());
        QVERIFY(r->flagged);
        QCOMPARE(r->evaluatedSplit, std::string("val"));
        QVERIFY(r->evalSamples >= 70);
    }

    void centreLesionPasses()
    {
        QTemporaryDir dir;
        QVERIFY(makeCueDataset(dir.path(), Cue::CentreLesion, 100));
        auto r = probe(dir.path());
        QVERIFY2(r, r ? "" : r.error().c_str());
        qInfo("centre lesion: %s", r->summary().c_str());
        QVERIFY(r->checked);
        QVERIFY2(r->balancedAccuracy < 0.65, r->summary().c_str());
        QVERIFY(!r->flagged);
    }

    void refusesWithoutHeldOutImages()
    {
        QTemporaryDir dir;
        QVERIFY(makeCueDataset(dir.path(), Cue::CornerMarker, 4));
        auto ds = data::loadDataset(dir.path().toStdString());
        QVERIFY(ds);
        for (auto& s : ds->samples)
            s.split = data::Split::Train;
        auto r = jobs::checkShortcut(ds.value(), ds->classNames, jobs::ShortcutOptions{});
        QVERIFY(!r);
        QVERIFY2(QString::fromStdString(r.error()).contains("validation"), r.error().c_str());
    }

    void emptyClassIsRefusedOrLeftOut()
    {
        QTemporaryDir dir;
        QVERIFY(makeCueDataset(dir.path() + "/data", Cue::CornerMarker, 12));
        jobs::TrainingRequest req;
        req.dataPath = (dir.path() + "/data").toStdString();
        req.dataset.classes = {"a", "b", "c"};
        req.config.classNames = {"Alpha", "Beta", "Gamma"};
        req.config.architecture = "cnn5";
        req.config.preprocess = jobs::defaultPreprocess(1, 32);
        req.config.epochs = 1;
        req.config.device = "cpu";
        req.config.threads = 1;
        req.batchSize = 8;
        req.checkLeakage = false;
        req.galleryPerClass = 0;
        req.augmentPreset = "none";
        req.config.runDir = (dir.path() + "/run").toStdString();

        auto empty = jobs::emptyClasses(req);
        QVERIFY(empty);
        QCOMPARE(empty.value(), std::vector<std::string>{"Gamma"});

        QString failure;
        bool finished = false;
        {
            jobs::TrainingWorker worker(req);
            connect(&worker, &jobs::TrainingWorker::failed, this, [&](const QString& m) { failure = m; });
            connect(&worker, &jobs::TrainingWorker::finished, this,
                    [&](const jobs::TrainingOutcome&) { finished = true; });
            worker.run();
        }
        QVERIFY(!finished);
        QVERIFY2(failure.contains("no images of Gamma"), qPrintable(failure));
        QVERIFY(!QFileInfo::exists(dir.path() + "/run/best.lbx"));

        req.skipEmptyClasses = true;
        failure.clear();
        QStringList log;
        {
            jobs::TrainingWorker worker(req);
            connect(&worker, &jobs::TrainingWorker::failed, this, [&](const QString& m) { failure = m; });
            connect(&worker, &jobs::TrainingWorker::finished, this,
                    [&](const jobs::TrainingOutcome&) { finished = true; });
            connect(&worker, &jobs::TrainingWorker::logMessage, this, [&](const QString& m) { log << m; });
            worker.run();
        }
        QVERIFY2(finished, qPrintable(failure));
        QVERIFY2(log.join('\n').contains("No images of Gamma"), qPrintable(log.join('\n')));
        auto model = ml::loadModel((dir.path() + "/run/best.lbx").toStdString());
        QVERIFY2(model, model ? "" : model.error().c_str());
        QCOMPARE(model->card.classNames, (std::vector<std::string>{"Alpha", "Beta"}));
        QCOMPARE(model->card.notCovered, std::vector<std::string>{"Gamma"});
        // The run folder resumes with the same two classes.
        auto again = jobs::TrainingRequest::fromRunFolder((dir.path() + "/run").toStdString());
        QVERIFY2(again, again ? "" : again.error().c_str());
        QCOMPARE(again->config.classNames.size(), size_t(2));
        QCOMPARE(again->config.notCovered, std::vector<std::string>{"Gamma"});
    }

    /// Inverse-frequency class weights are capped at 10: a class of 2 training images among 72 would
    /// otherwise weigh 18 in every batch.
    void classWeightsAreCapped()
    {
        QTemporaryDir dir;
        QVERIFY(makeCueDataset(dir.path() + "/data", Cue::CornerMarker, 100));
        const QDir b(dir.path() + "/data/b");
        for (const QString& f : b.entryList(QDir::Files).mid(3))
            QVERIFY(QFile::remove(b.filePath(f)));
        jobs::TrainingRequest req;
        req.dataPath = (dir.path() + "/data").toStdString();
        req.config.architecture = "cnn5";
        req.config.preprocess = jobs::defaultPreprocess(1, 32);
        req.config.epochs = 1;
        req.config.device = "cpu";
        req.config.threads = 1;
        req.batchSize = 8;
        req.checkLeakage = false;
        req.galleryPerClass = 0;
        req.classWeightsFromCounts = true;
        req.split.train = 0.7; // 100 + 3 images: class b keeps 2 for training
        req.split.val = 0.3;
        req.split.test = 0.0;
        req.config.runDir = (dir.path() + "/run").toStdString();
        QStringList log;
        QString failure;
        {
            jobs::TrainingWorker worker(req);
            connect(&worker, &jobs::TrainingWorker::logMessage, this, [&](const QString& m) { log << m; });
            connect(&worker, &jobs::TrainingWorker::failed, this, [&](const QString& m) { failure = m; });
            worker.run();
        }
        QVERIFY2(failure.isEmpty(), qPrintable(failure));
        QVERIFY2(log.join('\n').contains("capped at 10"), qPrintable(log.join('\n')));
        auto run = jobs::TrainingRequest::fromRunFolder(req.config.runDir);
        QVERIFY(run);
        QCOMPARE(run->config.classWeights.size(), size_t(2));
        QCOMPARE(run->config.classWeights[1], 10.f);
        QVERIFY(run->config.classWeights[0] < 1.f);
    }
};

QTEST_GUILESS_MAIN(TstShortcutCheck)
#include "tst_ShortcutCheck.moc"
