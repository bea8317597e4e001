// Export from the viewer and the CLI: File > Export View writes the view as PNG with or
// without overlays, as on screen or at native resolution; File > Export DICOM writes a
// Secondary Capture of the rendered view in the original study, read back here by Lightbox's
// DCMTK reader and by pydicom (UIDs, patient and study, Derivation Description, pixels); a PNG
// source gets de-identified placeholders; `lightbox-cli export-sc` does the same headless.
// File > Export Report and `lightbox-cli report` write a one-page PDF, checked with poppler's
// pdftotext (class, model, measurements, the disclaimer, no patient name unless asked) and
// rendered with pdftoppm.
#include <Annotations.h>
#include <ImageViewer.h>
#include <MainWindow.h>
#include <imaging/DicomWriter.h>
#include <imaging/ImageLoader.h>
#include <imaging/Render.h>

#include <QCryptographicHash>
#include <QDir>
#include <QImage>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <memory>

using namespace lightbox;
using ui::Annotation;
using ui::MainWindow;

namespace {

const QString kChest = QStringLiteral(LIGHTBOX_SHARED_DATA "/dicom/chest-cr-rsna-jpegbaseline.dcm");

/// pydicom's view of a file: the attributes the test checks and the MD5 of its pixels.
QJsonObject pydicomRead(const QString& path)
{
    const char* script = R"(
import hashlib, json, sys
import pydicom
d = pydicom.dcmread(sys.argv[1])
a = d.pixel_array
print(json.dumps({k: str(d.get(k, '')) for k in ('SOPClassUID', 'SOPInstanceUID', 'SeriesInstanceUID',
    'StudyInstanceUID', 'PatientName', 'PatientID', 'PatientIdentityRemoved', 'DerivationDescription',
    'ImageType', 'BurnedInAnnotation', 'PhotometricInterpretation')} | {'shape': list(a.shape),
    'md5': hashlib.md5(a.tobytes()).hexdigest()}))
)";
    QProcess py;
    py.start(QStringLiteral("/usr/bin/python3"), {"-c", QString::fromLatin1(script), path});
    if (!py.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR) || py.exitCode() != 0) {
        qWarning("%s", py.readAllStandardError().constData());
        return {};
    }
    return QJsonDocument::fromJson(py.readAllStandardOutput()).object();
}

QString md5(const cv::Mat& m)
{
    const cv::Mat c = m.isContinuous() ? m : m.clone();
    return QString::fromLatin1(
        QCryptographicHash::hash(QByteArray::fromRawData(reinterpret_cast<const char*>(c.data),
                                                         static_cast<qsizetype>(c.total() * c.elemSize())),
                                 QCryptographicHash::Md5)
            .toHex());
}

cv::Mat rgbOf(const QImage& image)
{
    const QImage rgb = image.convertToFormat(QImage::Format_RGB888);
    return cv::Mat(rgb.height(), rgb.width(), CV_8UC3, const_cast<uchar*>(rgb.constBits()),
                   static_cast<size_t>(rgb.bytesPerLine()))
        .clone();
}

} // namespace

class tst_Export : public QObject {
    Q_OBJECT
private slots:
    void initTestCase()
    {
        QVERIFY(m_settings.isValid() && m_out.isValid());
        QSettings::setDefaultFormat(QSettings::IniFormat);
        QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settings.path());
        QCoreApplication::setOrganizationName(QStringLiteral("LightboxTest"));
        QCoreApplication::setApplicationName(QStringLiteral("tst_export"));
        QStandardPaths::setTestModeEnabled(true);
        if (!QFile::exists(kChest))
            QSKIP("the shared DICOM files are missing");
        m_window = std::make_unique<MainWindow>();
        m_window->setInteractive(false);
        m_window->setSynchronousLoading(true);
        m_window->resize(1200, 800);
        m_window->show();
        QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    }

    void cleanupTestCase()
    {
        m_window.reset();
        QDir(ui::AnnotationLayer::storageFolder()).removeRecursively();
    }

    void viewAsPng()
    {
        QVERIFY(m_window->openFile(kChest));
        const auto img = m_window->image();
        m_window->viewer()->annotations()->add({Annotation::Kind::Ruler, {QPointF(100, 500), QPointF(600, 500)}, {}});

        // Native resolution, image only: exactly the windowed rendering of the stored pixels.
        const QString plain = m_out.filePath(QStringLiteral("plain.png"));
        QVERIFY2(m_window->exportViewTo(plain, false, true), qPrintable(m_window->lastError()));
        const cv::Mat png = cv::imread(plain.toStdString(), cv::IMREAD_COLOR);
        QCOMPARE(png.cols, img->width());
        QCOMPARE(png.rows, img->height());
        imaging::RenderParams params;
        params.window = m_window->viewer()->window();
        cv::Mat grey = imaging::render8(*img, params), expected;
        cv::cvtColor(grey, expected, cv::COLOR_GRAY2BGR);
        QCOMPARE(cv::norm(png, expected, cv::NORM_INF), 0.0);

        // With the overlays the ruler and the corner text are drawn in: pixels differ.
        const QString marked = m_out.filePath(QStringLiteral("marked.png"));
        QVERIFY(m_window->exportViewTo(marked, true, true));
        const cv::Mat withOverlays = cv::imread(marked.toStdString(), cv::IMREAD_COLOR);
        QCOMPARE(withOverlays.size(), png.size());
        QVERIFY(cv::countNonZero(cv::Mat(cv::abs(withOverlays - png)).reshape(1)) > 500);

        // As on screen: the viewer's size.
        const QString screen = m_out.filePath(QStringLiteral("screen.png"));
        QVERIFY(m_window->exportViewTo(screen, true, false));
        QCOMPARE(QImage(screen).size(), m_window->viewer()->size());
    }

    void dicomSecondaryCapture()
    {
        QVERIFY(m_window->openFile(kChest));
        const auto img = m_window->image();
        const QString out = m_out.filePath(QStringLiteral("sc.dcm"));
        QVERIFY2(m_window->exportDicomTo(out), qPrintable(m_window->lastError()));
        const cv::Mat expected = rgbOf(m_window->viewer()->renderView(true, true));

        // Lightbox's own reader (DCMTK): an RGB image of the view's pixels.
        auto back = imaging::loadImage(out.toStdString());
        QVERIFY2(back, back ? "" : back.error().c_str());
        QCOMPARE(back->channels(), 3);
        QCOMPARE(cv::norm(back->pixels, expected, cv::NORM_INF), 0.0);
        QCOMPARE(back->keyTag("StudyInstanceUID"), img->keyTag("StudyInstanceUID"));
        QCOMPARE(back->keyTag("PatientName"), img->keyTag("PatientName"));

        // pydicom: the same pixels and the attributes of a Secondary Capture in the study.
        const QJsonObject d = pydicomRead(out);
        QVERIFY(!d.isEmpty());
        QCOMPARE(d["SOPClassUID"].toString(), QStringLiteral("1.2.840.10008.5.1.4.1.1.7"));
        QCOMPARE(d["StudyInstanceUID"].toString().toStdString(), img->keyTag("StudyInstanceUID"));
        QVERIFY(d["SeriesInstanceUID"].toString().toStdString() != img->keyTag("SeriesInstanceUID"));
        QVERIFY(d["SOPInstanceUID"].toString().toStdString() != img->keyTag("SOPInstanceUID"));
        QCOMPARE(d["PatientID"].toString().toStdString(), img->keyTag("PatientID"));
        QVERIFY(d["DerivationDescription"].toString().startsWith(QLatin1String("Lightbox view of ")));
        QCOMPARE(d["BurnedInAnnotation"].toString(), QStringLiteral("YES"));
        QCOMPARE(d["PhotometricInterpretation"].toString(), QStringLiteral("RGB"));
        QCOMPARE(d["md5"].toString(), md5(expected));
        QCOMPARE(d["shape"].toArray().at(2).toInt(), 3);
    }

    /// The report as a DICOM Encapsulated PDF (what the PACS dock sends): pydicom reads the
    /// PDF back byte for byte, in the study of the image, with the module's attributes.
    void reportAsEncapsulatedPdf()
    {
        QVERIFY(m_window->openFile(kChest));
        const auto img = m_window->image();
        const QString pdf = m_out.filePath(QStringLiteral("report-for-dicom.pdf"));
        QVERIFY2(m_window->exportReportTo(pdf, true), qPrintable(m_window->lastError()));
        QFile f(pdf);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        const QString out = m_out.filePath(QStringLiteral("report.dcm"));
        auto written = imaging::writeEncapsulatedPdf(bytes.toStdString(), *img, "Lightbox report", out.toStdString());
        QVERIFY2(written, written ? "" : written.error().c_str());
        QCOMPARE(written->studyInstanceUid, img->keyTag("StudyInstanceUID"));
        QVERIFY(!imaging::writeEncapsulatedPdf("not a pdf", *img, "x", out.toStdString() + "-bad"));

        const char* script = R"(
import hashlib, json, sys
import pydicom
d = pydicom.dcmread(sys.argv[1])
doc = bytes(d.EncapsulatedDocument)[:int(d.get('EncapsulatedDocumentLength', len(d.EncapsulatedDocument)))]
print(json.dumps({k: str(d.get(k, '')) for k in ('SOPClassUID', 'StudyInstanceUID', 'PatientID', 'Modality',
    'MIMETypeOfEncapsulatedDocument', 'DocumentTitle', 'BurnedInAnnotation')} | {'md5': hashlib.md5(doc).hexdigest(),
    'conceptName': 'ConceptNameCodeSequence' in d}))
)";
        QProcess py;
        py.start(QStringLiteral("/usr/bin/python3"), {"-c", QString::fromLatin1(script), out});
        QVERIFY(py.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR));
        QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
        const QJsonObject d = QJsonDocument::fromJson(py.readAllStandardOutput()).object();
        QCOMPARE(d["SOPClassUID"].toString(), QStringLiteral("1.2.840.10008.5.1.4.1.1.104.1"));
        QCOMPARE(d["StudyInstanceUID"].toString().toStdString(), img->keyTag("StudyInstanceUID"));
        QCOMPARE(d["PatientID"].toString().toStdString(), img->keyTag("PatientID"));
        QCOMPARE(d["Modality"].toString(), QStringLiteral("DOC"));
        QCOMPARE(d["MIMETypeOfEncapsulatedDocument"].toString(), QStringLiteral("application/pdf"));
        QCOMPARE(d["DocumentTitle"].toString(), QStringLiteral("Lightbox report"));
        QVERIFY(d["conceptName"].toBool());
        QCOMPARE(d["md5"].toString(),
                 QString::fromLatin1(QCryptographicHash::hash(bytes, QCryptographicHash::Md5).toHex()));
    }

    void pngSourceIsDeidentified()
    {
        const QString png = m_out.filePath(QStringLiteral("Smith_John_knee.png"));
        cv::Mat grey(200, 300, CV_8UC1);
        cv::randu(grey, 0, 255);
        QVERIFY(cv::imwrite(png.toStdString(), grey));
        QVERIFY(m_window->openFile(png));
        const QString out = m_out.filePath(QStringLiteral("sc-png.dcm"));
        QVERIFY(m_window->exportDicomTo(out));
        const QJsonObject d = pydicomRead(out);
        QCOMPARE(d["PatientName"].toString(), QStringLiteral("ANONYMOUS"));
        QCOMPARE(d["PatientIdentityRemoved"].toString(), QStringLiteral("YES"));
        QVERIFY(d["PatientID"].toString().startsWith(QLatin1String("LB-")));
        QFile f(out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY2(!f.readAll().contains("Smith"), "no trace of the file's name in the DICOM file");
    }

    void cliExportSc()
    {
        const QString cli = QStringLiteral(LIGHTBOX_BINARY_DIR "/app/lightbox-cli");
        const QString model = QStringLiteral(LIGHTBOX_SOURCE_DIR "/models/chest-4class-resnet10s.lbx");
        const QString out = m_out.filePath(QStringLiteral("cli-sc.dcm"));
        QProcess p;
        p.start(cli, {"export-sc", kChest, "--out", out, "--model", model, "--device", "cpu"});
        QVERIFY(p.waitForFinished(120000 * LIGHTBOX_TIME_FACTOR));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const QJsonObject d = pydicomRead(out);
        auto src = imaging::loadImage(kChest.toStdString());
        QVERIFY(src);
        QCOMPARE(d["StudyInstanceUID"].toString().toStdString(), src->keyTag("StudyInstanceUID"));
        QVERIFY2(d["DerivationDescription"].toString().contains(QLatin1String("Grad-CAM heat map of")),
                 qPrintable(d["DerivationDescription"].toString()));
        QCOMPARE(d["shape"].toArray().at(0).toInt(), src->height());
        // Bad input: one line, exit 1.
        p.start(cli, {"export-sc", m_out.filePath(QStringLiteral("missing.dcm")), "--out", out});
        QVERIFY(p.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR));
        QCOMPARE(p.exitCode(), 1);
        QCOMPARE(QString::fromLocal8Bit(p.readAllStandardError()).trimmed().count('\n'), 0);
    }

    void pdfReports()
    {
        if (QStandardPaths::findExecutable(QStringLiteral("pdftotext")).isEmpty() ||
            QStandardPaths::findExecutable(QStringLiteral("pdftoppm")).isEmpty())
            QSKIP("poppler-utils (pdftotext, pdftoppm) is not installed: scripts/setup.sh installs it");
        const auto text = [](const QString& pdf) {
            QProcess p;
            p.start(QStringLiteral("pdftotext"), {pdf, QStringLiteral("-")});
            p.waitForFinished(30000 * LIGHTBOX_TIME_FACTOR);
            return QString::fromUtf8(p.readAllStandardOutput());
        };
        // From the GUI: with a measurement, de-identified and identified.
        QVERIFY(m_window->openFile(kChest));
        const auto img = m_window->image();
        const QString name = QString::fromStdString(img->keyTag("PatientName"));
        QVERIFY(!name.isEmpty());
        m_window->viewer()->annotations()->add({Annotation::Kind::Ruler, {QPointF(100, 500), QPointF(600, 500)}, {}});
        const QString anonymous = m_out.filePath(QStringLiteral("report.pdf"));
        QVERIFY2(m_window->exportReportTo(anonymous, false), qPrintable(m_window->lastError()));
        const QString t = text(anonymous);
        QVERIFY2(t.contains(QLatin1String("Research software, not for clinical use")), qPrintable(t));
        QVERIFY2(t.contains(QLatin1String("Ruler: 84.0 mm")), qPrintable(t)); // 500 px x 0.168 mm
        QVERIFY2(!t.contains(name) && !t.contains(QString::fromStdString(img->keyTag("PatientID"))), qPrintable(t));
        QVERIFY(t.contains(QLatin1String("no patient name or ID")));
        const QString named = m_out.filePath(QStringLiteral("report-named.pdf"));
        QVERIFY(m_window->exportReportTo(named, true));
        QVERIFY(text(named).contains(name));

        // From the CLI: classified, rendered to PNG by pdftoppm.
        const QString cli = QStringLiteral(LIGHTBOX_BINARY_DIR "/app/lightbox-cli");
        const QString model = QStringLiteral(LIGHTBOX_SOURCE_DIR "/models/chest-4class-resnet10s.lbx");
        const QString pdf = m_out.filePath(QStringLiteral("cli-report.pdf"));
        QProcess p;
        p.start(cli, {"report", "--model", model, "--out", pdf, "--device", "cpu", kChest});
        QVERIFY(p.waitForFinished(120000 * LIGHTBOX_TIME_FACTOR));
        QVERIFY2(p.exitCode() == 0, p.readAllStandardError().constData());
        const QString ct = text(pdf);
        QVERIFY2(ct.contains(QLatin1String("chest-4class-resnet10s.lbx")), qPrintable(ct));
        QVERIFY2(ct.contains(QStringLiteral("► Pneumonia")) || ct.contains(QStringLiteral("► Normal")) ||
                     ct.contains(QStringLiteral("► COVID-19")),
                 qPrintable(ct)); // the top class, marked
        QVERIFY(!ct.contains(name));
        p.start(QStringLiteral("pdftoppm"), {"-r", "50", "-png", "-singlefile", pdf, m_out.filePath("page")});
        QVERIFY(p.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR) && p.exitCode() == 0);
        const QImage page(m_out.filePath(QStringLiteral("page.png")));
        QVERIFY(!page.isNull());
        QVERIFY(std::abs(double(page.height()) / page.width() - 297.0 / 210.0) < 0.02); // one A4 page
        const QString shots = qEnvironmentVariable("LIGHTBOX_SCREENSHOT_DIR");
        if (!shots.isEmpty()) {
            p.start(QStringLiteral("pdftoppm"),
                    {"-r", "80", "-png", "-singlefile", pdf, QDir(shots).filePath("report")});
            QVERIFY(p.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR));
        }
    }

private:
    std::unique_ptr<MainWindow> m_window;
    QTemporaryDir m_settings, m_out;
};

QTEST_MAIN(tst_Export)
#include "tst_export.moc"
