// Bundle round trips and the refusal of wrong, damaged and foreign files.
// LibTorch comes first: it must not meet Qt's `slots` macro.
#include <ml/detail/ModelImpl.h>

#include <ml/Bundle.h>
#include <ml/Runtime.h>

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>
#include <random>

using namespace lightbox::ml;

class tst_MlBundle : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void roundTrip_data();
    void roundTrip();
    void saveRefusesMismatchedCard();
    void saveReplacesAtomically();
    void refuses_data();
    void refuses();

private:
    std::string path(const char* name) const { return m_dir.filePath(name).toStdString(); }
    ModelCard cardFor(const std::string& arch, int channels, int classes) const;
    QTemporaryDir m_dir;
};

static InputImage randomInput(int c, int h, int w, unsigned seed)
{
    InputImage in;
    in.channels = c;
    in.height = h;
    in.width = w;
    std::mt19937 rng(seed);
    std::normal_distribution<float> d;
    for (int i = 0; i < c * h * w; ++i)
        in.data.push_back(d(rng));
    return in;
}

static void writeBytes(const std::string& p, const std::string& bytes)
{
    std::ofstream f(p, std::ios::binary);
    f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

static std::string readBytes(const std::string& p)
{
    std::ifstream f(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(f), {});
}

void tst_MlBundle::initTestCase()
{
    QVERIFY(m_dir.isValid());
    configureThreads(0);
}

ModelCard tst_MlBundle::cardFor(const std::string& arch, int channels, int classes) const
{
    ModelCard c;
    c.architecture = arch;
    c.task = "test";
    for (int i = 0; i < classes; ++i)
        c.classNames.push_back("class" + std::to_string(i));
    c.preprocess.width = 64;
    c.preprocess.height = 64;
    c.preprocess.channels = channels;
    c.preprocess.mean.assign(static_cast<size_t>(channels), 0.5f);
    c.preprocess.std.assign(static_cast<size_t>(channels), 0.25f);
    c.metrics["test_accuracy"] = 0.5;
    return c;
}

void tst_MlBundle::roundTrip_data()
{
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("classes");
    QTest::newRow("cnn5") << "cnn5" << 1 << 2;
    QTest::newRow("resnet18") << "resnet18" << 3 << 5;
    QTest::newRow("densenet121") << "densenet121" << 1 << 3;
    QTest::newRow("efficientnet_b0") << "efficientnet_b0" << 3 << 4;
}

void tst_MlBundle::roundTrip()
{
    QFETCH(QString, arch);
    QFETCH(int, channels);
    QFETCH(int, classes);
    manualSeed(5);
    auto model = createModel(arch.toStdString(), channels, classes);
    QVERIFY2(model.ok(), model.error().c_str());
    {
        // Move the batch-norm running statistics away from their defaults so that losing
        // the buffers would change the outputs.
        auto net = model->impl()->net;
        net->train();
        torch::NoGradGuard g;
        for (int i = 0; i < 3; ++i)
            net->forward(torch::randn({2, channels, 64, 64}) * 3 + 1);
        net->eval();
    }
    const auto input = randomInput(channels, 64, 64, 11);
    auto before = model->logits(input);
    QVERIFY(before.ok());

    const ModelCard card = cardFor(arch.toStdString(), channels, classes);
    const std::string file = path("roundtrip.lbx");
    auto saved = saveBundle(model.value(), card, file);
    QVERIFY2(saved.ok(), saved.error().c_str());

    auto loaded = loadModel(file);
    QVERIFY2(loaded.ok(), loaded.error().c_str());
    QCOMPARE(QString::fromStdString(loaded->model.architecture()), arch);
    QVERIFY(!loaded->model.isTorchScript());
    QCOMPARE(loaded->card.classNames, card.classNames);
    QCOMPARE(loaded->card.metrics, card.metrics);
    QCOMPARE(loaded->card.preprocess.channels, channels);
    QVERIFY(!loaded->card.created.empty());
    auto after = loaded->model.logits(input);
    QVERIFY(after.ok());
    QCOMPARE(after.value(), before.value());

    // A fresh network of the same architecture gives different outputs: the weights came from the file.
    auto fresh = createModel(arch.toStdString(), channels, classes);
    QVERIFY(fresh->logits(input).value() != before.value());
}

void tst_MlBundle::saveRefusesMismatchedCard()
{
    auto model = createModel("cnn5", 1, 3);
    QVERIFY(model.ok());
    auto r = saveBundle(model.value(), cardFor("resnet18", 1, 3), path("x.lbx"));
    QVERIFY(!r.ok());
    QVERIFY(r.error().find("architecture") != std::string::npos);
    r = saveBundle(model.value(), cardFor("cnn5", 1, 2), path("x.lbx"));
    QVERIFY(!r.ok());
    QVERIFY(r.error().find("classes") != std::string::npos);
    r = saveBundle(model.value(), cardFor("cnn5", 3, 3), path("x.lbx"));
    QVERIFY(!r.ok());
    QVERIFY(r.error().find("channels") != std::string::npos);
    QVERIFY(!QFile::exists(m_dir.filePath("x.lbx")));
    r = saveBundle(model.value(), cardFor("cnn5", 1, 3), path("no-such-dir/x.lbx"));
    QVERIFY(!r.ok());
    QVERIFY(r.error().find("cannot write") != std::string::npos);
}

void tst_MlBundle::saveReplacesAtomically()
{
    const std::string file = path("replace.lbx");
    manualSeed(1);
    auto a = createModel("cnn5", 1, 2);
    auto b = createModel("cnn5", 1, 2);
    QVERIFY(saveBundle(a.value(), cardFor("cnn5", 1, 2), file).ok());
    QVERIFY(saveBundle(b.value(), cardFor("cnn5", 1, 2), file).ok());
    const auto input = randomInput(1, 64, 64, 3);
    QCOMPARE(loadModel(file)->model.logits(input).value(), b->logits(input).value());
    // No temporary files are left beside it.
    const auto leftovers = QDir(m_dir.path()).entryList({"replace.lbx.tmp*"}, QDir::Files);
    QVERIFY2(leftovers.isEmpty(), qPrintable(leftovers.join(",")));
}

void tst_MlBundle::refuses_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("expected"); // part of the message
    QTest::newRow("missing file") << "missing"
                                  << "cannot open";
    QTest::newRow("empty file") << "empty"
                                << "empty";
    QTest::newRow("random bytes") << "random"
                                  << "not a Lightbox bundle";
    QTest::newRow("truncated") << "truncated"
                               << "not a Lightbox bundle";
    QTest::newRow("damaged") << "damaged"
                             << "not a Lightbox bundle or TorchScript model (the checksum of";
    QTest::newRow("unknown architecture") << "unknown-arch"
                                          << "unknown architecture 'resnet19'";
    QTest::newRow("wrong class count") << "wrong-classes"
                                       << "have shape";
    QTest::newRow("wrong channels") << "wrong-channels"
                                    << "have shape";
    QTest::newRow("smaller variant's weights") << "wrong-variant"
                                               << "no weights for";
    QTest::newRow("larger variant's weights") << "larger-variant"
                                              << "resnet18 does not have ('p_layer";
    QTest::newRow("newer format") << "newer"
                                  << "newer than this Lightbox supports";
    QTest::newRow("card not json") << "bad-card"
                                   << "not valid JSON";
}

void tst_MlBundle::refuses()
{
    QFETCH(QString, kind);
    QFETCH(QString, expected);
    const std::string file = path("bad.lbx");
    std::remove(file.c_str());
    manualSeed(2);
    const std::string k = kind.toStdString();
    if (k == "empty") {
        writeBytes(file, "");
    } else if (k == "random") {
        std::mt19937 rng(9);
        std::string bytes(8192, '\0');
        for (auto& c : bytes)
            c = static_cast<char>(rng());
        writeBytes(file, bytes);
    } else if (k == "truncated") {
        auto model = createModel("cnn5", 1, 2);
        QVERIFY(saveBundle(model.value(), cardFor("cnn5", 1, 2), path("full.lbx")).ok());
        const std::string full = readBytes(path("full.lbx"));
        QVERIFY(full.size() > 1000);
        writeBytes(file, full.substr(0, full.size() / 2));
    } else if (k == "damaged") {
        // One byte changed inside the weights: only the archive's checksum tells.
        auto model = createModel("cnn5", 1, 2);
        QVERIFY(saveBundle(model.value(), cardFor("cnn5", 1, 2), path("full.lbx")).ok());
        std::string bytes = readBytes(path("full.lbx"));
        bytes[bytes.size() / 2] = static_cast<char>(bytes[bytes.size() / 2] ^ 0x10);
        writeBytes(file, bytes);
    } else if (k != "missing") {
        // Deliberately inconsistent bundles, written below saveBundle()'s checks.
        std::string error;
        auto cnn = lightbox::ml::detail::createNet("cnn5", 1, 2, error);
        auto resnet18 = lightbox::ml::detail::createNet("resnet18", 1, 2, error);
        auto resnet34 = lightbox::ml::detail::createNet("resnet34", 1, 2, error);
        QVERIFY(cnn && resnet18 && resnet34);
        ModelCard card = cardFor("cnn5", 1, 2);
        std::shared_ptr<torch::nn::Module> net = cnn;
        std::string json;
        if (k == "unknown-arch") {
            card.architecture = "resnet19";
        } else if (k == "wrong-classes") {
            card = cardFor("cnn5", 1, 4);
        } else if (k == "wrong-channels") {
            card = cardFor("cnn5", 3, 2);
        } else if (k == "wrong-variant") {
            card = cardFor("resnet34", 1, 2);
            net = resnet18;
        } else if (k == "larger-variant") {
            card = cardFor("resnet18", 1, 2);
            net = resnet34;
        } else if (k == "newer") {
            auto o = card.toJson().object();
            o["format_version"] = ModelCard::kFormatVersion + 1;
            o["architecture"] = "some-future-net";
            json = Json(o).dump();
        } else if (k == "bad-card") {
            json = "{\"format_version\": 1, \"architecture\": ";
        }
        if (json.empty())
            json = card.toJsonText();
        auto w = lightbox::ml::detail::writeBundleFile(file, json, *net);
        QVERIFY2(w.ok(), w.error().c_str());
    }
    auto r = loadModel(file);
    QVERIFY(!r.ok());
    QVERIFY2(r.error().find(expected.toStdString()) != std::string::npos, r.error().c_str());
    // Messages are for people: no C++ stack traces.
    QVERIFY2(r.error().find("Exception raised from") == std::string::npos, r.error().c_str());
    QVERIFY(r.error().size() < 1000);
}

QTEST_APPLESS_MAIN(tst_MlBundle)
#include "tst_MlBundle.moc"
