// Data-parallel training across processes (Gloo on loopback, CPU):
// - two ranks train the same weights and report the same epoch metrics as one process with
//   the same global batch and seed (a network without batch norm or dropout, whose training
//   does not depend on how a batch is split; this binary is also the rank, --rank-worker);
// - lightbox-cli train --nproc 2 end to end; images/s of 1 process x 2 threads against
//   2 processes x 1 thread at the same global batch (printed);
// - a rank killed mid-epoch makes the other fail with a clear message within the timeout,
//   and --resume continues from the last completed epoch with 2 processes;
// - a wrong MASTER_PORT and a missing rank fail with a clear message, not a hang;
// - the run-folder lock: a second train on the same --out is refused while the first runs,
//   and after kill -9 of the first the folder can be taken again.

// LibTorch before Qt (Qt's slots macro).
#include <ml/detail/ModelImpl.h>
#include <ml/detail/Net.h>

#include "SyntheticDataset.h"

#include <data/Dataset.h>
#include <data/Loader.h>
#include <ml/Bundle.h>
#include <ml/Distributed.h>
#include <ml/Trainer.h>

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QGuiApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <csignal>
#include <cstdio>

namespace {

namespace nn = torch::nn;
using namespace lightbox;

/// Two convolutions and a linear head: no batch norm, no dropout.
class FlatNetImpl : public ml::detail::NetImpl {
public:
    FlatNetImpl(int inChannels, int numClasses) : NetImpl("flat", inChannels, numClasses)
    {
        addStage("block1", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(inChannels, 8, 3).padding(1)), nn::ReLU(),
                                          nn::MaxPool2d(nn::MaxPool2dOptions(2))));
        addStage("block2", nn::Sequential(nn::Conv2d(nn::Conv2dOptions(8, 16, 3).padding(1)), nn::ReLU()));
        addLinearHead(16, 0.0);
        initWeights();
    }
};

constexpr int kEpochs = 2;

/// One rank (or the single process, world 1) of the equivalence run; prints nothing on success.
int rankWorker(const QStringList& a)
{
    // DATA OUT RANK WORLD PORT BATCH
    const std::string data = a[0].toStdString(), out = a[1].toStdString();
    const int rank = a[2].toInt(), world = a[3].toInt(), port = a[4].toInt(), batch = a[5].toInt();
    auto ds = data::loadDataset(data);
    if (!ds) {
        std::fprintf(stderr, "%s\n", ds.error().c_str());
        return 1;
    }
    data::SplitOptions split;
    split.seed = 3;
    data::assignSplits(ds.value(), split);
    std::vector<data::Sample> train, val;
    for (const auto& s : ds->samples)
        (s.split == data::Split::Train ? train : val).push_back(s);
    ml::TrainConfig c;
    c.architecture = "flat";
    c.classNames = ds->classNames;
    c.preprocess.channels = 1;
    c.preprocess.width = c.preprocess.height = 32;
    c.preprocess.mean = {0.5f};
    c.preprocess.std = {0.25f};
    c.optimizer = "sgd";
    c.learningRate = 0.05;
    c.epochs = kEpochs;
    c.earlyStopPatience = 0;
    c.schedule = "none";
    c.device = "cpu";
    c.threads = 1;
    c.seed = 11;
    c.runDir = out;
    c.distributed.rank = rank;
    c.distributed.worldSize = world;
    c.distributed.masterPort = port;
    c.distributed.timeoutSeconds = 30;
    data::LoaderOptions lo;
    lo.batchSize = batch;
    lo.threads = 1;
    lo.seed = 11;
    data::ImageBatchSource trainSource(train, c.preprocess, lo);
    lo.shuffle = false;
    data::ImageBatchSource valSource(val, c.preprocess, lo);
    auto r = ml::Trainer::run(c, trainSource, &valSource);
    if (!r) {
        std::fprintf(stderr, "%s\n", r.error().c_str());
        return 1;
    }
    return 0;
}

struct Run {
    int code = -1;
    QString out;
    double seconds = 0;
};

QString cli()
{
    return QStringLiteral(LIGHTBOX_BINARY_DIR "/app/lightbox-cli");
}

Run runProgram(const QString& program, const QStringList& args, const QProcessEnvironment& env = {},
               int timeoutMs = 90000)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    if (!env.isEmpty())
        p.setProcessEnvironment(env);
    QElapsedTimer t;
    t.start();
    p.start(program, args);
    Run r;
    if (!p.waitForFinished(timeoutMs * LIGHTBOX_TIME_FACTOR)) {
        p.kill();
        p.waitForFinished();
        r.out = "timed out";
        return r;
    }
    r.seconds = t.elapsed() / 1000.0;
    r.code = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1;
    r.out = QString::fromLocal8Bit(p.readAll());
    return r;
}

QProcessEnvironment rankEnv(int rank, int world, int port)
{
    auto env = QProcessEnvironment::systemEnvironment();
    env.insert("RANK", QString::number(rank));
    env.insert("LOCAL_RANK", QString::number(rank));
    env.insert("WORLD_SIZE", QString::number(world));
    env.insert("MASTER_ADDR", "127.0.0.1");
    env.insert("MASTER_PORT", QString::number(port));
    return env;
}

/// A port for one rendezvous (a different one per call and per test process).
int unusedPort()
{
    static int next = 29700 + (QCoreApplication::applicationPid() % 200) * 5;
    return next++;
}

/// A small cnn5 run on the CPU, one loader thread, rank timeout 20 s (the last argument).
QStringList trainArgs(const QString& data, const QString& out, int epochs, int batch, int threads, int size = 32)
{
    const QString options = QStringLiteral("--arch cnn5 --patience 0 --augment none --device cpu --loader-threads 1 "
                                           "--no-leakage-check --size %1 --epochs %2 --batch %3 --threads %4")
                                .arg(size)
                                .arg(epochs)
                                .arg(batch)
                                .arg(threads);
    return QStringList{"train", "--data", data, "--out", out} + options.split(' ') +
           QStringList{"--dist-timeout", "20"};
}

std::vector<QStringList> csvRows(const QString& path)
{
    QFile f(path);
    std::vector<QStringList> rows;
    if (!f.open(QIODevice::ReadOnly))
        return rows;
    for (const QString& line : QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts))
        rows.push_back(line.split(','));
    return rows;
}

/// The last "N img/s" of an epoch line.
double epochImagesPerSecond(const QString& out)
{
    double v = 0;
    QRegularExpression re("^epoch \\d+/\\d+  train loss.*  ([0-9.]+) img/s", QRegularExpression::MultilineOption);
    for (auto it = re.globalMatch(out); it.hasNext();)
        v = it.next().captured(1).toDouble();
    return v;
}

} // namespace

class TestDistributed : public QObject {
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString data() const { return m_dir.path() + "/data"; }

private slots:
    void initTestCase()
    {
        if (!ml::distributedBackendAvailable("gloo"))
            QSKIP("this LibTorch build has no Gloo (or its headers, libgloo-dev, were missing at configure time)");
        QVERIFY(m_dir.isValid());
        QVERIFY(test::makeSquaresDataset(data(), 36, 32));
        QVERIFY2(QFileInfo::exists(cli()), "lightbox-cli is not built");
    }

    void twoRanksTrainAsOneProcess()
    {
        const QString self = QCoreApplication::applicationFilePath();
        const QString one = m_dir.path() + "/one", two = m_dir.path() + "/two";
        // One process, batch 8; two ranks, batch 4 each: the same global batch.
        const Run single = runProgram(self, {"--rank-worker", data(), one, "0", "1", "0", "8"});
        QVERIFY2(single.code == 0, qPrintable(single.out));
        const int port = unusedPort();
        QProcess rank1;
        rank1.setProcessChannelMode(QProcess::MergedChannels);
        rank1.start(self, {"--rank-worker", data(), two, "1", "2", QString::number(port), "4"});
        const Run rank0 = runProgram(self, {"--rank-worker", data(), two, "0", "2", QString::number(port), "4"});
        QVERIFY(rank1.waitForFinished(60000));
        QVERIFY2(rank0.code == 0, qPrintable(rank0.out));
        QVERIFY2(rank1.exitCode() == 0, rank1.readAll().constData());

        // The weights, tensor by tensor.
        auto a = ml::loadModel((one + "/best.lbx").toStdString());
        auto b = ml::loadModel((two + "/best.lbx").toStdString());
        QVERIFY2(a && b, "a bundle did not load");
        auto pa = a->model.impl()->net->named_parameters();
        auto pb = b->model.impl()->net->named_parameters();
        QCOMPARE(pa.size(), pb.size());
        double worst = 0, scale = 0;
        for (const auto& p : pa) {
            const torch::Tensor* q = pb.find(p.key());
            QVERIFY2(q, p.key().c_str());
            worst = std::max(worst, (p.value() - *q).abs().max().item<double>());
            scale = std::max(scale, p.value().abs().max().item<double>());
        }
        // Initial weights move by ~1e-1 over the run; float32 sums in another order differ ~1e-7.
        std::printf("equivalence: max |w(1 process) - w(2 ranks)| = %.3g over %zu tensors (largest weight %.3g)\n",
                    worst, pa.size(), scale);
        QVERIFY2(worst < 1e-5, qPrintable(QString("weights differ by %1").arg(worst)));

        // The per-epoch metrics (metrics.csv: epoch, train_loss, train_accuracy, val_loss, val_accuracy, ...).
        const auto ra = csvRows(one + "/metrics.csv"), rb = csvRows(two + "/metrics.csv");
        QCOMPARE(int(ra.size()), kEpochs + 1);
        QCOMPARE(ra.size(), rb.size());
        for (size_t i = 1; i < ra.size(); ++i)
            for (int col = 1; col <= 4; ++col) {
                const double x = ra[i][col].toDouble(), y = rb[i][col].toDouble();
                QVERIFY2(std::abs(x - y) <= 1e-4 * std::max(1.0, std::abs(x)),
                         qPrintable(QString("epoch %1 column %2: %3 vs %4").arg(i).arg(col).arg(x).arg(y)));
            }
        // Only rank 0 wrote, and the bundle came from one folder.
        QVERIFY(QFileInfo::exists(two + "/checkpoint.pt"));
    }

    void nprocEndToEndAndThroughput()
    {
        // The same global batch (16) and seed: 1 process x 2 threads, 2 processes x 1 thread.
        const QString one = m_dir.path() + "/cli1", two = m_dir.path() + "/cli2";
        const Run single = runProgram(cli(), trainArgs(data(), one, 2, 16, 2, 64));
        QVERIFY2(single.code == 0, qPrintable(single.out));
        const Run dist = runProgram(cli(), trainArgs(data(), two, 2, 8, 1, 64) + QStringList{"--nproc", "2"});
        QVERIFY2(dist.code == 0, qPrintable(dist.out));
        QVERIFY2(dist.out.contains("rank 0 of 2") && dist.out.contains("[rank 1] rank 1 of 2"), qPrintable(dist.out));
        QVERIFY(dist.out.contains("evaluation on the test split"));
        QFile f(two + "/run.json");
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QJsonObject run = QJsonDocument::fromJson(f.readAll()).object();
        QCOMPARE(run["worldSize"].toInt(), 2);
        QCOMPARE(run["config"].toObject()["world_size"].toInt(), 2);
        QCOMPARE(int(csvRows(two + "/metrics.csv").size()), 3);
        QVERIFY(QFileInfo::exists(two + "/best.lbx"));
        std::printf("throughput, 64x64 cnn5, global batch 16, last epoch: 1 process x 2 threads %.0f img/s, "
                    "2 processes x 1 thread %.0f img/s (ratio %.2f); wall %.1f s vs %.1f s\n",
                    epochImagesPerSecond(single.out), epochImagesPerSecond(dist.out),
                    epochImagesPerSecond(dist.out) / std::max(1e-9, epochImagesPerSecond(single.out)), single.seconds,
                    dist.seconds);
    }

    void killedRankStopsTheOtherAndResumes()
    {
        const QString out = m_dir.path() + "/killed";
        const int port = unusedPort();
        // Rank 1 dies (SIGKILL) at its 10th training batch: in epoch 2 (7 or 8 per epoch).
        auto env1 = rankEnv(1, 2, port);
        env1.insert("LIGHTBOX_FAULT_POINT", "train-batch:10");
        QProcess rank1;
        rank1.setProcessChannelMode(QProcess::MergedChannels);
        rank1.setProcessEnvironment(env1);
        rank1.start(cli(), trainArgs(data(), out, 3, 4, 1));
        const Run rank0 = runProgram(cli(), trainArgs(data(), out, 3, 4, 1), rankEnv(0, 2, port));
        QVERIFY(rank1.waitForFinished(60000));
        QCOMPARE(rank1.exitStatus(), QProcess::CrashExit);
        QVERIFY2(rank0.code != 0, qPrintable(rank0.out));
        QVERIFY2(rank0.out.contains("rank 0 of 2: the gradient all-reduce across ranks failed") ||
                     rank0.out.contains("rank 0 of 2: the sum across ranks failed"),
                 qPrintable(rank0.out));
        QVERIFY2(rank0.seconds < 20, qPrintable(QString("took %1 s").arg(rank0.seconds)));
        std::printf("a killed rank: the other failed after %.1f s with: %s\n", rank0.seconds,
                    qPrintable(rank0.out.mid(rank0.out.indexOf("rank 0 of 2: the")).section('\n', 0, 0)));
        QCOMPARE(int(csvRows(out + "/metrics.csv").size()), 2); // epoch 1 committed

        const Run resumed =
            runProgram(cli(), {"train", "--resume", "--out", out, "--nproc", "2", "--dist-timeout", "20"});
        QVERIFY2(resumed.code == 0, qPrintable(resumed.out));
        QVERIFY2(resumed.out.contains("from epoch 2"), qPrintable(resumed.out));
        QCOMPARE(int(csvRows(out + "/metrics.csv").size()), 4);
    }

    void wrongPortAndMissingRankFailFast()
    {
        // Rank 1 alone, nobody serving its port; rank 0 alone, rank 1 never comes.
        const QString out = m_dir.path() + "/alone";
        QStringList args = trainArgs(data(), out, 1, 4, 1);
        args[args.size() - 1] = "3"; // --dist-timeout 3
        const Run wrongPort = runProgram(cli(), args, rankEnv(1, 2, unusedPort()), 60000);
        QVERIFY2(wrongPort.code != 0, qPrintable(wrongPort.out));
        QVERIFY2(wrongPort.out.contains("rank 1 of 2: cannot reach the rendezvous at 127.0.0.1:"),
                 qPrintable(wrongPort.out));
        const Run missing = runProgram(cli(), args, rankEnv(0, 2, unusedPort()), 60000);
        QVERIFY2(missing.code != 0, qPrintable(missing.out));
        QVERIFY2(missing.out.contains("only 1 of 2 ranks came"), qPrintable(missing.out));
        std::printf("timeout 3 s: a wrong port failed after %.1f s, a missing rank after %.1f s\n", wrongPort.seconds,
                    missing.seconds);
        QVERIFY(wrongPort.seconds < 15 && missing.seconds < 15);
        // A launcher variable out of range is named.
        auto env = rankEnv(2, 2, 29999);
        const Run badRank = runProgram(cli(), args, env);
        QVERIFY2(badRank.code != 0 && badRank.out.contains("RANK=2"), qPrintable(badRank.out));
    }

    void runFolderLock()
    {
        const QString out = m_dir.path() + "/locked";
        QProcess first;
        first.setProcessChannelMode(QProcess::MergedChannels);
        first.start(cli(), trainArgs(data(), out, 200, 4, 1));
        QVERIFY(first.waitForStarted());
        // Wait for the first epoch to be committed, so the folder holds a run.
        QTRY_VERIFY_WITH_TIMEOUT(csvRows(out + "/metrics.csv").size() >= 2, 60000);
        const Run second = runProgram(cli(), trainArgs(data(), out, 2, 4, 1));
        QVERIFY2(second.code != 0, qPrintable(second.out));
        QVERIFY2(
            second.out.contains("is in use by another training process (pid " + QString::number(first.processId())),
            qPrintable(second.out));
        const Run resumeWhileRunning = runProgram(cli(), {"train", "--resume", "--out", out, "--epochs", "2"});
        QVERIFY2(resumeWhileRunning.code != 0 && resumeWhileRunning.out.contains("in use"),
                 qPrintable(resumeWhileRunning.out));
        ::kill(static_cast<pid_t>(first.processId()), SIGKILL);
        QVERIFY(first.waitForFinished(10000));
        // The lock went with the process: the folder can be taken again.
        const Run after = runProgram(cli(), {"train", "--resume", "--out", out, "--epochs", "2"});
        QVERIFY2(after.code == 0, qPrintable(after.out));
    }
};

int main(int argc, char** argv)
{
    ml::detail::registerArchitecture("flat", [](int c, int n) { return std::make_shared<FlatNetImpl>(c, n); });
    QGuiApplication app(argc, argv);
    const QStringList args = app.arguments();
    if (args.size() == 8 && args[1] == "--rank-worker")
        return rankWorker(args.mid(2));
    TestDistributed t;
    return QTest::qExec(&t, argc, argv);
}

#include "tst_distributed.moc"
