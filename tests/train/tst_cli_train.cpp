// lightbox-cli train / evaluate end to end on a synthetic two-class folder: the run folder's
// contents, the bundle loads in `predict`, `evaluate --json` reports an accuracy on the same
// test split, a run stopped with SIGTERM continues with --resume, and bad input is refused
// with a message.

#include "SyntheticDataset.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

namespace {

struct Run {
    int code = -1;
    QString out;
    QString err;
};

QString cli()
{
    return QStringLiteral(LIGHTBOX_BINARY_DIR "/app/lightbox-cli");
}

Run runCli(const QStringList& args, int timeoutMs = 90000)
{
    QProcess p;
    p.start(cli(), args);
    Run r;
    if (!p.waitForFinished(timeoutMs * LIGHTBOX_TIME_FACTOR)) {
        p.kill();
        p.waitForFinished();
        r.err = "timed out";
        return r;
    }
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromLocal8Bit(p.readAllStandardOutput());
    r.err = QString::fromLocal8Bit(p.readAllStandardError());
    return r;
}

QStringList lines(const QString& path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    QStringList out = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
    return out;
}

QStringList trainArgs(const QString& data, const QString& out, int epochs, int batch)
{
    return {"train",
            "--data",
            data,
            "--arch",
            "cnn5",
            "--size",
            "32",
            "--epochs",
            QString::number(epochs),
            "--batch",
            QString::number(batch),
            "--patience",
            "0",
            "--augment",
            "none",
            "--device",
            "cpu",
            "--threads",
            "2",
            "--out",
            out};
}

} // namespace

class TstCliTrain : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        if (!QFileInfo(cli()).isExecutable())
            QSKIP("lightbox-cli is not built");
        QVERIFY(m_tmp.isValid());
        m_data = m_tmp.filePath("squares");
        QVERIFY(lightbox::test::makeSquaresDataset(m_data, 20));
    }

    void trainTwoEpochs()
    {
        const QString run = m_tmp.filePath("run-cli");
        const Run r = runCli(trainArgs(m_data, run, 2, 8));
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        // Leakage summary before training, one line per epoch, evaluation at the end.
        const int leak = r.out.indexOf("leakage check:");
        const int e1 = r.out.indexOf("epoch 1/2  train loss");
        const int e2 = r.out.indexOf("epoch 2/2  train loss");
        const int ev = r.out.indexOf("evaluation on the test split");
        QVERIFY2(leak >= 0 && e1 > leak && e2 > e1 && ev > e2, qPrintable(r.out));
        QVERIFY(r.out.contains("accuracy"));
        QVERIFY(r.err.contains("epoch 1/2 ["));

        for (const char* f : {"config.json", "run.json", "splits.csv", "best.lbx", "checkpoint.pt", "report.json",
                              "per_class.csv", "confusion.csv"})
            QVERIFY2(QFileInfo(QDir(run).filePath(f)).size() > 0, f);
        const QStringList metrics = lines(QDir(run).filePath("metrics.csv"));
        QCOMPARE(metrics.size(), 3); // header + 2 epochs
        QVERIFY(metrics[0].startsWith("epoch,train_loss"));
        const QStringList splits = lines(QDir(run).filePath("splits.csv"));
        QCOMPARE(splits.size(), 41);
        m_testCount = splits.filter(",test").size();
        QVERIFY(m_testCount >= 2);

        // The bundle is an ordinary model for `predict`.
        const QString image = QDir(m_data).filePath("left/s000l.png");
        const Run p =
            runCli({"predict", "--model", QDir(run).filePath("best.lbx"), "--device", "cpu", "--json", image});
        QVERIFY2(p.code == 0, qPrintable(p.err));
        const QJsonObject doc = QJsonDocument::fromJson(p.out.toUtf8()).object();
        const QJsonObject probs = doc["results"].toArray().at(0).toObject()["probabilities"].toObject();
        QCOMPARE(probs.keys(), QStringList({"left", "right"}));
        QVERIFY(std::abs(probs["left"].toDouble() + probs["right"].toDouble() - 1.0) < 1e-4);
        m_run = run;
    }

    void evaluateJson()
    {
        if (m_run.isEmpty())
            QSKIP("needs trainTwoEpochs");
        const Run r = runCli(
            {"evaluate", "--model", QDir(m_run).filePath("best.lbx"), "--data", m_data, "--device", "cpu", "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const QJsonObject doc = QJsonDocument::fromJson(r.out.toUtf8()).object();
        QVERIFY2(doc.contains("accuracy"), qPrintable(r.out));
        const double acc = doc["accuracy"].toDouble(-1);
        QVERIFY(acc >= 0.0 && acc <= 1.0);
        QCOMPARE(doc["split"].toString(), QString("test"));
        QCOMPARE(doc["samples"].toInt(), m_testCount); // the run's own test split
        QCOMPARE(doc["split_source"].toString(), QString("splits.csv of the run folder"));
        QCOMPARE(doc["confusion"].toArray().size(), 2);

        // The same numbers as the report written at the end of training.
        QFile f(QDir(m_run).filePath("report.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject report = QJsonDocument::fromJson(f.readAll()).object();
        QCOMPARE(report["accuracy"].toDouble(), acc);
        // ... and the bundle's card carries them.
        const QJsonObject card = doc["card_metrics"].toObject();
        QCOMPARE(card["test_accuracy"].toDouble(-1), acc);
        QCOMPARE(card["test_samples"].toDouble(), double(m_testCount));
        QVERIFY(card.contains("test_macro_f1"));

        const Run all = runCli({"evaluate", "--model", QDir(m_run).filePath("best.lbx"), "--data", m_data, "--split",
                                "all", "--device", "cpu"});
        QVERIFY2(all.code == 0, qPrintable(all.err));
        QVERIFY(all.out.contains("samples 40"));
        QVERIFY(all.out.contains("confusion matrix"));

        // The bundle away from its run folder, on a plain folder of class sub-folders: a
        // held-out set handed in whole, so every image counts unless --split asks for a carve.
        const QString alone = m_tmp.filePath("alone");
        QVERIFY(QDir().mkpath(alone));
        QVERIFY(QFile::copy(QDir(m_run).filePath("best.lbx"), alone + "/model.lbx"));
        const Run whole = runCli({"evaluate", "--model", alone + "/model.lbx", "--data", m_data, "--json"});
        QVERIFY2(whole.code == 0, qPrintable(whole.err));
        const QJsonObject wholeDoc = QJsonDocument::fromJson(whole.out.toUtf8()).object();
        QCOMPARE(wholeDoc["samples"].toInt(), 40);
        QVERIFY2(wholeDoc["split_source"].toString().contains("whole folder"), qPrintable(whole.out));
        QVERIFY2(whole.err.contains("evaluating all 40 images"), qPrintable(whole.err));
        const Run carve =
            runCli({"evaluate", "--model", alone + "/model.lbx", "--data", m_data, "--split", "test", "--json"});
        QVERIFY2(carve.code == 0, qPrintable(carve.err));
        const QJsonObject carveDoc = QJsonDocument::fromJson(carve.out.toUtf8()).object();
        QCOMPARE(carveDoc["split"].toString(), QString("test"));
        QVERIFY(carveDoc["samples"].toInt() > 0 && carveDoc["samples"].toInt() < 40);
    }

    /// `train --ensemble 2`: two members with consecutive seeds on one split, joined into an
    /// ensemble bundle that `predict` averages and `calibrate` fits; `--resume` on the finished
    /// ensemble trains nothing again and joins the same members.
    void ensembleAndCalibrate()
    {
        const QString run = m_tmp.filePath("run-ensemble");
        QStringList args = trainArgs(m_data, run, 1, 8);
        args << "--ensemble"
             << "2"
             << "--seed"
             << "5";
        const Run r = runCli(args, 180000);
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("member 1 of 2: seed 5, split seed 5") &&
                     r.out.contains("member 2 of 2: seed 6, split seed 5"),
                 qPrintable(r.out));
        for (const char* f : {"member-1/best.lbx", "member-2/best.lbx", "ensemble.lbx"})
            QVERIFY2(QFileInfo(QDir(run).filePath(f)).size() > 0, f);
        QCOMPARE(lines(QDir(run).filePath("member-1/splits.csv")), lines(QDir(run).filePath("member-2/splits.csv")));

        const QString ensemble = QDir(run).filePath("ensemble.lbx");
        const QString image = QDir(m_data).filePath("left/s000l.png");
        const Run p = runCli({"predict", "--model", ensemble, "--device", "cpu", "--json", image});
        QVERIFY2(p.code == 0, qPrintable(p.err));
        const QJsonObject result =
            QJsonDocument::fromJson(p.out.toUtf8()).object()["results"].toArray().at(0).toObject();
        const QJsonArray members = result["members"].toObject()["probabilities"].toArray();
        QCOMPARE(members.size(), 2);
        const double mean = 0.5 * (members[0].toArray()[0].toDouble() + members[1].toArray()[0].toDouble());
        QVERIFY(std::abs(result["probabilities"].toObject()["left"].toDouble() - mean) < 1e-5);

        // Calibrate on the members' split: a detector, a temperature, the test figures.
        const QString calibrated = QDir(run).filePath("calibrated.lbx");
        const Run c = runCli({"calibrate", "--model", ensemble, "--data", m_data, "--splits",
                              QDir(run).filePath("member-1"), "--out", calibrated, "--record-test", "--device", "cpu"});
        QVERIFY2(c.code == 0, qPrintable(c.out + c.err));
        QVERIFY2(c.out.contains("temperature") && c.out.contains("detector in use: mahalanobis"), qPrintable(c.out));
        const Run e = runCli({"evaluate", "--model", calibrated, "--data", m_data, "--splits",
                              QDir(run).filePath("member-1"), "--device", "cpu", "--json"});
        QVERIFY2(e.code == 0, qPrintable(e.err));
        const QJsonObject doc = QJsonDocument::fromJson(e.out.toUtf8()).object();
        QCOMPARE(doc["ood_method"].toString(), QString("mahalanobis"));
        QVERIFY(doc.contains("ece"));
        QCOMPARE(doc["reliability"].toArray().size(), 15);
        QCOMPARE(doc["card_metrics"].toObject()["test_accuracy"].toDouble(-1), doc["accuracy"].toDouble());
        // The ensemble's card gets its own val figures, the ones evaluate reproduces.
        const Run v = runCli({"evaluate", "--model", calibrated, "--data", m_data, "--splits",
                              QDir(run).filePath("member-1"), "--split", "val", "--device", "cpu", "--json"});
        QVERIFY2(v.code == 0, qPrintable(v.err));
        const QJsonObject valDoc = QJsonDocument::fromJson(v.out.toUtf8()).object();
        QCOMPARE(valDoc["card_metrics"].toObject()["val_accuracy"].toDouble(-1), valDoc["accuracy"].toDouble());
        const Run pc = runCli({"predict", "--model", calibrated, "--device", "cpu", "--json", image});
        QVERIFY2(pc.code == 0, qPrintable(pc.err));
        const QJsonObject ood =
            QJsonDocument::fromJson(pc.out.toUtf8()).object()["results"].toArray().at(0).toObject()["ood"].toObject();
        QVERIFY(ood.contains("flagged") && ood.contains("percentile") && ood.contains("score"));

        // Nothing left to train: --resume only joins the members again.
        const Run again = runCli({"train", "--resume", "--out", run});
        QVERIFY2(again.code == 0, qPrintable(again.out + again.err));
        QVERIFY2(again.out.contains("member 1 of 2: trained") && again.out.contains("member 2 of 2: trained"),
                 qPrintable(again.out));
        QVERIFY(!again.out.contains("train loss"));
    }

    void stopThenResume()
    {
        const QString run = m_tmp.filePath("run-stop");
        QProcess p;
        p.start(cli(), trainArgs(m_data, run, 60, 4));
        QVERIFY(p.waitForStarted());
        QString out;
        QElapsedTimer clock;
        clock.start();
        while (!out.contains("epoch 1/60  train loss") && clock.elapsed() < 60000 && p.state() == QProcess::Running) {
            p.waitForReadyRead(200);
            out += QString::fromLocal8Bit(p.readAllStandardOutput());
        }
        QVERIFY2(out.contains("epoch 1/60  train loss"), qPrintable(out));
        p.terminate(); // SIGTERM: finish the batch, keep the checkpoint
        QVERIFY(p.waitForFinished(30000 * LIGHTBOX_TIME_FACTOR));
        out += QString::fromLocal8Bit(p.readAllStandardOutput());
        QCOMPARE(p.exitCode(), 130);
        QVERIFY2(out.contains("stopped after"), qPrintable(out));
        const QStringList before = lines(QDir(run).filePath("metrics.csv"));
        const int done = before.size() - 1;
        QVERIFY2(done >= 1 && done < 60, qPrintable(QString::number(done)));

        // Resume and run two more epochs than were done; the finished rows stay as they were.
        const Run r = runCli({"train", "--resume", "--out", run, "--epochs", QString::number(done + 2)});
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        const QStringList after = lines(QDir(run).filePath("metrics.csv"));
        QCOMPARE(after.size(), done + 3);
        for (int i = 0; i < before.size(); ++i)
            QCOMPARE(after[i], before[i]);
        QVERIFY(after.last().startsWith(QString::number(done + 1) + ","));
        QVERIFY(r.out.contains(QString("epoch %1/%2  train loss").arg(done + 2).arg(done + 2)));
        QVERIFY(!r.out.contains("epoch 1/"));
        QVERIFY(QFileInfo(QDir(run).filePath("report.json")).size() > 0);
    }

    void refusals()
    {
        const Run missing = runCli(trainArgs(m_tmp.filePath("nothing-here"), m_tmp.filePath("run-x"), 1, 4));
        QCOMPARE(missing.code, 1);
        QVERIFY(missing.err.contains("lightbox-cli"));
        QVERIFY(!QFileInfo::exists(m_tmp.filePath("run-x/best.lbx")));

        if (!m_run.isEmpty()) {
            const Run again = runCli(trainArgs(m_data, m_run, 1, 4));
            QCOMPARE(again.code, 1);
            QVERIFY2(again.err.contains("--resume"), qPrintable(again.err));
        }
        const Run noRun = runCli({"train", "--resume", "--out", m_tmp.filePath("squares")});
        QCOMPARE(noRun.code, 1);
        QVERIFY2(noRun.err.contains("run folder"), qPrintable(noRun.err));

        const Run badArch = runCli({"train", "--data", m_data, "--arch", "nonet", "--out", m_tmp.filePath("run-y")});
        QCOMPARE(badArch.code, 1);
        QVERIFY2(badArch.err.contains("resnet18"), qPrintable(badArch.err)); // names the known networks

        const Run badSplit =
            runCli({"evaluate", "--model", QDir(m_run).filePath("best.lbx"), "--data", m_data, "--split", "sideways"});
        QCOMPARE(badSplit.code, 2); // a command-line error
        QVERIFY2(badSplit.err.contains("--split must be test, val, train or all (got 'sideways')"),
                 qPrintable(badSplit.err));
    }

    /// A task class without images (chest-4class has no tuberculosis images here): training
    /// stops and names it; --skip-empty-classes trains the others and the model says what it
    /// does not cover; evaluate reads the data set as the model's classes.
    void emptyClassOfAPreset()
    {
        const QString data = m_tmp.filePath("chest3");
        const QString other = m_tmp.filePath("squares-b");
        QVERIFY(lightbox::test::makeSquaresDataset(other, 12, 48, 11));
        QVERIFY(QDir().mkpath(data));
        QVERIFY(QDir().rename(QDir(m_data).filePath("left"), data + "/normal"));
        QVERIFY(QDir().rename(QDir(m_data).filePath("right"), data + "/pneumonia"));
        QVERIFY(QDir().rename(other + "/left", data + "/covid19"));
        QVERIFY(QDir().mkpath(data + "/tuberculosis")); // a folder, but no images
        auto restore = qScopeGuard([&] {
            QDir().rename(data + "/normal", QDir(m_data).filePath("left"));
            QDir().rename(data + "/pneumonia", QDir(m_data).filePath("right"));
        });
        QStringList args = trainArgs(data, m_tmp.filePath("run-chest3"), 1, 8);
        args << "--preset"
             << "chest-4class"
             << "--no-leakage-check";
        const Run refused = runCli(args);
        QCOMPARE(refused.code, 1);
        QVERIFY2(refused.err.contains("no images of Tuberculosis"), qPrintable(refused.err));
        QVERIFY2(refused.err.contains("--skip-empty-classes"), qPrintable(refused.err));
        QVERIFY(!QFileInfo::exists(m_tmp.filePath("run-chest3/best.lbx")));

        const Run trained = runCli(args << "--skip-empty-classes"
                                        << "--shortcut-check");
        QVERIFY2(trained.code == 0, qPrintable(trained.out + trained.err));
        QVERIFY2(trained.out.contains("training on the 3 classes"), qPrintable(trained.out));
        // The shortcut check's line comes before the first epoch.
        const int shortcut = trained.out.indexOf("shortcut check: centre 70 % blanked: balanced accuracy");
        QVERIFY2(shortcut >= 0 && shortcut < trained.out.indexOf("epoch 1/1  train loss"), qPrintable(trained.out));

        const QString model = m_tmp.filePath("run-chest3/best.lbx");
        // The command on its own: JSON with the probe's figures; exit status 3 when flagged.
        const Run probe = runCli({"shortcut-check", "--data", data, "--preset", "chest-4class", "--size", "32",
                                  "--epochs", "2", "--threads", "1", "--json"});
        QVERIFY2(probe.code == 0 || probe.code == 3, qPrintable(probe.err));
        const QJsonObject sc = QJsonDocument::fromJson(probe.out.toUtf8()).object();
        QCOMPARE(sc["classes"].toArray().size(), 3); // tuberculosis has no images: not probed
        QCOMPARE(sc["chance"].toDouble(), 1.0 / 3.0);
        QCOMPARE(sc["flagged"].toBool(), probe.code == 3);
        // Recorded in a bundle's card, it shows in evaluate's card metrics.
        const Run recorded = runCli({"shortcut-check", "--data", data, "--preset", "chest-4class", "--size", "32",
                                     "--epochs", "2", "--threads", "1", "--record-in", model});
        QVERIFY2(recorded.code == probe.code, qPrintable(recorded.err));
        QVERIFY2(recorded.err.contains("recorded in"), qPrintable(recorded.err));
        const Run again = runCli({"evaluate", "--model", model, "--data", data, "--split", "all", "--json"});
        const QJsonObject card = QJsonDocument::fromJson(again.out.toUtf8()).object()["card_metrics"].toObject();
        QCOMPARE(card["shortcut_flagged"].toDouble(), probe.code == 3 ? 1.0 : 0.0);
        QCOMPARE(card["shortcut_chance"].toDouble(), 1.0 / 3.0);
        QCOMPARE(QJsonDocument::fromJson(again.out.toUtf8()).object()["samples"].toInt(), 52); // weights intact
        QVERIFY(sc["balanced_accuracy"].toDouble() >= 0 && sc["balanced_accuracy"].toDouble() <= 1);
        const Run p = runCli({"predict", "--model", model, "--device", "cpu", "--json", data + "/normal/s000l.png"});
        QVERIFY2(p.code == 0, qPrintable(p.err));
        const QJsonObject doc = QJsonDocument::fromJson(p.out.toUtf8()).object();
        QCOMPARE(doc["results"].toArray().at(0).toObject()["probabilities"].toObject().keys(),
                 QStringList({"COVID-19", "Normal", "Pneumonia"}));
        QCOMPARE(doc["notCovered"].toArray(), QJsonArray({"Tuberculosis"}));
        const Run ev = runCli({"evaluate", "--model", model, "--data", data, "--split", "all", "--json"});
        QVERIFY2(ev.code == 0, qPrintable(ev.err));
        const QJsonObject e = QJsonDocument::fromJson(ev.out.toUtf8()).object();
        QCOMPARE(e["num_classes"].toInt(), 3);
        QCOMPARE(e["samples"].toInt(), 52);
        QCOMPARE(e["not_covered"].toArray(), QJsonArray({"Tuberculosis"}));
    }

private:
    QTemporaryDir m_tmp;
    QString m_data;
    QString m_run;
    int m_testCount = 0;
};

QTEST_GUILESS_MAIN(TstCliTrain)
#include "tst_cli_train.moc"
