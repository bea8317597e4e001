// TorchScript import: a torchvision model exported by scripts/export_torchvision.py with the
// system Python gives the same logits and Grad-CAM in LibTorch as in Python.
#include <ml/Bundle.h>
#include <ml/Classifier.h>
#include <ml/Json.h>
#include <ml/Runtime.h>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <fstream>

using namespace lightbox::ml;

class tst_MlTorchScript : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void matchesPython_data();
    void matchesPython();
    void refusesMissingCard();
    void refusesCardThatDoesNotFit_data();
    void refusesCardThatDoesNotFit();

private:
    bool exportModel(const QStringList& args, QString& log);
    QTemporaryDir m_dir;
};

static std::vector<float> readFloats(const QString& path)
{
    std::ifstream f(path.toStdString(), std::ios::binary | std::ios::ate);
    const auto bytes = static_cast<size_t>(f.tellg());
    std::vector<float> v(bytes / sizeof(float));
    f.seekg(0);
    f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(v.size() * sizeof(float)));
    return v;
}

static float maxAbsDiff(const std::vector<float>& a, const std::vector<float>& b)
{
    if (a.size() != b.size())
        return INFINITY;
    float m = 0.f;
    for (size_t i = 0; i < a.size(); ++i)
        m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

void tst_MlTorchScript::initTestCase()
{
    QVERIFY(m_dir.isValid());
    configureThreads(0);
    QProcess probe;
    probe.start(LIGHTBOX_TORCH_PYTHON, {"-c", "import torch, torchvision"});
    QVERIFY(probe.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR));
    QVERIFY2(probe.exitCode() == 0, "this test needs " LIGHTBOX_TORCH_PYTHON " with torch and torchvision "
                                    "(set LIGHTBOX_TORCH_PYTHON)");
}

bool tst_MlTorchScript::exportModel(const QStringList& args, QString& log)
{
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(LIGHTBOX_TORCH_PYTHON, QStringList{LIGHTBOX_SOURCE_DIR "/scripts/export_torchvision.py"} + args);
    const bool finished = p.waitForFinished(120000 * LIGHTBOX_TIME_FACTOR);
    log = QString::fromLocal8Bit(p.readAll());
    return finished && p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0;
}

void tst_MlTorchScript::matchesPython_data()
{
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("classes");
    QTest::addColumn<int>("size");
    QTest::newRow("resnet18 grey") << "resnet18" << 1 << 2 << 128;
    QTest::newRow("densenet121 rgb") << "densenet121" << 3 << 3 << 96;
}

void tst_MlTorchScript::matchesPython()
{
    QFETCH(QString, arch);
    QFETCH(int, channels);
    QFETCH(int, classes);
    QFETCH(int, size);
    const QString model = m_dir.filePath(arch + ".pt");
    const QString ref = m_dir.filePath(arch + "-ref");
    QString log;
    QVERIFY2(
        exportModel({"--arch", arch, "--classes", QString::number(classes), "--channels", QString::number(channels),
                     "--size", QString::number(size), "--seed", "3", "--reference", ref, "--task", "test", model},
                    log),
        qPrintable(log));

    Json meta;
    std::string error;
    QFile metaFile(ref + "/reference.json");
    QVERIFY(metaFile.open(QIODevice::ReadOnly));
    QVERIFY2(Json::parse(metaFile.readAll().toStdString(), meta, error), error.c_str());

    auto loaded = loadModel(model.toStdString());
    QVERIFY2(loaded.ok(), loaded.error().c_str());
    QVERIFY(loaded->model.isTorchScript());
    QCOMPARE(loaded->model.numClasses(), classes);
    QCOMPARE(loaded->card.preprocess.channels, channels);
    QCOMPARE(loaded->card.preprocess.width, size);
    QCOMPARE(loaded->card.task, std::string("test"));
    QCOMPARE(loaded->model.layerNames(), std::vector<std::string>{"features"});

    InputImage input;
    input.channels = channels;
    input.height = size;
    input.width = size;
    input.data = readFloats(ref + "/input.bin");
    QVERIFY(input.valid());

    const auto pyLogits = readFloats(ref + "/logits.bin");
    auto logits = loaded->model.logits(input);
    QVERIFY2(logits.ok(), logits.error().c_str());
    const float diff = maxAbsDiff(logits.value(), pyLogits);
    qInfo("%s: max |C++ - Python| logit difference %.3g", qPrintable(arch), diff);
    QVERIFY2(diff <= 1e-5f, qPrintable(QString("logits differ by %1").arg(diff)));

    auto shape = loaded->model.layerShape(size, size);
    QVERIFY(shape.ok());
    QCOMPARE(static_cast<int>(shape.value()[1]), meta["feature_shape"].array()[2].toInt());

    // Grad-CAM through forward_features/forward_head agrees with the Python reference.
    auto classifier = Classifier::create(std::move(loaded.value()), {"cpu", false, -1});
    QVERIFY2(classifier.ok(), classifier.error().c_str());
    const auto pyProbs = readFloats(ref + "/probabilities.bin");
    for (const auto& [file, key] : {std::pair{"cam", "cam_class"}, std::pair{"cam_other", "cam_other_class"}}) {
        PredictOptions opts;
        opts.cam = CamMethod::GradCam;
        opts.targetClass = std::string(key) == "cam_class" ? -1 : meta[key].toInt();
        auto pred = classifier->predict(input, opts);
        QVERIFY2(pred.ok(), pred.error().c_str());
        QCOMPARE(pred->camClass, meta[key].toInt());
        QCOMPARE(pred->camLayer, std::string("features"));
        QVERIFY(maxAbsDiff(pred->probabilities, pyProbs) <= 1e-5f);
        const auto pyCam = readFloats(ref + "/" + file + ".bin");
        QCOMPARE(pred->cam.values.size(), pyCam.size());
        const float camDiff = maxAbsDiff(pred->cam.values, pyCam);
        qInfo("%s: max Grad-CAM difference (%s) %.3g", qPrintable(arch), file, camDiff);
        QVERIFY2(camDiff <= 1e-4f, qPrintable(QString("Grad-CAM differs by %1").arg(camDiff)));
        QCOMPARE(pred->camUpsampled.width, size);
        QCOMPARE(pred->camUpsampled.height, size);
    }
}

void tst_MlTorchScript::refusesMissingCard()
{
    const QString model = m_dir.filePath("nocard.pt");
    QString log;
    QVERIFY2(exportModel({"--arch", "resnet18", "--size", "64", "--no-card", model}, log), qPrintable(log));
    auto loaded = loadModel(model.toStdString());
    QVERIFY(!loaded.ok());
    QVERIFY2(loaded.error().find("card.json") != std::string::npos, loaded.error().c_str());
}

void tst_MlTorchScript::refusesCardThatDoesNotFit_data()
{
    QTest::addColumn<QString>("override");
    QTest::addColumn<QString>("expected");
    QTest::newRow("class count") << R"({"class_names": ["a", "b", "c"]})"
                                 << "card lists 3 classes";
    QTest::newRow("channels") << R"({"preprocess": {"channels": 3, "mean": [0, 0, 0], "std": [1, 1, 1]}})"
                              << "does not run on its card's input size";
    QTest::newRow("newer format") << R"({"format_version": 99})"
                                  << "newer";
    QTest::newRow("no preprocess") << R"({"preprocess": null})"
                                   << "no preprocess";
}

void tst_MlTorchScript::refusesCardThatDoesNotFit()
{
    // The network is resnet18 for 1 channel and 2 classes; the card says otherwise. This is
    // caught at load, not later in the viewer.
    QFETCH(QString, override);
    QFETCH(QString, expected);
    const QString model = m_dir.filePath("mismatch.pt");
    QString log;
    QVERIFY2(exportModel({"--arch", "resnet18", "--size", "64", "--channels", "1", "--classes", "2", "--card-override",
                          override, model},
                         log),
             qPrintable(log));
    auto loaded = loadModel(model.toStdString());
    QVERIFY(!loaded.ok());
    QVERIFY2(loaded.error().find(expected.toStdString()) != std::string::npos, loaded.error().c_str());
}

QTEST_APPLESS_MAIN(tst_MlTorchScript)
#include "tst_MlTorchScript.moc"
