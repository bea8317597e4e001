// lightbox-cli info and convert, run as a user would: through the executable.
#include "CliRun.h"

#include <QElapsedTimer>
#include <QFileInfo>
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

using Run = lightbox::test::CliRun;

Run cli(const QStringList& args)
{
    return lightbox::test::runProgram(kCli, args, 60000 * LIGHTBOX_TIME_FACTOR);
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
    void everyCommandHasItsHelp_data();
    void everyCommandHasItsHelp();
    void commandLineErrorsNameTheOption_data();
    void commandLineErrorsNameTheOption();
    void overviewListsTheCommands();
    void aStuckJpeg2000DecoderIsStopped();
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

void TestCli::everyCommandHasItsHelp_data()
{
    QTest::addColumn<QString>("command");
    QTest::addColumn<QString>("option"); // one option its help must list
    QTest::newRow("info") << "info"
                          << "--frame N";
    QTest::newRow("convert") << "convert"
                             << "--raw16";
    QTest::newRow("crop") << "crop"
                          << "--dataset DIR";
    QTest::newRow("predict") << "predict"
                             << "--cam-method M";
    QTest::newRow("report") << "report"
                            << "--identify";
    QTest::newRow("export-sc") << "export-sc"
                               << "--out OUT.dcm";
    QTest::newRow("train") << "train"
                           << "--ensemble K";
    QTest::newRow("evaluate") << "evaluate"
                              << "--splits CSV|DIR";
    QTest::newRow("calibrate") << "calibrate"
                               << "--percentile P";
    QTest::newRow("shortcut-check") << "shortcut-check"
                                    << "--blank F";
    QTest::newRow("ensemble") << "ensemble"
                              << "--out OUT.lbx";
    QTest::newRow("pacs") << "pacs"
                          << "find";
    QTest::newRow("version") << "version"
                             << "";
}

void TestCli::everyCommandHasItsHelp()
{
    QFETCH(QString, command);
    QFETCH(QString, option);
    for (const QStringList& args : {QStringList{command, "--help"}, QStringList{"help", command}}) {
        const Run r = cli(args);
        QCOMPARE(r.exitCode, 0);
        QVERIFY2(r.err.isEmpty(), r.err.constData());
        const QString out = QString::fromUtf8(r.out);
        QVERIFY2(out.startsWith("usage: lightbox-cli " + command), qPrintable(out));
        if (!option.isEmpty())
            QVERIFY2(out.contains("  " + option), qPrintable(out));
    }
}

void TestCli::commandLineErrorsNameTheOption_data()
{
    const QString ct = kPydicom + "/CT_small.dcm";
    QTest::addColumn<QStringList>("args");
    QTest::addColumn<QString>("says");
    QTest::newRow("unknown option") << QStringList{"info", ct, "--jsno"} << "Unknown option '--jsno'";
    QTest::newRow("missing value") << QStringList{"info", ct, "--frame"} << "Missing value after '--frame'";
    QTest::newRow("frame below range") << QStringList{"info", ct, "--frame", "-1"}
                                       << "--frame must be a whole number 0 or more (got '-1')";
    QTest::newRow("two files for info") << QStringList{"info", ct, ct} << "takes FILE besides its options (got 2";
    QTest::newRow("required option") << QStringList{"report", ct, "--out", "/tmp/never.pdf"} << "--model M is required";
    QTest::newRow("epochs out of range") << QStringList{"train", "--data",     "/nonexistent", "--arch", "cnn5",
                                                        "--out", "/tmp/never", "--epochs",     "0"}
                                         << "--epochs must be a whole number from 1 to 100000 (got '0')";
    QTest::newRow("learning rate") << QStringList{"train", "--data",     "/nonexistent", "--arch", "cnn5",
                                                  "--out", "/tmp/never", "--lr",         "fast"}
                                   << "--lr must be a number from 1e-09 to 10 (got 'fast')";
    QTest::newRow("optimizer") << QStringList{"train", "--data",     "/nonexistent", "--arch", "cnn5",
                                              "--out", "/tmp/never", "--optimizer",  "adagrad"}
                               << "--optimizer must be adam, adamw or sgd (got 'adagrad')";
    QTest::newRow("ensemble size") << QStringList{"train", "--data",     "/nonexistent", "--arch", "cnn5",
                                                  "--out", "/tmp/never", "--ensemble",   "40"}
                                   << "--ensemble must be a whole number from 1 to 32 (got '40')";
    QTest::newRow("batch") << QStringList{"evaluate",     "--model", "/nonexistent.lbx", "--data",
                                          "/nonexistent", "--batch", "99999999"}
                           << "--batch must be a whole number from 1 to 65536 (got '99999999')";
    QTest::newRow("percentile") << QStringList{"calibrate",    "--model", "/nonexistent.lbx", "--data", "/nonexistent",
                                               "--percentile", "10"}
                                << "--percentile must be a number from 50 to 100 (got '10')";
    QTest::newRow("threads") << QStringList{"predict", "--model", "/nonexistent.lbx", "--threads", "-3", ct}
                             << "--threads must be a whole number from 0 to 1024 (got '-3')";
    QTest::newRow("crop size") << QStringList{"crop", ct,          "--roi",      "0,0,10,10", "--label",
                                              "a",    "--dataset", "/tmp/never", "--size",    "0"}
                               << "--size must be a whole number from 1 to 8192 (got '0')";
    QTest::newRow("roi") << QStringList{"crop", ct, "--roi", "0,0,-4,10", "--label", "a", "--dataset", "/tmp/never"}
                         << "--roi needs X,Y,W,H";
    QTest::newRow("blank") << QStringList{"shortcut-check", "--data", "/nonexistent", "--blank", "1.5"}
                           << "--blank must be a number from 0 to 0.99 (got '1.5')";
}

void TestCli::commandLineErrorsNameTheOption()
{
    QFETCH(QStringList, args);
    QFETCH(QString, says);
    const Run r = cli(args);
    QCOMPARE(r.exitCode, 2); // a command-line error, before any work
    const QString err = QString::fromUtf8(r.err).trimmed();
    QVERIFY2(!err.contains('\n'), qPrintable(err));
    QVERIFY2(err.startsWith("lightbox-cli " + args.first() + ": "), qPrintable(err));
    QVERIFY2(err.contains(says), qPrintable(err));
    QVERIFY2(err.contains("lightbox-cli " + args.first() + " --help"), qPrintable(err));
    QVERIFY(r.out.isEmpty());
}

void TestCli::overviewListsTheCommands()
{
    const Run none = cli({});
    QCOMPARE(none.exitCode, 2);
    const Run help = cli({"--help"});
    QCOMPARE(help.exitCode, 0);
    for (const char* c : {"info", "convert", "crop", "predict", "report", "export-sc", "train", "evaluate", "calibrate",
                          "shortcut-check", "ensemble", "pacs", "version"})
        QVERIFY2(help.out.contains(QByteArray("\n  ") + c + ' '), c);
    const Run unknown = cli({"trian"});
    QCOMPARE(unknown.exitCode, 2);
    QVERIFY(unknown.err.startsWith("lightbox-cli: unknown command 'trian'"));
}

/// HTJ2K frames decode in a child process; one that never finishes (held here by a fault point
/// that stops it) is killed after the time limit, and the load fails with one line.
void TestCli::aStuckJpeg2000DecoderIsStopped()
{
    const QString file = QStringLiteral(LIGHTBOX_SOURCE_DIR "/tests/data/htj2k/htj2k_lossless_grey12.dcm");
    QVERIFY(QFileInfo::exists(file));
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("LIGHTBOX_FAULT_POINT", "j2k-decoder-child:1:stop");
    env.insert("LIGHTBOX_J2K_TIMEOUT_S", "2");
    p.setProcessEnvironment(env);
    QElapsedTimer clock;
    clock.start();
    p.start(kCli, {"info", file});
    QVERIFY(p.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR));
    const qint64 ms = clock.elapsed();
    QCOMPARE(p.exitCode(), 1);
    const QString err = QString::fromUtf8(p.readAllStandardError()).trimmed();
    QVERIFY2(err.contains("did not finish within 2 s") && !err.contains('\n'), qPrintable(err));
    QVERIFY2(ms >= 2000 && ms < 30000 * LIGHTBOX_TIME_FACTOR, qPrintable(QString::number(ms)));
    // Without the fault the same file decodes.
    const Run ok = cli({"info", file});
    QCOMPARE(ok.exitCode, 0);
    // A JPEG 2000 frame without the HT coder decodes in the process itself (its entropy-coded
    // bytes that look like markers do not count): with the child held it still opens, where a
    // child would have been stopped after 2 s with the message above.
    QProcess plain;
    plain.setProcessEnvironment(env);
    plain.start(kCli, {"info", kShared + "/dicom/chest-cr-RG1_J2KI.dcm"});
    QVERIFY(plain.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR));
    QVERIFY2(plain.exitCode() == 0, plain.readAllStandardError().constData());
}

QTEST_GUILESS_MAIN(TestCli)
#include "tst_cli.moc"
