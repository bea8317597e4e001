// Crash safety of what Lightbox writes, with the real lightbox-cli:
//
// - `train` killed with SIGKILL at ten random moments (in a batch, in validation, half-way
//   through writing the checkpoint, the best bundle or metrics.csv, after an epoch's commit,
//   and at random times). After each kill every file in the run folder is whole, and
//   `--resume` continues from the last completed epoch; the trial table is printed.
// - `crop` killed the same way: the manifest's rows and the crop files stay consistent (no row
//   without its file, no half-written PNG, every file the crop its row describes), and the
//   next crop starts cleanly, removing what the killed one left.
// - A full disk (a tiny tmpfs, mounted when the test runs as root; skipped otherwise): training
//   and crop export stop with a clear message and what was written before stays intact.
// - Bad model files (truncated, random bytes, a zip that is no bundle, a newer format, a card
//   claiming absurd sizes): one line from `predict`, exit code 1.
//
// The kill points are core/base/FaultInjection.h's (LIGHTBOX_FAULT_POINT); LIGHTBOX_CRASH_SEED
// changes the random moments (the seed is printed with the table).
// Over 600 lines: the kill trials of training and of crop export share the process
// helpers and the checks that every file is whole.

#include "SyntheticDataset.h"

#include <data/CropExporter.h>
#include <data/CropManifest.h>
#include <imaging/ImageLoader.h>
#include <ml/Bundle.h>

#include <QDir>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <algorithm>
#include <csignal>
#include <random>
#include <sys/statvfs.h>
#include <unistd.h>

using namespace lightbox;

namespace {

QString cli()
{
    return QStringLiteral(LIGHTBOX_BINARY_DIR "/app/lightbox-cli");
}

struct Outcome {
    bool killed = false; ///< ended by SIGKILL
    int code = -1;       ///< exit code when it exited
    QString out, err;
};

/// Runs lightbox-cli with `fault` (LIGHTBOX_FAULT_POINT, empty for none); with killAfterMs >= 0
/// the test itself sends SIGKILL after that many milliseconds.
Outcome runCli(const QStringList& args, const QString& fault, int killAfterMs = -1, int timeoutMs = 120000)
{
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.remove(QStringLiteral("LIGHTBOX_FAULT_POINT"));
    if (!fault.isEmpty())
        env.insert(QStringLiteral("LIGHTBOX_FAULT_POINT"), fault);
    p.setProcessEnvironment(env);
    p.start(cli(), args);
    Outcome o;
    if (!p.waitForStarted())
        return o;
    if (killAfterMs >= 0 && !p.waitForFinished(killAfterMs))
        ::kill(static_cast<pid_t>(p.processId()), SIGKILL);
    if (!p.waitForFinished(timeoutMs * LIGHTBOX_TIME_FACTOR)) {
        p.kill();
        p.waitForFinished();
        o.err = QStringLiteral("timed out");
        return o;
    }
    o.killed = p.exitStatus() == QProcess::CrashExit;
    o.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    o.out = QString::fromLocal8Bit(p.readAllStandardOutput());
    o.err = QString::fromLocal8Bit(p.readAllStandardError());
    return o;
}

QStringList trainArgs(const QString& data, const QString& out, int epochs)
{
    return {"train",    "--data",    data,
            "--arch",   "cnn5",      "--size",
            "32",       "--epochs",  QString::number(epochs),
            "--batch",  "4",         "--patience",
            "0",        "--augment", "none",
            "--device", "cpu",       "--threads",
            "1",        "--out",     out};
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

/// The epochs of a metrics.csv (0-based, as it writes them), or {-1} when it is not a whole one.
QList<int> metricsEpochs(const QString& path)
{
    const QStringList rows = QString::fromUtf8(readAll(path)).split('\n', Qt::SkipEmptyParts);
    if (rows.isEmpty() || !rows[0].startsWith(QLatin1String("epoch,train_loss")))
        return {-1};
    const int columns = rows[0].count(',');
    QList<int> epochs;
    for (int i = 1; i < rows.size(); ++i) {
        bool ok = false;
        const int e = rows[i].section(',', 0, 0).toInt(&ok);
        if (!ok || rows[i].count(',') != columns)
            return {-1};
        epochs << e;
    }
    return epochs;
}

/// The largest N with "epoch N/" at the start of a line of `out` (the epochs the CLI reported).
int reportedEpochs(const QString& out)
{
    static const QRegularExpression re(QStringLiteral("(?m)^epoch (\\d+)/\\d+  train loss"));
    int n = 0;
    for (auto it = re.globalMatch(out); it.hasNext();)
        n = std::max(n, it.next().captured(1).toInt());
    return n;
}

/// Files under `dir` that a finished write never leaves behind.
QStringList leftovers(const QString& dir)
{
    QStringList found;
    for (const QString& name : QDir(dir).entryList(QDir::Files | QDir::Hidden))
        if (name.contains(QLatin1String(".tmp")) || name.endsWith(QLatin1String(".pending")))
            found << name;
    return found;
}

/// Whole, or absent: every final file in a run folder. Returns what is wrong, or "".
QString checkRunFolder(const QString& run)
{
    const QDir d(run);
    for (const char* json : {"run.json", "config.json"})
        if (d.exists(json) && QJsonDocument::fromJson(readAll(d.filePath(json))).isNull())
            return QString("%1 is not whole JSON").arg(json);
    if (d.exists("metrics.csv")) {
        const QList<int> epochs = metricsEpochs(d.filePath("metrics.csv"));
        for (int i = 0; i < epochs.size(); ++i)
            if (epochs[i] != i)
                return QStringLiteral("metrics.csv is damaged or out of order:\n") +
                       QString::fromUtf8(readAll(d.filePath("metrics.csv")));
    }
    if (d.exists("best.lbx")) {
        auto m = ml::loadModel(d.filePath("best.lbx").toStdString());
        if (!m)
            return QStringLiteral("best.lbx does not load: ") + QString::fromStdString(m.error());
    }
    return {};
}

bool isRoot()
{
    return ::geteuid() == 0;
}

/// A tmpfs of `kib` KiB mounted on `dir` (root only); empty on success, else why not.
QString mountTmpfs(const QString& dir, int kib)
{
    if (!isRoot())
        return QStringLiteral("mounting a tmpfs needs root; this test runs as another user");
    QProcess p;
    p.start(QStringLiteral("mount"), {"-t", "tmpfs", "-o", QString("size=%1k").arg(kib), "tmpfs", dir});
    if (!p.waitForFinished(10000 * LIGHTBOX_TIME_FACTOR) || p.exitCode() != 0)
        return QStringLiteral("mount -t tmpfs is not permitted here: ") +
               QString::fromLocal8Bit(p.readAllStandardError()).trimmed();
    return {};
}

void unmount(const QString& dir)
{
    QProcess::execute(QStringLiteral("umount"), {dir});
}

/// Fills the file system of `dir` until only about `leaveBytes` are free.
bool fillDisk(const QString& dir, qint64 leaveBytes)
{
    struct statvfs st {};
    if (::statvfs(dir.toLocal8Bit().constData(), &st) != 0)
        return false;
    const qint64 avail = static_cast<qint64>(st.f_bavail) * static_cast<qint64>(st.f_frsize);
    QFile f(QDir(dir).filePath(QStringLiteral("filler")));
    if (!f.open(QIODevice::WriteOnly | QIODevice::Append))
        return false;
    qint64 left = avail - leaveBytes;
    const QByteArray block(4096, 'x');
    while (left > 0) {
        const qint64 n = f.write(block.constData(), std::min<qint64>(left, block.size()));
        if (n <= 0)
            break;
        left -= n;
    }
    f.close();
    return true;
}

/// Waits until process `p` has stopped itself (SIGSTOP).
bool waitStopped(QProcess& p, int timeoutMs)
{
    const qint64 pid = p.processId();
    QElapsedTimer t;
    t.start();
    while (t.elapsed() < timeoutMs && p.state() == QProcess::Running && !p.waitForFinished(0 * LIGHTBOX_TIME_FACTOR)) {
        const QByteArray stat = readAll(QString("/proc/%1/stat").arg(pid));
        const int close = stat.lastIndexOf(')');
        if (close > 0 && close + 2 < stat.size() && stat[close + 2] == 'T')
            return true;
        QThread::msleep(20);
    }
    return false;
}

} // namespace

class TstCrashSafety : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        if (!QFileInfo(cli()).isExecutable())
            QSKIP("lightbox-cli is not built");
        QVERIFY(m_tmp.isValid());
        m_data = m_tmp.filePath("squares");
        QVERIFY(test::makeSquaresDataset(m_data, 16, 32));
        bool ok = false;
        const uint envSeed = qEnvironmentVariable("LIGHTBOX_CRASH_SEED").toUInt(&ok);
        m_seed = ok ? envSeed : 20261205u;
    }

    void trainingKilledTenTimes()
    {
        const QString run = m_tmp.filePath("run-kill");
        std::mt19937 rng(m_seed);
        const auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
        // 24 images to train on, batches of 4: 6 batches an epoch; 4 val images, 1 batch.
        struct Moment {
            QString what;  ///< shown in the table
            QString fault; ///< LIGHTBOX_FAULT_POINT, or empty for a timed kill
            int killAfterMs = -1;
            int committedAhead = 0; ///< epochs committed beyond those reported (0, or 1 after the commit)
            bool exact = true;      ///< false for timed kills: 0 or 1 ahead
        };
        QList<Moment> moments = {
            {"best bundle half-written", "bundle-write:1", -1, 0, true},
            {"in a training batch", QString("train-batch:%1").arg(pick(1, 15)), -1, 0, true},
            {"in validation", QString("validation-batch:%1").arg(pick(1, 2)), -1, 0, true},
            {"checkpoint half-written", QString("checkpoint-write:%1").arg(pick(1, 2)), -1, 0, true},
            {"metrics.csv half-written", QString("metrics-write:%1").arg(pick(1, 2)), -1, 1, true},
            {"after the epoch's commit", QString("epoch-committed:%1").arg(pick(1, 2)), -1, 1, true},
            {"in a training batch", QString("train-batch:%1").arg(pick(1, 15)), -1, 0, true},
            {"checkpoint half-written", QString("checkpoint-write:%1").arg(pick(1, 3)), -1, 0, true},
            {"at a random time", {}, pick(300, 4000), 0, false},
            {"at a random time", {}, pick(300, 4000), 0, false},
        };
        // The first moment must come in the first epoch of a fresh run (a best bundle is
        // always written then); the rest in random order.
        std::shuffle(moments.begin() + 1, moments.end(), rng);

        const int epochs = 200; // more than the trials can finish: every kill lands in training
        QString table =
            QString("\nkill -9 trials (seed %1): %2 epochs planned, 6 batches each\n").arg(m_seed).arg(epochs);
        table += QString("%1 %2 %3 %4 %5 %6 %7\n")
                     .arg("trial", -5)
                     .arg("moment", -26)
                     .arg("point", -20)
                     .arg("epochs done", 15)
                     .arg("resumed from", 12)
                     .arg("files", -6)
                     .arg("left behind, removed on resume");
        int committed = 0; // epochs the run folder holds, as the trials saw it
        for (int t = 0; t < moments.size(); ++t) {
            const Moment& m = moments[t];
            const bool fresh = !QFileInfo::exists(QDir(run).filePath("run.json"));
            const QStringList args =
                fresh ? trainArgs(m_data, run, epochs) : QStringList{"train", "--resume", "--out", run};
            const Outcome o = runCli(args, m.fault, m.killAfterMs);
            QVERIFY2(o.killed || m.fault.isEmpty(), qPrintable(QString("trial %1 (%2): not killed, exit %3\n%4%5")
                                                                   .arg(t + 1)
                                                                   .arg(m.fault)
                                                                   .arg(o.code)
                                                                   .arg(o.out, o.err)));
            QVERIFY2(o.killed, qPrintable(QString("trial %1: the run ended before the timed kill").arg(t + 1)));

            const QStringList left = leftovers(run); // half-written files, never read as whole ones
            // Before anything repairs it: every final file is whole.
            const QString bad = checkRunFolder(run);
            QVERIFY2(bad.isEmpty(), qPrintable(QString("trial %1: %2").arg(t + 1).arg(bad)));

            // The epochs this process reported finished, on top of those of earlier trials.
            static const QRegularExpression from(QStringLiteral("from epoch (\\d+)"));
            const auto fm = from.match(o.out + o.err);
            const int startedAt = fm.hasMatch() ? fm.captured(1).toInt() - 1 : (fresh ? 0 : -1);
            const int reported = reportedEpochs(o.out);
            const int knownDone = reported > 0 ? reported : startedAt >= 0 ? startedAt : committed;

            // Resume for one more epoch than is committed, without a fault: the "from epoch"
            // line says where the checkpoint stood, then it trains that epoch.
            const Outcome probe =
                runCli({"train", "--resume", "--out", run, "--epochs", QString::number(epochs)}, "epoch-committed:1");
            QVERIFY2(probe.killed, qPrintable(probe.out + probe.err));
            const auto pm = from.match(probe.out + probe.err);
            const bool freshAgain = !pm.hasMatch() && probe.out.contains(QLatin1String("training cnn5"));
            QVERIFY2(pm.hasMatch() || freshAgain, qPrintable(probe.out + probe.err));
            const int resumedAt = pm.hasMatch() ? pm.captured(1).toInt() - 1 : 0;
            if (m.exact) {
                QVERIFY2(resumedAt == knownDone + m.committedAhead,
                         qPrintable(QString("trial %1 (%2): reported %3, resumed from epoch %4")
                                        .arg(t + 1)
                                        .arg(m.fault)
                                        .arg(knownDone)
                                        .arg(resumedAt + 1)));
            } else {
                QVERIFY2(resumedAt == knownDone || resumedAt == knownDone + 1,
                         qPrintable(QString("trial %1: reported %2, resumed from epoch %3")
                                        .arg(t + 1)
                                        .arg(knownDone)
                                        .arg(resumedAt + 1)));
            }
            // The probe's own epoch commits, then it is killed: metrics.csv holds exactly the
            // committed epochs once the next run repairs the folder, checked below.
            committed = resumedAt + 1;
            const QString bad2 = checkRunFolder(run);
            QVERIFY2(bad2.isEmpty(), qPrintable(QString("trial %1, after the resume: %2").arg(t + 1).arg(bad2)));

            table += QString("%1 %2 %3 %4 %5 %6 %7\n")
                         .arg(t + 1, -5)
                         .arg(m.what, -26)
                         .arg(m.fault.isEmpty() ? QString("after %1 ms").arg(m.killAfterMs) : m.fault, -20)
                         .arg(knownDone, 15)
                         .arg(freshAgain ? QString("start") : QString("epoch %1").arg(resumedAt + 1), 12)
                         .arg("whole", -6)
                         .arg(left.isEmpty() ? QString("-") : left.join(' '));
        }
        qInfo().noquote() << table;

        // Finally, to the end: two epochs more than are committed.
        const Outcome last =
            runCli({"train", "--resume", "--out", run, "--epochs", QString::number(committed + 2)}, QString());
        QVERIFY2(last.code == 0, qPrintable(last.out + last.err));
        QVERIFY2(last.out.contains(QString("from epoch %1").arg(committed + 1)) ||
                     last.err.contains(QString("from epoch %1").arg(committed + 1)),
                 qPrintable(last.out + last.err));
        QList<int> expected;
        for (int e = 0; e < committed + 2; ++e)
            expected << e;
        QCOMPARE(metricsEpochs(QDir(run).filePath("metrics.csv")), expected);
        QVERIFY2(leftovers(run).isEmpty(), qPrintable(leftovers(run).join(", ")));
        QVERIFY(checkRunFolder(run).isEmpty());
        QVERIFY(QFileInfo(QDir(run).filePath("report.json")).size() > 0);
    }

    void cropExportKilled()
    {
        // Sources: six synthetic radiographs; crops are saved, saved again under another
        // label or region, with kills at every point of a save in between.
        const QString src = m_tmp.filePath("crop-sources");
        QVERIFY(QDir().mkpath(src));
        QStringList sources;
        std::mt19937 rng(m_seed + 1);
        for (int i = 0; i < 6; ++i) {
            cv::Mat img(160, 200, CV_8UC1);
            cv::randu(img, 0, 255);
            const QString path = QString("%1/src%2.png").arg(src).arg(i);
            QVERIFY(cv::imwrite(path.toStdString(), img));
            sources << path;
        }
        const QString root = m_tmp.filePath("crops");
        const auto pick = [&rng](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
        const QStringList faults = {"png-write:1",      "crop-png-written:1",
                                    "manifest-write:1", "crop-manifest-written:1",
                                    "png-write:1",      "crop-png-written:1",
                                    "manifest-write:1", "crop-manifest-written:1",
                                    QString(),          QString()};
        QString table = QString("\ncrop export kill -9 trials (seed %1)\n%2 %3 %4 %5\n")
                            .arg(m_seed)
                            .arg("trial", -5)
                            .arg("point", -24)
                            .arg("rows", 5)
                            .arg("left behind, removed next time", -30);
        QMap<QString, QString> sourceOfKey;
        for (const QString& s : sources) {
            auto img = imaging::loadImage(s.toStdString());
            QVERIFY(img);
            sourceOfKey[data::CropExporter::sourceKey(img.value())] = s;
        }
        const auto checkConsistent = [&](const QString& when) -> QString {
            if (!QFileInfo::exists(QDir(root).filePath("manifest.csv")))
                return {};
            auto manifest = data::CropManifest::load(QDir(root).filePath("manifest.csv"));
            if (!manifest)
                return when + ": the manifest does not read: " + QString::fromStdString(manifest.error());
            for (const data::CropRecord& r : manifest->records()) {
                const QString file = QDir(root).filePath(r.file);
                if (!QFileInfo::exists(file))
                    return when + ": a row without its file: " + r.file;
                const cv::Mat png = cv::imread(file.toStdString(), cv::IMREAD_UNCHANGED);
                auto img = imaging::loadImage(sourceOfKey.value(r.sourceKey).toStdString());
                if (!img)
                    return when + ": a row of an unknown source";
                data::CropSettings s;
                s.raw = true;
                s.outputWidth = s.outputHeight = 64;
                auto expected = data::CropExporter::cropPixels(img.value(), {r.roiX, r.roiY, r.roiW, r.roiH}, s);
                if (png.empty() || !expected || png.size() != expected->size() ||
                    cv::norm(png, expected.value(), cv::NORM_INF) != 0)
                    return when + ": " + r.file + " is not the crop its row describes";
            }
            return {};
        };
        for (int t = 0; t < faults.size(); ++t) {
            const QString source = sources[pick(0, 2)]; // three sources: crops are often saved again
            const QString roi =
                QString("%1,%2,%3,%4").arg(pick(0, 60)).arg(pick(0, 40)).arg(pick(40, 120)).arg(pick(40, 100));
            const QString label = QString("KL%1").arg(pick(0, 1));
            const QStringList args = {"crop",      source, "--roi",  roi,  "--label", label,
                                      "--dataset", root,   "--size", "64", "--raw"};
            const Outcome o = runCli(args, faults[t], faults[t].isEmpty() ? pick(5, 150) : -1);
            QVERIFY2(o.killed || (faults[t].isEmpty() && o.code == 0), qPrintable(o.out + o.err));
            const QString bad = checkConsistent(QString("trial %1").arg(t + 1));
            QVERIFY2(bad.isEmpty(), qPrintable(bad));
            // What the kill left: it must be gone after the next (successful) crop.
            QStringList left;
            QDirIterator it(root, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
            auto manifest = data::CropManifest::load(QDir(root).filePath("manifest.csv"));
            QSet<QString> listed;
            if (manifest)
                for (const auto& r : manifest->records())
                    listed.insert(r.file);
            while (it.hasNext()) {
                const QString rel = QDir(root).relativeFilePath(it.next());
                if (rel != QLatin1String("manifest.csv") && !listed.contains(rel))
                    left << rel;
            }
            const Outcome next = runCli({"crop", sources[3 + t % 3], "--roi", "10,10,50,50", "--label", "KL0",
                                         "--dataset", root, "--size", "64", "--raw"},
                                        QString());
            QVERIFY2(next.code == 0, qPrintable(next.out + next.err));
            for (const QString& rel : left)
                QVERIFY2(!QFileInfo::exists(QDir(root).filePath(rel)), qPrintable(rel + " was left behind"));
            const QString bad2 = checkConsistent(QString("trial %1, next crop").arg(t + 1));
            QVERIFY2(bad2.isEmpty(), qPrintable(bad2));
            table += QString("%1 %2 %3 %4\n")
                         .arg(t + 1, -5)
                         .arg(faults[t].isEmpty() ? QString("timed kill") : faults[t], -24)
                         .arg(manifest ? int(manifest->records().size()) : 0, 5)
                         .arg(left.isEmpty() ? QString("-") : left.join(' '), -30);
        }
        qInfo().noquote() << table;
    }

    void fullDisk()
    {
        QTemporaryDir mnt;
        QVERIFY(mnt.isValid());
        const QString why = mountTmpfs(mnt.path(), 40 * 1024); // a run: 4 MB bundle, 12 MB checkpoint
        if (!why.isEmpty())
            QSKIP(qPrintable(why));
        auto unmountAtEnd = qScopeGuard([&] { unmount(mnt.path()); });

        // Training: stopped by itself after epoch 1's commit; the disk is filled; it goes on.
        const QString run = QDir(mnt.path()).filePath("run");
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("LIGHTBOX_FAULT_POINT"), QStringLiteral("epoch-committed:1:stop"));
        p.setProcessEnvironment(env);
        p.start(cli(), trainArgs(m_data, run, 6));
        QVERIFY(p.waitForStarted());
        QVERIFY2(waitStopped(p, 60000), qPrintable("training did not reach the end of epoch 1: " +
                                                   QString::fromLocal8Bit(p.readAllStandardError())));
        const QByteArray checkpoint = readAll(QDir(run).filePath("checkpoint.pt"));
        QVERIFY(!checkpoint.isEmpty());
        QVERIFY(fillDisk(mnt.path(), 8192));
        ::kill(static_cast<pid_t>(p.processId()), SIGCONT);
        QVERIFY(p.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR));
        const QString err = QString::fromLocal8Bit(p.readAllStandardError());
        qInfo().noquote() << "training on a full disk:" << err.trimmed().split('\n').last();
        QCOMPARE(p.exitStatus(), QProcess::NormalExit);
        QCOMPARE(p.exitCode(), 1);
        QVERIFY2(err.contains(QLatin1String("No space left on device")), qPrintable(err));
        // The last committed epoch is intact, and the run continues once there is room.
        QVERIFY2(checkRunFolder(run).isEmpty(), qPrintable(checkRunFolder(run)));
        QVERIFY(QFile::remove(QDir(mnt.path()).filePath("filler")));
        const Outcome resumed = runCli({"train", "--resume", "--out", run, "--epochs", "2"}, QString());
        QVERIFY2(resumed.code == 0, qPrintable(resumed.out + resumed.err));
        QVERIFY2((resumed.out + resumed.err).contains("from epoch 2"), qPrintable(resumed.out + resumed.err));
        QCOMPARE(metricsEpochs(QDir(run).filePath("metrics.csv")), QList<int>({0, 1}));
        QVERIFY2(leftovers(run).isEmpty(), qPrintable(leftovers(run).join(", ")));

        // Crop export: one crop saved, the disk filled, the next refused with the reason.
        const QString root = QDir(mnt.path()).filePath("crops");
        const QString source = QDir(m_data).filePath("left/s000l.png");
        const Outcome first = runCli(
            {"crop", source, "--roi", "0,0,20,20", "--label", "a", "--dataset", root, "--size", "64"}, QString());
        QVERIFY2(first.code == 0, qPrintable(first.out + first.err));
        const QByteArray manifestBefore = readAll(QDir(root).filePath("manifest.csv"));
        const QString firstFile = first.out.trimmed();
        const QByteArray fileBefore = readAll(firstFile);
        QVERIFY(!manifestBefore.isEmpty() && !fileBefore.isEmpty());
        QVERIFY(fillDisk(mnt.path(), 0));
        const Outcome full = runCli({"crop", QDir(m_data).filePath("right/s000r.png"), "--roi", "0,0,20,20", "--label",
                                     "b", "--dataset", root, "--size", "64"},
                                    QString());
        qInfo().noquote() << "crop export on a full disk:" << full.err.trimmed();
        QCOMPARE(full.code, 1);
        QVERIFY2(full.err.contains(QLatin1String("No space left on device")), qPrintable(full.err));
        QCOMPARE(readAll(QDir(root).filePath("manifest.csv")), manifestBefore);
        QCOMPARE(readAll(firstFile), fileBefore);
        QVERIFY(QDir(QDir(root).filePath("b")).entryList(QDir::Files | QDir::Hidden).isEmpty());
    }

    /// Bad model files: each gives one line on stderr and exit code 1, never a crash.
    void badModelFilesGiveOneLine()
    {
        const QString sample = QStringLiteral(LIGHTBOX_SOURCE_DIR "/resources/samples/hand-sex-1771.png");
        const QString good = QStringLiteral(LIGHTBOX_SOURCE_DIR "/models/hand-sex-resnet10s.lbx");
        const QDir dir(m_tmp.filePath("bad-models"));
        QVERIFY(QDir().mkpath(dir.path()));
        const QByteArray goodBytes = readAll(good);
        QVERIFY(goodBytes.size() > 100000);
        const auto write = [&](const QString& name, const QByteArray& bytes) {
            QFile f(dir.filePath(name));
            return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size();
        };
        std::mt19937 rng(m_seed);
        QByteArray random(65536, '\0');
        for (char& c : random)
            c = static_cast<char>(rng());
        QVERIFY(write("empty.lbx", {}));
        QVERIFY(write("truncated.lbx", goodBytes.left(goodBytes.size() / 2)));
        QVERIFY(write("random.lbx", random));
        QVERIFY(write("image.lbx", readAll(sample)));
        // Zips: one that is not a bundle, and the good bundle with its card changed in place
        // (same length, so only the card tells): a newer format, an absurd input size, a
        // channel count the network does not have.
        const QString script = QStringLiteral(R"(
import re, sys, zipfile
good, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(out + '/not-a-bundle.lbx', 'w') as z:
    z.writestr('report/notes.txt', 'not a model')
src = zipfile.ZipFile(good)
for name, key, absurd in [('newer.lbx', b'format_version', False),
                          ('absurd-height.lbx', b'height', True),
                          ('wrong-channels.lbx', b'channels', False)]:
    with zipfile.ZipFile(out + '/' + name, 'w', zipfile.ZIP_STORED) as z:
        for i in src.infolist():
            data = src.read(i.filename)
            if i.filename.endswith('/data/0'):
                m = re.search(b'"' + key + b'": *[0-9]+', data)
                head = b'"' + key + b'":'
                room = len(m.group(0)) - len(head)
                value = b'9e' + b'9' * (room - 2) if absurd else b' ' * (room - 1) + b'9'
                data = data[:m.start()] + head + value + data[m.end():]
            z.writestr(i.filename, data)
)");
        QProcess py;
        py.start(QStringLiteral("/usr/bin/python3"), {"-c", script, good, dir.path()});
        QVERIFY(py.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());

        const QList<std::pair<QString, QString>> cases = {
            {"empty.lbx", "empty"},
            {"truncated.lbx", "not a Lightbox bundle"},
            {"random.lbx", "not a Lightbox bundle"},
            {"image.lbx", "not a Lightbox bundle"},
            {"not-a-bundle.lbx", "not one LibTorch wrote"},
            {"newer.lbx", "newer than this Lightbox supports"},
            {"absurd-height.lbx", "height"},
            {"wrong-channels.lbx", "channels"},
        };
        QString table = QStringLiteral("\nbad model files, lightbox-cli predict:\n");
        for (const auto& [name, expected] : cases) {
            const Outcome o = runCli({"predict", "--model", dir.filePath(name), sample}, QString());
            const QStringList lines = o.err.trimmed().split('\n');
            table += QString("  %1 %2\n").arg(name, -20).arg(o.err.trimmed());
            QVERIFY2(!o.killed && o.code == 1, qPrintable(name + ": " + o.out + o.err));
            QVERIFY2(lines.size() == 1 && lines[0].startsWith(QLatin1String("lightbox-cli")),
                     qPrintable(name + ": " + o.err));
            QVERIFY2(o.err.contains(expected), qPrintable(name + ": " + o.err));
            QVERIFY2(!o.err.contains(QLatin1String("Exception raised")) && !o.err.contains(QLatin1String("frame #")),
                     qPrintable(o.err));
        }
        qInfo().noquote() << table;
    }

private:
    QTemporaryDir m_tmp;
    QString m_data;
    uint m_seed = 0;
};

QTEST_GUILESS_MAIN(TstCrashSafety)
#include "tst_crash_safety.moc"
