// Model zoo shapes, JSON and model card, and torch-free preprocessing.
#include <ml/Bundle.h>
#include <ml/Json.h>
#include <ml/Model.h>
#include <ml/ModelCard.h>
#include <ml/Preprocess.h>
#include <ml/Runtime.h>

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <limits>

using namespace lightbox::ml;

class tst_MlZoo : public QObject {
    Q_OBJECT
private slots:
    void initTestCase() { configureThreads(0); }
    void zooShapes_data();
    void zooShapes();
    void parameterCountsMatchReferences_data();
    void parameterCountsMatchReferences();
    void unknownArchitecture();
    void invalidSizes();
    void seedMakesInitRepeatable();
    void jsonRoundTrip();
    void jsonRejectsBadText_data();
    void jsonRejectsBadText();
    void cardRoundTrip();
    void cardsWrittenBeforeStillLoad_data();
    void cardsWrittenBeforeStillLoad();
    void shippedBundlesLoad();
    void cardRefusesNewerVersion();
    void resizeKeepsConstant_data();
    void resizeKeepsConstant();
    void areaAveragesBlocks();
    void bilinearMatchesHalfPixelCentres();
    void preprocessConvertsAndNormalises();
};

static InputImage randomInput(int c, int h, int w, unsigned seed)
{
    InputImage in;
    in.channels = c;
    in.height = h;
    in.width = w;
    in.data.resize(static_cast<size_t>(c) * h * w);
    unsigned s = seed;
    for (auto& v : in.data) {
        s = s * 1664525u + 1013904223u;
        v = static_cast<float>((s >> 8) & 0xFFFF) / 65535.f * 2.f - 1.f;
    }
    return in;
}

void tst_MlZoo::zooShapes_data()
{
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("channels");
    QTest::addColumn<int>("classes");
    QTest::addColumn<int>("featureChannels");
    QTest::addColumn<int>("featureSize"); // at a 64x64 input
    QTest::newRow("cnn5-1") << "cnn5" << 1 << 2 << 256 << 8;
    QTest::newRow("cnn5-3") << "cnn5" << 3 << 5 << 256 << 8;
    QTest::newRow("resnet18") << "resnet18" << 1 << 5 << 512 << 2;
    QTest::newRow("resnet10s") << "resnet10s" << 1 << 5 << 256 << 2;
    QTest::newRow("resnet34") << "resnet34" << 3 << 2 << 512 << 2;
    QTest::newRow("resnet50") << "resnet50" << 3 << 4 << 2048 << 2;
    QTest::newRow("densenet121") << "densenet121" << 1 << 3 << 1024 << 2;
    QTest::newRow("efficientnet_b0") << "efficientnet_b0" << 3 << 10 << 1280 << 2;
    QTest::newRow("xception") << "xception" << 1 << 2 << 2048 << 2;
    QTest::newRow("vgg16") << "vgg16" << 3 << 2 << 512 << 4;
}

void tst_MlZoo::zooShapes()
{
    QFETCH(QString, arch);
    QFETCH(int, channels);
    QFETCH(int, classes);
    QFETCH(int, featureChannels);
    QFETCH(int, featureSize);
    manualSeed(1);
    auto model = createModel(arch.toStdString(), channels, classes);
    QVERIFY2(model.ok(), model.error().c_str());
    QCOMPARE(QString::fromStdString(model->architecture()), arch);
    QCOMPARE(model->inChannels(), channels);
    QCOMPARE(model->numClasses(), classes);
    QVERIFY(model->parameterCount() > 10000);
    QVERIFY(model->layerNames().size() >= 2);

    auto logits = model->logits(randomInput(channels, 64, 64, 7));
    QVERIFY2(logits.ok(), logits.error().c_str());
    QCOMPARE(static_cast<int>(logits->size()), classes);
    for (float v : logits.value())
        QVERIFY(std::isfinite(v));

    auto shape = model->layerShape(64, 64);
    QVERIFY2(shape.ok(), shape.error().c_str());
    QCOMPARE(shape->size(), size_t(3));
    QCOMPARE(static_cast<int>(shape.value()[0]), featureChannels);
    QCOMPARE(static_cast<int>(shape.value()[1]), featureSize);
    QCOMPARE(static_cast<int>(shape.value()[2]), featureSize);

    // Intermediate blocks are selectable and come before the last one in resolution order.
    auto first = model->layerShape(64, 64, model->layerNames().front());
    QVERIFY2(first.ok(), first.error().c_str());
    QVERIFY(first.value()[1] >= shape.value()[1]);
    QVERIFY(!model->layerShape(64, 64, "no-such-layer").ok());

    // Wrong channel count is refused, not crashed on.
    auto wrong = model->logits(randomInput(channels == 1 ? 3 : 1, 64, 64, 7));
    QVERIFY(!wrong.ok());
    QVERIFY(wrong.error().find("channels") != std::string::npos);
}

void tst_MlZoo::parameterCountsMatchReferences_data()
{
    // Trainable parameters for 3 channels and 1000 classes in the reference implementations:
    // torchvision 0.14 (ResNet, DenseNet, EfficientNet) and Keras applications (Xception).
    // VGG-16 here has batch norm and a global-average-pool head: 14,714,688 convolution
    // weights and biases + 8,448 batch-norm weights + 513,000 in the classifier.
    QTest::addColumn<QString>("arch");
    QTest::addColumn<qlonglong>("expected");
    QTest::newRow("resnet18") << "resnet18" << 11689512LL;
    // torchvision's BasicBlock in a ResNet with one block per stage and widths 32-64-128-256.
    QTest::newRow("resnet10s") << "resnet10s" << 1487240LL;
    QTest::newRow("resnet34") << "resnet34" << 21797672LL;
    QTest::newRow("resnet50") << "resnet50" << 25557032LL;
    QTest::newRow("densenet121") << "densenet121" << 7978856LL;
    QTest::newRow("efficientnet_b0") << "efficientnet_b0" << 5288548LL;
    QTest::newRow("xception") << "xception" << 22855952LL;
    QTest::newRow("vgg16") << "vgg16" << 15236136LL;
}

void tst_MlZoo::parameterCountsMatchReferences()
{
    QFETCH(QString, arch);
    QFETCH(qlonglong, expected);
    auto model = createModel(arch.toStdString(), 3, 1000);
    QVERIFY2(model.ok(), model.error().c_str());
    QCOMPARE(static_cast<qlonglong>(model->parameterCount()), expected);
}

void tst_MlZoo::unknownArchitecture()
{
    auto model = createModel("resnet19", 3, 2);
    QVERIFY(!model.ok());
    QVERIFY2(model.error().find("unknown architecture 'resnet19'") != std::string::npos, model.error().c_str());
    QVERIFY(model.error().find("resnet18") != std::string::npos); // lists the known ones
    QCOMPARE(modelArchitectures().size(), size_t(9));
}

void tst_MlZoo::invalidSizes()
{
    QVERIFY(!createModel("cnn5", 2, 2).ok());
    QVERIFY(!createModel("cnn5", 1, 1).ok());
    auto model = createModel("cnn5", 1, 2);
    QVERIFY(model.ok());
    InputImage bad = randomInput(1, 16, 16, 1);
    bad.data.pop_back();
    QVERIFY(!model->logits(bad).ok());
}

void tst_MlZoo::seedMakesInitRepeatable()
{
    const auto input = randomInput(1, 32, 32, 3);
    manualSeed(42);
    auto a = createModel("cnn5", 1, 3)->logits(input).value();
    manualSeed(42);
    auto b = createModel("cnn5", 1, 3)->logits(input).value();
    manualSeed(43);
    auto c = createModel("cnn5", 1, 3)->logits(input).value();
    QCOMPARE(a, b);
    QVERIFY(a != c);
}

void tst_MlZoo::jsonRoundTrip()
{
    Json::Object o{{"name", "knee \"KL\"\n\t\\ ü"},
                   {"n", 3},
                   {"x", 0.1},
                   {"neg", -2.5e-7},
                   {"b", true},
                   {"z", nullptr},
                   {"arr", Json(Json::Array{1, "two", Json(Json::Object{{"k", false}})})}};
    const Json j(o);
    for (int indent : {-1, 2}) {
        Json back;
        std::string error;
        QVERIFY2(Json::parse(j.dump(indent), back, error), error.c_str());
        QCOMPARE(back["name"].toString(), std::string("knee \"KL\"\n\t\\ ü"));
        QCOMPARE(back["n"].toInt(), 3);
        QCOMPARE(back["x"].toNumber(), 0.1);
        QCOMPARE(back["neg"].toNumber(), -2.5e-7);
        QVERIFY(back["b"].toBool());
        QVERIFY(back["z"].isNull() && back.contains("z"));
        QCOMPARE(back["arr"].array().size(), size_t(3));
        QCOMPARE(back["arr"].array()[1].toString(), std::string("two"));
        QVERIFY(back["arr"].array()[2]["k"].isBool());
        QVERIFY(!back.contains("missing"));
    }
    Json u;
    std::string error;
    QVERIFY(Json::parse("\"\\u00e9\\u20ac\"", u, error));
    QCOMPARE(u.toString(),
             std::string("é€")); // Numbers beyond int clamp (no undefined conversion); fractions truncate toward zero.
    Json n;
    QVERIFY(Json::parse("[1e10, -3e9, 1e300, 2147483647, -2.9, 7.9]", n, error));
    QCOMPARE(n.array()[0].toInt(), std::numeric_limits<int>::max());
    QCOMPARE(n.array()[1].toInt(), std::numeric_limits<int>::min());
    QCOMPARE(n.array()[2].toInt(), std::numeric_limits<int>::max());
    QCOMPARE(n.array()[3].toInt(), 2147483647);
    QCOMPARE(n.array()[4].toInt(), -2);
    QCOMPARE(n.array()[5].toInt(), 7);
    // Beyond a double's range is refused, where it is.
    QVERIFY(!Json::parse("[1, 1e400]", n, error));
    QVERIFY2(error.find("1e400") != std::string::npos && error.find("json.exception") == std::string::npos,
             error.c_str());
    // Text that is not UTF-8 is refused without quoting the bytes back.
    QVERIFY(!Json::parse("{\"or\xff\": 1}", n, error));
    QVERIFY2(error.find("UTF-8") != std::string::npos && error.find('\xff') == std::string::npos, error.c_str());
}

void tst_MlZoo::jsonRejectsBadText_data()
{
    QTest::addColumn<QString>("text");
    QTest::newRow("empty") << "";
    QTest::newRow("unterminated object") << "{\"a\": 1";
    QTest::newRow("missing colon") << "{\"a\" 1}";
    QTest::newRow("trailing comma") << "[1, 2,]";
    QTest::newRow("trailing text") << "{} x";
    QTest::newRow("bad literal") << "[tru]";
    QTest::newRow("unterminated string") << "\"abc";
    QTest::newRow("bare word") << "hello";
    QTest::newRow("bad number") << "[1.]";
    QTest::newRow("too deep") << QString(100, '[') + QString(100, ']');
}

void tst_MlZoo::jsonRejectsBadText()
{
    QFETCH(QString, text);
    Json j;
    std::string error;
    QVERIFY(!Json::parse(text.toStdString(), j, error));
    QVERIFY(!error.empty());
    if (QByteArray(QTest::currentDataTag()) != "too deep") // the parser says where
        QVERIFY2(error.rfind("line ", 0) == 0, error.c_str());
}

void tst_MlZoo::cardsWrittenBeforeStillLoad_data()
{
    // Cards as the hand-written JSON writer wrote them, taken from bundles saved before JSON
    // went to nlohmann-json: the shipped knee ensemble (members, calibration, out-of-distribution
    // statistics, Korean display names) and a small network trained by `lightbox-cli train`.
    QTest::addColumn<QString>("file");
    QTest::addColumn<QString>("architecture");
    QTest::addColumn<int>("classes");
    QTest::newRow("knee ensemble") << "card-knee-ensemble-2026-12.json"
                                   << "resnet10s" << 5;
    QTest::newRow("cnn5") << "card-cnn5-2026-12.json"
                          << "cnn5" << 2;
}

void tst_MlZoo::cardsWrittenBeforeStillLoad()
{
    QFETCH(QString, file);
    QFETCH(QString, architecture);
    QFETCH(int, classes);
    const QString path = QStringLiteral(LIGHTBOX_SOURCE_DIR "/tests/data/compat/") + file;
    QFile f(path);
    QVERIFY(f.open(QIODevice::ReadOnly));
    const std::string before = f.readAll().toStdString();
    const auto card = ModelCard::fromJsonText(before);
    QVERIFY2(card.ok(), card.error().c_str());
    QCOMPARE(QString::fromStdString(card->architecture), architecture);
    QCOMPARE(card->numClasses(), classes);
    // Written again and read again: the same text (the writer is stable).
    const std::string now = card->toJsonText();
    const auto again = ModelCard::fromJsonText(now);
    QVERIFY2(again.ok(), again.error().c_str());
    QCOMPARE(again->toJsonText(), now);
    // Python's json module finds every value of the old text, equal, in the new one.
    QTemporaryDir dir;
    QFile out(dir.filePath(QStringLiteral("now.json")));
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(now.c_str(), static_cast<qint64>(now.size()));
    out.close();
    const char* script = R"(
import json, sys
old, new = (json.load(open(p, encoding='utf-8')) for p in sys.argv[1:3])
def within(a, b, where):
    if isinstance(a, dict):
        assert isinstance(b, dict), where
        for k, v in a.items():
            assert k in b, where + '/' + k + ' is missing'
            within(v, b[k], where + '/' + k)
    elif isinstance(a, list):
        assert isinstance(b, list) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            within(x, y, where + '[%d]' % i)
    else:
        assert a == b, '%s: %r != %r' % (where, a, b)
within(old, new, '')
)";
    QProcess py;
    py.start(QStringLiteral("/usr/bin/python3"), {"-c", QString::fromLatin1(script), path, out.fileName()});
    QVERIFY(py.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
}

void tst_MlZoo::shippedBundlesLoad()
{
    // The bundles in models/ (saved before the change to nlohmann-json, until retrained): each
    // loads whole, card and weights, and runs.
    const QDir models(QStringLiteral(LIGHTBOX_SOURCE_DIR "/models"));
    const QStringList bundles = models.entryList({QStringLiteral("*.lbx")}, QDir::Files);
    QVERIFY(!bundles.isEmpty());
    for (const QString& name : bundles) {
        const auto loaded = loadModel(models.filePath(name).toStdString());
        QVERIFY2(loaded.ok(), qPrintable(name + ": " + QString::fromStdString(loaded.error())));
        QVERIFY(loaded->card.numClasses() >= 2);
        QCOMPARE(loaded->card.preprocess.channels, loaded->model.inChannels());
        QCOMPARE(loaded->card.numClasses(), loaded->model.numClasses());
    }
}

void tst_MlZoo::cardRoundTrip()
{
    ModelCard c;
    c.architecture = "densenet121";
    c.task = "knee-kl";
    c.classNames = {"KL0", "KL1", "KL2", "KL3", "KL4"};
    c.ordinal = true;
    c.preprocess.width = 192;
    c.preprocess.height = 160;
    c.preprocess.channels = 1;
    c.preprocess.mean = {0.5f};
    c.preprocess.std = {0.25f};
    c.preprocess.resize = ResizeMode::Bilinear;
    c.trainingSummary = "812 images, 5-fold";
    c.metrics = {{"test_accuracy", 0.71}, {"test_qwk", 0.83}};
    c.created = "2026-01-31T12:00:00Z";
    auto back = ModelCard::fromJsonText(c.toJsonText());
    QVERIFY2(back.ok(), back.error().c_str());
    QCOMPARE(back->architecture, c.architecture);
    QCOMPARE(back->task, c.task);
    QCOMPARE(back->classNames, c.classNames);
    QCOMPARE(back->ordinal, true);
    QCOMPARE(back->preprocess.width, 192);
    QCOMPARE(back->preprocess.height, 160);
    QCOMPARE(back->preprocess.channels, 1);
    QCOMPARE(back->preprocess.mean, c.preprocess.mean);
    QCOMPARE(back->preprocess.std, c.preprocess.std);
    QVERIFY(back->preprocess.resize == ResizeMode::Bilinear);
    QCOMPARE(back->trainingSummary, c.trainingSummary);
    QCOMPARE(back->metrics, c.metrics);
    QCOMPARE(back->created, c.created);
    QCOMPARE(back->formatVersion, ModelCard::kFormatVersion);
    // A card written before class display names existed has none and shows its class names.
    QVERIFY(back->classDisplayNames.empty());
    QVERIFY(c.toJsonText().find("class_display_names") == std::string::npos);
    QCOMPARE(back->displayName(2, "ko"), std::string("KL2"));
    QCOMPARE(back->displayName(5, "ko"), std::string());

    // Korean display names round-trip (UTF-8 kept) and do not change the class names.
    c.classDisplayNames["ko"] = {"KL 0 (정상)", "KL 1 (의심)", "KL 2 (경도)", "KL 3 (중등도)", "KL 4 (중증)"};
    auto named = ModelCard::fromJsonText(c.toJsonText());
    QVERIFY2(named.ok(), named.error().c_str());
    QCOMPARE(named->classNames, c.classNames);
    QCOMPARE(named->classDisplayNames, c.classDisplayNames);
    QCOMPARE(named->displayName(3, "ko"), std::string("KL 3 (중등도)"));
    QCOMPARE(named->displayName(3, "en"), std::string("KL3"));
    // A list that does not name every class, or is not strings, is refused.
    auto o = c.toJson().object();
    o["class_display_names"] = Json(Json::Object{{"ko", Json(Json::Array{Json("정상")})}});
    QVERIFY(!ModelCard::fromJson(Json(o)).ok());
    o["class_display_names"] = Json(Json::Array{});
    QVERIFY(!ModelCard::fromJson(Json(o)).ok());
    c.classDisplayNames.clear();

    // A card whose normalisation does not fit its channels is refused.
    c.preprocess.channels = 3;
    auto bad = ModelCard::fromJsonText(c.toJsonText());
    QVERIFY(!bad.ok());
    QVERIFY(!ModelCard::fromJsonText("{\"format_version\": 1}").ok());
    QVERIFY(!ModelCard::fromJsonText("not json").ok());
    QCOMPARE(isoTimestampUtc().size(), size_t(20));
}

void tst_MlZoo::cardRefusesNewerVersion()
{
    ModelCard c;
    c.architecture = "cnn5";
    c.classNames = {"a", "b"};
    Json j = c.toJson();
    auto o = j.object();
    o["format_version"] = ModelCard::kFormatVersion + 1;
    auto r = ModelCard::fromJson(Json(o));
    QVERIFY(!r.ok());
    QVERIFY2(r.error().find("newer") != std::string::npos, r.error().c_str());
}

void tst_MlZoo::resizeKeepsConstant_data()
{
    QTest::addColumn<int>("sw");
    QTest::addColumn<int>("sh");
    QTest::addColumn<int>("dw");
    QTest::addColumn<int>("dh");
    QTest::addColumn<bool>("area");
    QTest::newRow("area shrink odd") << 37 << 23 << 10 << 7 << true;
    QTest::newRow("area grow") << 5 << 4 << 17 << 9 << true;
    QTest::newRow("bilinear shrink") << 40 << 30 << 13 << 11 << false;
    QTest::newRow("bilinear grow") << 3 << 3 << 8 << 10 << false;
}

void tst_MlZoo::resizeKeepsConstant()
{
    QFETCH(int, sw);
    QFETCH(int, sh);
    QFETCH(int, dw);
    QFETCH(int, dh);
    QFETCH(bool, area);
    std::vector<float> src(static_cast<size_t>(sw) * sh, 3.5f);
    auto out = resizePlane(src.data(), sw, sh, dw, dh, area ? ResizeMode::Area : ResizeMode::Bilinear);
    QCOMPARE(out.size(), static_cast<size_t>(dw) * dh);
    for (float v : out)
        QVERIFY(std::fabs(v - 3.5f) < 1e-5f);
    // A horizontal ramp stays monotonic (flat only where bilinear clamps at the borders).
    for (int y = 0; y < sh; ++y)
        for (int x = 0; x < sw; ++x)
            src[static_cast<size_t>(y) * sw + x] = static_cast<float>(x);
    out = resizePlane(src.data(), sw, sh, dw, dh, area ? ResizeMode::Area : ResizeMode::Bilinear);
    for (int x = 1; x < dw; ++x)
        QVERIFY(out[x] >= out[x - 1]);
    QVERIFY(out[dw - 1] > out[0] + 0.5f * (sw - 1));
}

void tst_MlZoo::areaAveragesBlocks()
{
    // 4x2 -> 2x1: each output is the mean of a 2x2 block.
    const std::vector<float> src{1, 2, 10, 20, 3, 4, 30, 40};
    auto out = resizePlane(src.data(), 4, 2, 2, 1, ResizeMode::Area);
    QCOMPARE(out.size(), size_t(2));
    QCOMPARE(out[0], 2.5f);
    QCOMPARE(out[1], 25.f);
    // 3 -> 2 along x: fractional footprints [0,1.5) and [1.5,3).
    const std::vector<float> row{0, 3, 6};
    out = resizePlane(row.data(), 3, 1, 2, 1, ResizeMode::Area);
    QVERIFY(std::fabs(out[0] - 1.f) < 1e-6f);
    QVERIFY(std::fabs(out[1] - 5.f) < 1e-6f);
}

void tst_MlZoo::bilinearMatchesHalfPixelCentres()
{
    // 2 -> 4 along x: centres at 0.25, 0.75 ... map to source -0.25 (clamped), 0.25, 0.75, 1.25 (clamped).
    const std::vector<float> row{0, 8};
    auto out = resizePlane(row.data(), 2, 1, 4, 1, ResizeMode::Bilinear);
    QCOMPARE(out.size(), size_t(4));
    QCOMPARE(out[0], 0.f);
    QCOMPARE(out[1], 2.f);
    QCOMPARE(out[2], 6.f);
    QCOMPARE(out[3], 8.f);
}

void tst_MlZoo::preprocessConvertsAndNormalises()
{
    RawImage raw;
    raw.width = 4;
    raw.height = 2;
    raw.channels = 3;
    raw.maxValue = 255.f;
    for (int i = 0; i < 8; ++i) {
        raw.data.push_back(255.f); // R
        raw.data.push_back(0.f);   // G
        raw.data.push_back(51.f);  // B
    }
    PreprocessSpec spec;
    spec.width = 2;
    spec.height = 2;
    spec.channels = 3;
    spec.mean = {0.5f, 0.5f, 0.5f};
    spec.std = {0.5f, 0.25f, 0.1f};
    auto in = preprocess(raw, spec);
    QVERIFY2(in.ok(), in.error().c_str());
    QCOMPARE(in->channels, 3);
    QCOMPARE(in->width, 2);
    QCOMPARE(in->height, 2);
    QVERIFY(std::fabs(in->data[0] - 1.f) < 1e-5f); // R: (1 - .5) / .5, planar first plane
    QVERIFY(std::fabs(in->data[4] + 2.f) < 1e-5f); // G: (0 - .5) / .25
    QVERIFY(std::fabs(in->data[8] + 3.f) < 1e-5f); // B: (.2 - .5) / .1

    spec.channels = 1;
    spec.mean = {0.f};
    spec.std = {1.f};
    auto grey = preprocess(raw, spec);
    QVERIFY(grey.ok());
    QVERIFY(std::fabs(grey->data[0] - (0.299f + 0.114f * 0.2f)) < 1e-5f);

    spec.mean = {0.f, 0.f};
    QVERIFY(!preprocess(raw, spec).ok());
    spec.mean = {0.f};
    spec.width = 4096; // beyond the 2048 limit
    QVERIFY(!spec.validate().empty());
    spec.width = 2;
    raw.data.pop_back();
    spec.mean = {0.f};
    QVERIFY(!preprocess(raw, spec).ok());
}

QTEST_APPLESS_MAIN(tst_MlZoo)
#include "tst_MlZoo.moc"
