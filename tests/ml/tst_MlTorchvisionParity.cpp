// The zoo's ResNet-18/50, DenseNet-121 and EfficientNet-B0 compute what torchvision's do:
// given torchvision's tensors (random weights and batch-norm statistics) in registration
// order, the logits agree. This checks the wiring (strides, padding, concatenation order,
// squeeze-excitation, activations), not just parameter counts.
// LibTorch comes first: it must not meet Qt's `slots` macro.
#include <ml/detail/ModelImpl.h>

#include <ml/Json.h>
#include <ml/Runtime.h>

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

using namespace lightbox::ml;

class tst_MlTorchvisionParity : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void sameLogits_data();
    void sameLogits();

private:
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

void tst_MlTorchvisionParity::initTestCase()
{
    QVERIFY(m_dir.isValid());
    configureThreads(0);
}

void tst_MlTorchvisionParity::sameLogits_data()
{
    QTest::addColumn<QString>("arch");
    QTest::addColumn<int>("size");
    QTest::newRow("resnet18") << "resnet18" << 64;
    QTest::newRow("resnet50") << "resnet50" << 64;
    QTest::newRow("densenet121") << "densenet121" << 64;
    QTest::newRow("efficientnet_b0") << "efficientnet_b0" << 64;
}

void tst_MlTorchvisionParity::sameLogits()
{
    QFETCH(QString, arch);
    QFETCH(int, size);
    const int classes = 5;
    const QString out = m_dir.filePath(arch);
    QProcess p;
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(LIGHTBOX_TORCH_PYTHON, {LIGHTBOX_SOURCE_DIR "/tests/ml/torchvision_reference.py", arch,
                                    QString::number(classes), QString::number(size), out});
    QVERIFY(p.waitForFinished(120000 * LIGHTBOX_TIME_FACTOR));
    QVERIFY2(p.exitCode() == 0, p.readAll().constData());

    QFile indexFile(out + "/index.json");
    QVERIFY(indexFile.open(QIODevice::ReadOnly));
    Json index;
    std::string error;
    QVERIFY2(Json::parse(indexFile.readAll().toStdString(), index, error), error.c_str());
    const auto tensors = readFloats(out + "/tensors.bin");

    auto net = lightbox::ml::detail::createNet(arch.toStdString(), 3, classes, error);
    QVERIFY2(net, error.c_str());
    std::vector<torch::Tensor> ours;
    for (auto& t : net->parameters())
        ours.push_back(t);
    const size_t paramCount = ours.size();
    for (auto& b : net->named_buffers())
        if (b.key().find("num_batches_tracked") == std::string::npos)
            ours.push_back(b.value());
    const auto& theirs = index["parameters"].array();
    const auto& theirBuffers = index["buffers"].array();
    QCOMPARE(ours.size(), theirs.size() + theirBuffers.size());
    QCOMPARE(paramCount, theirs.size());

    torch::NoGradGuard noGrad;
    size_t offset = 0;
    for (size_t i = 0; i < ours.size(); ++i) {
        const Json& entry = i < paramCount ? theirs[i] : theirBuffers[i - paramCount];
        std::vector<int64_t> shape;
        for (const auto& d : entry.array()[1].array())
            shape.push_back(d.toInt());
        QVERIFY2(ours[i].sizes() == torch::IntArrayRef(shape),
                 qPrintable(QString("tensor %1 (%2) has a different shape")
                                .arg(i)
                                .arg(QString::fromStdString(entry.array()[0].toString()))));
        const int64_t n = ours[i].numel();
        QVERIFY(offset + static_cast<size_t>(n) <= tensors.size());
        ours[i].copy_(torch::from_blob(const_cast<float*>(tensors.data() + offset), shape, torch::kFloat32));
        offset += static_cast<size_t>(n);
    }
    QCOMPARE(offset, tensors.size());

    net->eval();
    auto input = readFloats(out + "/input.bin");
    auto x = torch::from_blob(input.data(), {1, 3, size, size}, torch::kFloat32);
    auto y = net->forward(x).contiguous();
    const auto expected = readFloats(out + "/logits.bin");
    QCOMPARE(static_cast<size_t>(y.numel()), expected.size());
    auto ref = torch::from_blob(const_cast<float*>(expected.data()), {1, classes}, torch::kFloat32);
    const float diff = (y - ref).abs().max().item().toFloat();
    const float scale = ref.abs().max().item().toFloat();
    qInfo("%s: max |zoo - torchvision| = %.3g (logits up to %.3g)", qPrintable(arch), diff, scale);
    QVERIFY(scale > 1e-3f); // the comparison is not between two near-zero vectors
    QVERIFY2(diff <= 1e-4f * std::max(1.f, scale), qPrintable(QString("logits differ by %1").arg(diff)));
}

QTEST_APPLESS_MAIN(tst_MlTorchvisionParity)
#include "tst_MlTorchvisionParity.moc"
