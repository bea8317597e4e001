// lightbox-cli info and convert, run as a user would: through the executable.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

namespace {

const QString kCli = QStringLiteral(LIGHTBOX_BINARY_DIR) + "/app/lightbox-cli";
const QString kShared = QStringLiteral(LIGHTBOX_SHARED_DATA);
const QString kPydicom = QStringLiteral(LIGHTBOX_PYDICOM_FILES);

struct Run {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

Run cli(const QStringList& args)
{
    QProcess p;
    p.start(kCli, args);
    Run r;
    if (!p.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR)) {
        p.kill();
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

private slots:
    void infoJson();
    void infoTagsDumpsEverything();
    void convertWindowed8Bit();
    void convertRaw16KeepsValues();
    void windowChangesOutput();
    void frameSelection();
    void failuresAreOneLineAndNonZero_data();
    void failuresAreOneLineAndNonZero();
};

void TestCli::infoJson()
{
    const Run r = cli({"info", kShared + "/dicom/chest-cr-RG1_J2KI.dcm", "--json"});
    QCOMPARE(r.exitCode, 0);
    QJsonParseError pe;
    const QJsonObject o = QJsonDocument::fromJson(r.out, &pe).object();
    QVERIFY2(pe.error == QJsonParseError::NoError, qPrintable(pe.errorString()));
    QCOMPARE(o.value("width").toInt(), 1841);
    QCOMPARE(o.value("height").toInt(), 1955);
    QCOMPARE(o.value("photometric").toString(), QString("MONOCHROME1"));
    QCOMPARE(o.value("transferSyntaxUid").toString(), QString("1.2.840.10008.1.2.4.91"));
    QCOMPARE(o.value("frames").toInt(), 1);
    QCOMPARE(o.value("windows").toArray().size(), 1);
    QCOMPARE(o.value("windows").toArray().at(0).toObject().value("center").toDouble(), 15000.0);
    QVERIFY(o.value("autoWindow").toObject().value("width").toDouble() > 0);
    QCOMPARE(o.value("tags").toObject().value("Modality").toString(), QString("CR"));

    const Run rsna = cli({"info", kShared + "/dicom/chest-cr-rsna-jpegbaseline.dcm", "--json"});
    QCOMPARE(rsna.exitCode, 0);
    const QString rsnaText = QString::fromUtf8(rsna.out);
    QVERIFY2(rsnaText.contains("0.168"), "pixel spacing reported");

    // A plain PNG is described too.
    const Run png =
        cli({"info", kShared + "/knee-kl/val/2/" + QDir(kShared + "/knee-kl/val/2").entryList({"*.png"}).value(0),
             "--json"});
    QCOMPARE(png.exitCode, 0);
    const QJsonObject p = QJsonDocument::fromJson(png.out).object();
    QCOMPARE(p.value("width").toInt(), 224);
    QCOMPARE(p.value("format").toString(), QString("PNG"));
}

void TestCli::infoTagsDumpsEverything()
{
    const Run plain = cli({"info", kPydicom + "/rtdose.dcm"});
    const Run tags = cli({"info", kPydicom + "/rtdose.dcm", "--tags"});
    QCOMPARE(tags.exitCode, 0);
    QVERIFY(tags.out.size() > plain.out.size() + 1000);
    QVERIFY(tags.out.contains("(0002,0010)"));
    QVERIFY(tags.out.contains("(300c,0002)") || tags.out.contains("(300C,0002)")); // inside a sequence
}

void TestCli::convertWindowed8Bit()
{
    const QString out = m_tmp.filePath("chest.png");
    const Run r = cli({"convert", kShared + "/dicom/chest-cr-RG1_J2KI.dcm", out});
    QCOMPARE(r.exitCode, 0);
    const cv::Mat m = cv::imread(out.toStdString(), cv::IMREAD_UNCHANGED);
    QCOMPARE(m.cols, 1841);
    QCOMPARE(m.rows, 1955);
    QCOMPARE(m.type(), CV_8UC1);
    double lo, hi;
    cv::minMaxLoc(m, &lo, &hi);
    QVERIFY(hi - lo > 200);
}

void TestCli::convertRaw16KeepsValues()
{
    const QString out = m_tmp.filePath("tibia16.png");
    const Run r = cli({"convert", kShared + "/dicom/tibia-cr-RG3_J2KR.dcm", out, "--raw16"});
    QCOMPARE(r.exitCode, 0);
    const cv::Mat m = cv::imread(out.toStdString(), cv::IMREAD_UNCHANGED);
    QCOMPARE(m.type(), CV_16UC1);
    // The lossless original converted the same way gives identical values.
    const QString out2 = m_tmp.filePath("tibia16raw.png");
    QCOMPARE(cli({"convert", kShared + "/dicom/tibia-cr-RG3_raw.dcm", out2, "--raw16"}).exitCode, 0);
    const cv::Mat m2 = cv::imread(out2.toStdString(), cv::IMREAD_UNCHANGED);
    QCOMPARE(cv::norm(m, m2, cv::NORM_INF), 0.0);
    double lo, hi;
    cv::minMaxLoc(m, &lo, &hi);
    QVERIFY(hi > 255); // real 10-bit values, not an 8-bit rendering
}

void TestCli::windowChangesOutput()
{
    const QString a = m_tmp.filePath("w1.png"), b = m_tmp.filePath("w2.png");
    const QString src = kPydicom + "/CT_small.dcm";
    QCOMPARE(cli({"convert", src, a, "--window", "40,400"}).exitCode, 0);
    QCOMPARE(cli({"convert", src, b, "--window", "300,1500"}).exitCode, 0);
    const cv::Mat ma = cv::imread(a.toStdString(), cv::IMREAD_UNCHANGED);
    const cv::Mat mb = cv::imread(b.toStdString(), cv::IMREAD_UNCHANGED);
    QCOMPARE(ma.size(), mb.size());
    QVERIFY(cv::norm(ma, mb, cv::NORM_L1) > ma.total()); // mean difference above one level
    // A narrow soft-tissue window saturates more pixels than a wide one.
    QVERIFY(cv::countNonZero(ma == 255) + cv::countNonZero(ma == 0) >
            cv::countNonZero(mb == 255) + cv::countNonZero(mb == 0));
}

void TestCli::frameSelection()
{
    const QString src = kPydicom + "/SC_rgb_rle_2frame.dcm";
    const QString f0 = m_tmp.filePath("f0.png"), f1 = m_tmp.filePath("f1.png");
    QCOMPARE(cli({"convert", src, f0, "--frame", "0"}).exitCode, 0);
    QCOMPARE(cli({"convert", src, f1, "--frame", "1"}).exitCode, 0);
    const cv::Mat m0 = cv::imread(f0.toStdString()), m1 = cv::imread(f1.toStdString());
    QVERIFY(cv::norm(m0, m1, cv::NORM_INF) > 0);
    const Run bad = cli({"convert", src, m_tmp.filePath("f5.png"), "--frame", "5"});
    QVERIFY(bad.exitCode != 0);
    QVERIFY(bad.err.contains("frame"));
}

void TestCli::failuresAreOneLineAndNonZero_data()
{
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("mentions");
    QTest::newRow("missing file") << QStringList{"info", "/nonexistent/x.dcm"} << "x.dcm";
    QTest::newRow("truncated dicom") << QStringList{"info", kPydicom + "/MR_truncated.dcm"} << "MR_truncated.dcm";
    QTest::newRow("report, no image") << QStringList{"convert", kPydicom + "/test-SR.dcm", "/tmp/never.png"}
                                      << "no pixel data";
    QTest::newRow("bad window") << QStringList{"convert", kPydicom + "/CT_small.dcm", "/tmp/never.png", "--window",
                                               "abc"}
                                << "window";
    QTest::newRow("unwritable output") << QStringList{"convert", kPydicom + "/CT_small.dcm", "/nonexistent/dir/o.png"}
                                       << "o.png";
}

void TestCli::failuresAreOneLineAndNonZero()
{
    QFETCH(QStringList, args);
    QFETCH(QString, mentions);
    const Run r = cli(args);
    QVERIFY(r.exitCode > 0);
    const QString err = QString::fromUtf8(r.err).trimmed();
    QVERIFY2(!err.isEmpty() && !err.contains('\n'), qPrintable(err));
    QVERIFY2(err.contains(mentions, Qt::CaseInsensitive), qPrintable(err));
    QVERIFY(r.out.isEmpty());
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
