// Measurements and marks in the viewer, driven through the real widgets under offscreen: a
// ruler on a DICOM with a known Pixel Spacing measures 100 px as 100 x spacing mm; Imager Pixel
// Spacing says "at detector" and a PNG measures in pixels; angles and Cobb angles on known
// geometry; rectangle and ellipse statistics against numpy on the same pixels; select, move,
// delete, undo and redo; the sidecar survives closing and reopening the image; the dock lists
// them. With LIGHTBOX_SCREENSHOT_DIR set it renders measurements on the tibia CR.
#include <Annotations.h>
#include <ImageViewer.h>
#include <MainWindow.h>
#include <MeasurementsPanel.h>
#include <imaging/ImageLoader.h>
#include <imaging/Measure.h>

#include <QDir>
#include <QJsonDocument>
#include <QJsonObject>
#include <QListWidget>
#include <QProcess>
#include <QSettings>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QUndoStack>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>

#include <cmath>
#include <memory>

using namespace lightbox;
using ui::Annotation;
using ui::AnnotationLayer;
using ui::ImageViewer;
using ui::MainWindow;

namespace {

const QString kTools = QStringLiteral(LIGHTBOX_SOURCE_DIR "/tests/tools/measure_reference.py");
const QString kTibia = QStringLiteral(LIGHTBOX_SHARED_DATA "/dicom/tibia-cr-RG3_raw.dcm");

void drag(QWidget* w, QPointF from, QPointF to, int steps = 6)
{
    const QPoint a = from.toPoint(), b = to.toPoint();
    QTest::mousePress(w, Qt::LeftButton, {}, a);
    for (int i = 1; i <= steps; ++i)
        QTest::mouseMove(w, a + (b - a) * i / steps);
    QTest::mouseRelease(w, Qt::LeftButton, {}, b);
}

void click(QWidget* w, QPointF at)
{
    QTest::mouseMove(w, at.toPoint());
    QTest::mouseClick(w, Qt::LeftButton, {}, at.toPoint());
}

/// The number in a label such as "20.00 mm" or "Cobb 12.3°".
double firstNumber(const QString& text)
{
    static const QRegularExpression re(QStringLiteral("-?\\d+(\\.\\d+)?"));
    const auto m = re.match(text);
    return m.hasMatch() ? m.captured(0).toDouble() : std::nan("");
}

QJsonObject numpyStats(const QString& file, const char* shape, QPointF p, QPointF q)
{
    QProcess py;
    py.start(QStringLiteral("/usr/bin/python3"),
             {kTools, "stats", file, shape, QString::number(p.x()), QString::number(p.y()), QString::number(q.x()),
              QString::number(q.y())});
    if (!py.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR) || py.exitCode() != 0)
        return {};
    return QJsonDocument::fromJson(py.readAllStandardOutput()).object();
}

} // namespace

class tst_Measurements : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void rulerMeasuresMillimetresFromPixelSpacing();
    void detectorAndPixelCalibrations();
    void anglesOnKnownGeometry();
    void regionStatisticsMatchNumpy();
    void selectMoveDeleteUndoRedo();
    void sidecarSurvivesReopening();
    void screenshotOnTibia();

private:
    ImageViewer* viewer() const { return m_window->viewer(); }
    AnnotationLayer* layer() const { return m_window->viewer()->annotations(); }
    QPointF toWidget(QPointF imagePoint) const { return viewer()->imageToWidget().map(imagePoint); }

    std::unique_ptr<MainWindow> m_window;
    QTemporaryDir m_settings, m_files;
    QString m_spaced, m_detector, m_png;
};

void tst_Measurements::initTestCase()
{
    QVERIFY(m_settings.isValid() && m_files.isValid());
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settings.path());
    QCoreApplication::setOrganizationName(QStringLiteral("LightboxTest"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_measurements"));
    QStandardPaths::setTestModeEnabled(true); // sidecars under ~/.qttest, not the user's folder
    QDir(AnnotationLayer::storageFolder()).removeRecursively();

    QProcess py;
    py.start(QStringLiteral("/usr/bin/python3"), {kTools, "make", m_files.path()});
    QVERIFY(py.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR));
    QVERIFY2(py.exitCode() == 0, py.readAllStandardError().constData());
    m_spaced = m_files.filePath(QStringLiteral("spaced.dcm"));
    m_detector = m_files.filePath(QStringLiteral("detector.dcm"));
    m_png = m_files.filePath(QStringLiteral("plain.png"));
    cv::Mat grey(300, 400, CV_8UC1);
    cv::randu(grey, 0, 255);
    QVERIFY(cv::imwrite(m_png.toStdString(), grey));
}

void tst_Measurements::init()
{
    m_window = std::make_unique<MainWindow>();
    m_window->setInteractive(false);
    m_window->setSynchronousLoading(true);
    m_window->resize(1280, 900);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    layer()->setTextProvider([] { return QStringLiteral("effusion?"); });
}

void tst_Measurements::cleanup()
{
    m_window.reset();
    QDir(AnnotationLayer::storageFolder()).removeRecursively();
}

void tst_Measurements::rulerMeasuresMillimetresFromPixelSpacing()
{
    QVERIFY(m_window->openFile(m_spaced));
    viewer()->actualSize(); // one image pixel per screen pixel: mouse steps are whole pixels
    QTest::keyClick(viewer(), Qt::Key_D);
    QCOMPARE(viewer()->tool(), ImageViewer::Tool::Ruler);

    // Across the columns: 100 px x 0.2 mm; down the rows: 100 px x 0.15 mm.
    drag(viewer(), toWidget({100, 150}), toWidget({200, 150}));
    drag(viewer(), toWidget({300, 50}), toWidget({300, 150}));
    QCOMPARE(layer()->annotations().size(), 2);
    const auto& a = layer()->annotations();
    QVERIFY2(std::abs(a[0].points[1].x() - a[0].points[0].x() - 100.0) < 1e-6, "the drag spans 100 pixels");
    const double across = firstNumber(layer()->label(0).value(0));
    const double down = firstNumber(layer()->label(1).value(0));
    qInfo("100 px across: %s; 100 px down: %s", qPrintable(layer()->label(0).value(0)),
          qPrintable(layer()->label(1).value(0)));
    QVERIFY2(std::abs(across - 20.0) <= 20.0 * 0.005, qPrintable(layer()->label(0).value(0)));
    QVERIFY2(std::abs(down - 15.0) <= 15.0 * 0.005, qPrintable(layer()->label(1).value(0)));
    QVERIFY(layer()->label(0).value(0).endsWith(QLatin1String(" mm")));

    // The dock lists both, with their values.
    QListWidget* list = m_window->measurementsPanel()->list();
    QCOMPARE(list->count(), 2);
    QVERIFY2(list->item(0)->text().contains(QLatin1String("mm")), qPrintable(list->item(0)->text()));
}

void tst_Measurements::detectorAndPixelCalibrations()
{
    QVERIFY(m_window->openFile(m_detector));
    layer()->add({Annotation::Kind::Ruler, {QPointF(10, 10), QPointF(110, 10)}, {}});
    QCOMPARE(layer()->label(0).value(0), QStringLiteral("14.3 mm (at detector)"));

    QVERIFY(m_window->openFile(m_png));
    QVERIFY(layer()->annotations().isEmpty()); // another image: its own measurements
    layer()->add({Annotation::Kind::Ruler, {QPointF(0, 0), QPointF(30, 40)}, {}});
    QCOMPARE(layer()->label(0).value(0), QStringLiteral("50.0 px (no pixel spacing)"));

    // Calibrated by the user on an object of known length: that ruler is 25 mm.
    layer()->add({Annotation::Kind::Ruler, {QPointF(100, 100), QPointF(200, 100)}, {}});
    QVERIFY(!layer()->calibrate(5, 25.0)); // no such ruler
    QVERIFY(layer()->calibrate(0, 25.0));
    QCOMPARE(layer()->label(0).value(0), QStringLiteral("25.0 mm (calibrated)"));
    QCOMPARE(layer()->label(1).value(0), QStringLiteral("50.0 mm (calibrated)"));
    QVERIFY(m_window->openFile(m_spaced));
    QVERIFY(m_window->openFile(m_png)); // the calibration is saved with the measurements
    QCOMPARE(layer()->label(1).value(0), QStringLiteral("50.0 mm (calibrated)"));
    QVERIFY(layer()->calibrate(-1, 0.0)); // back to the file's (none)
    QCOMPARE(layer()->label(1).value(0), QStringLiteral("100.0 px (no pixel spacing)"));
}

void tst_Measurements::anglesOnKnownGeometry()
{
    QVERIFY(m_window->openFile(m_png)); // isotropic pixels
    viewer()->actualSize();
    // An angle: drag the first arm to the vertex, then click the second arm's end.
    QTest::keyClick(viewer(), Qt::Key_G);
    drag(viewer(), toWidget({100, 200}), toWidget({200, 200}));
    QVERIFY(layer()->drawing());
    click(viewer(), toWidget({200, 100}));
    QCOMPARE(layer()->annotations().size(), 1);
    QCOMPARE(layer()->label(0).value(0), QStringLiteral("90.0°"));

    // A Cobb angle: a line at +20 degrees and one at -15 degrees: 35 degrees between them.
    QTest::keyClick(viewer(), Qt::Key_B);
    const double r20 = 20.0 * M_PI / 180.0, r15 = 15.0 * M_PI / 180.0;
    drag(viewer(), toWidget({100, 250}), toWidget({100 + 100 * std::cos(r20), 250 - 100 * std::sin(r20)}));
    drag(viewer(), toWidget({60, 60}), toWidget({60 + 120 * std::cos(r15), 60 + 120 * std::sin(r15)}));
    QCOMPARE(layer()->annotations().size(), 2);
    const double cobb = firstNumber(layer()->label(1).value(0));
    QVERIFY2(std::abs(cobb - 35.0) < 1.0, qPrintable(layer()->label(1).value(0))); // whole-pixel mouse steps

    // The calibrated angle on anisotropic pixels: 45 degrees in pixels is not 45 in mm.
    const imaging::Calibration cal{imaging::Calibration::Kind::Patient, 0.15, 0.2};
    const double physical = imaging::angleDegrees(cal, {0, 0}, {100, 0}, {0, 100});
    QVERIFY(std::abs(physical - std::atan2(100 * 0.15, 100 * 0.2) * 180.0 / M_PI) < 1e-9);
}

void tst_Measurements::regionStatisticsMatchNumpy()
{
    QVERIFY(m_window->openFile(m_spaced));
    const QPointF p(40.3, 30.7), q(180.6, 140.2);
    for (const auto& [kind, shape] :
         {std::pair{Annotation::Kind::Rectangle, "rectangle"}, std::pair{Annotation::Kind::Ellipse, "ellipse"}}) {
        const QJsonObject ref = numpyStats(m_spaced, shape, p, q);
        QVERIFY2(!ref.isEmpty(), "numpy's reference");
        const auto region =
            kind == Annotation::Kind::Rectangle ? imaging::RegionShape::Rectangle : imaging::RegionShape::Ellipse;
        const auto img = m_window->image();
        const imaging::RegionStats s =
            imaging::regionStats(*img, imaging::calibrationOf(*img), region, {p.x(), p.y()}, {q.x(), q.y()});
        qInfo("%s: %lld pixels, mean %.4f SD %.4f min %g max %g (numpy: %d, %.4f, %.4f)", shape, s.pixels, s.mean, s.sd,
              s.min, s.max, ref["pixels"].toInt(), ref["mean"].toDouble(), ref["sd"].toDouble());
        QCOMPARE(s.pixels, static_cast<long long>(ref["pixels"].toInt()));
        QVERIFY(std::abs(s.mean - ref["mean"].toDouble()) < 1e-9 * std::max(1.0, std::abs(s.mean)));
        QVERIFY(std::abs(s.sd - ref["sd"].toDouble()) < 1e-9 * std::max(1.0, s.sd));
        QCOMPARE(s.min, ref["min"].toDouble());
        QCOMPARE(s.max, ref["max"].toDouble());
        // The area of the shape in mm²: width and height through the spacing.
        const double w = (q.x() - p.x()) * 0.2, h = (q.y() - p.y()) * 0.15;
        QVERIFY(std::abs(s.area - (kind == Annotation::Kind::Rectangle ? w * h : M_PI * w * h / 4)) < 1e-9);

        // The label, through the layer, in HU.
        const int i = layer()->add({kind, {p, q}, {}});
        const QStringList label = layer()->label(i);
        QVERIFY2(label.value(0).startsWith(QLatin1String("Mean ")) && label.value(0).endsWith(QLatin1String(" HU")) &&
                     std::abs(firstNumber(label.value(0)) - s.mean) <= 0.5,
                 qPrintable(label.join(" | ")));
        QVERIFY2(label.value(2).contains(QStringLiteral("mm²")), qPrintable(label.join(" | ")));
    }
}

void tst_Measurements::selectMoveDeleteUndoRedo()
{
    QVERIFY(m_window->openFile(m_png));
    viewer()->actualSize();
    QTest::keyClick(viewer(), Qt::Key_D);
    drag(viewer(), toWidget({50, 50}), toWidget({150, 50}));
    QTest::keyClick(viewer(), Qt::Key_T); // an arrow; its text comes from the provider
    drag(viewer(), toWidget({200, 200}), toWidget({260, 150}));
    QCOMPARE(layer()->annotations().size(), 2);
    QCOMPARE(layer()->annotations()[1].text, QStringLiteral("effusion?"));

    // Select the ruler by clicking on it, drag it 20 px down as a whole.
    QTest::keyClick(viewer(), Qt::Key_L);
    drag(viewer(), toWidget({100, 50}), toWidget({100, 70}));
    QCOMPARE(layer()->selected(), 0);
    QCOMPARE(layer()->annotations()[0].points[0], QPointF(50, 70));
    QCOMPARE(layer()->label(0).value(0), QStringLiteral("100.0 px (no pixel spacing)"));
    // Drag one end: the ruler becomes 60 px long.
    drag(viewer(), toWidget({150, 70}), toWidget({110, 70}));
    QCOMPARE(layer()->label(0).value(0), QStringLiteral("60.0 px (no pixel spacing)"));

    // Delete, then undo (Ctrl+Z) brings it back; redo deletes it again.
    QTest::keyClick(viewer(), Qt::Key_Delete);
    QCOMPARE(layer()->annotations().size(), 1);
    QTest::keyClick(viewer(), Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(layer()->annotations().size(), 2);
    QCOMPARE(layer()->label(0).value(0), QStringLiteral("60.0 px (no pixel spacing)"));
    QTest::keyClick(viewer(), Qt::Key_Z, Qt::ControlModifier);
    QCOMPARE(layer()->label(0).value(0), QStringLiteral("100.0 px (no pixel spacing)")); // the end drag undone
    QTest::keyClick(viewer(), Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
    QCOMPARE(layer()->label(0).value(0), QStringLiteral("60.0 px (no pixel spacing)"));

    // Escape cancels an angle half drawn; a click is not a ruler.
    QTest::keyClick(viewer(), Qt::Key_G);
    drag(viewer(), toWidget({300, 100}), toWidget({350, 100}));
    QVERIFY(layer()->drawing());
    QTest::keyClick(viewer(), Qt::Key_Escape);
    QVERIFY(!layer()->drawing());
    QTest::keyClick(viewer(), Qt::Key_D);
    click(viewer(), toWidget({320, 250}));
    QCOMPARE(layer()->annotations().size(), 2);
}

void tst_Measurements::sidecarSurvivesReopening()
{
    QVERIFY(m_window->openFile(m_spaced));
    layer()->add({Annotation::Kind::Ruler, {QPointF(10.5, 20.25), QPointF(110.5, 20.25)}, {}});
    layer()->add({Annotation::Kind::Ellipse, {QPointF(50, 60), QPointF(150, 120)}, {}});
    layer()->add({Annotation::Kind::Arrow, {QPointF(200, 100), QPointF(260, 40)}, QStringLiteral("골절 의심")});
    const QVector<Annotation> saved = layer()->annotations();
    const QString sidecar = layer()->sidecarPath();
    QVERIFY2(QFile::exists(sidecar), qPrintable(sidecar));
    QVERIFY(QFileInfo(sidecar).fileName().startsWith(QLatin1String("uid-"))); // keyed by the SOP Instance UID

    QVERIFY(m_window->openFile(m_png));
    QVERIFY(layer()->annotations().isEmpty());
    QVERIFY(m_window->openFile(m_spaced));
    QCOMPARE(layer()->annotations(), saved);
    QCOMPARE(m_window->measurementsPanel()->list()->count(), 3);

    // A PNG is keyed by its file's hash: a copy elsewhere finds the same measurements.
    QVERIFY(m_window->openFile(m_png));
    layer()->add({Annotation::Kind::Rectangle, {QPointF(1, 2), QPointF(30, 40)}, {}});
    QVERIFY(QFileInfo(layer()->sidecarPath()).fileName().startsWith(QLatin1String("file-")));
    const QString copy = m_files.filePath(QStringLiteral("copy-of-plain.png"));
    QVERIFY(QFile::copy(m_png, copy));
    QVERIFY(m_window->openFile(copy));
    QCOMPARE(layer()->annotations().size(), 1);

    // Deleting the last one removes the sidecar; a damaged one is reported and ignored.
    layer()->remove(0);
    QVERIFY(!QFile::exists(layer()->sidecarPath()));
    QFile damaged(sidecar);
    QVERIFY(damaged.open(QIODevice::WriteOnly));
    damaged.write("{\"format\": 1, \"annotations\": [");
    damaged.close();
    QVERIFY(m_window->openFile(m_spaced));
    QVERIFY(layer()->annotations().isEmpty());
    QVERIFY2(m_window->statusText().contains(QLatin1String("damaged")), qPrintable(m_window->statusText()));
}

void tst_Measurements::screenshotOnTibia()
{
    const QString dir = qEnvironmentVariable("LIGHTBOX_SCREENSHOT_DIR");
    if (dir.isEmpty())
        QSKIP("set LIGHTBOX_SCREENSHOT_DIR to render the screenshots");
    const QString chest = QStringLiteral(LIGHTBOX_SHARED_DATA "/dicom/chest-cr-rsna-jpegbaseline.dcm");
    if (!QFile::exists(kTibia) || !QFile::exists(chest))
        QSKIP("the shared DICOM files are missing");
    m_window->resize(1400, 900);
    // The chest CR has Pixel Spacing (0.168 mm): a rib-to-rib ruler, the heart's width, a
    // region in the lung, a note. The tibia CR has neither Pixel Spacing nor Imager Pixel
    // Spacing: its measurements say so, in pixels.
    for (const auto& [file, shot] :
         {std::pair{chest, "measurements-chest-cr-mm.png"}, std::pair{kTibia, "measurements-tibia-cr.png"}}) {
        QVERIFY(m_window->openFile(file));
        const auto img = m_window->image();
        const double w = img->width(), h = img->height();
        layer()->add({Annotation::Kind::Ruler, {QPointF(w * 0.30, h * 0.62), QPointF(w * 0.70, h * 0.62)}, {}});
        layer()->add({Annotation::Kind::Angle,
                      {QPointF(w * 0.20, h * 0.30), QPointF(w * 0.30, h * 0.50), QPointF(w * 0.22, h * 0.72)},
                      {}});
        layer()->add({Annotation::Kind::Ellipse, {QPointF(w * 0.60, h * 0.30), QPointF(w * 0.75, h * 0.45)}, {}});
        layer()->add({Annotation::Kind::Arrow,
                      {QPointF(w * 0.50, h * 0.80), QPointF(w * 0.65, h * 0.88)},
                      QStringLiteral("note")});
        layer()->select(-1);
        QTest::qWait(50);
        QVERIFY(m_window->grab().save(QDir(dir).filePath(QString::fromLatin1(shot))));
        for (int i = 0; i < layer()->annotations().size(); ++i)
            qInfo("%s: %s", shot, qPrintable(layer()->summary(i)));
    }
}

QTEST_MAIN(tst_Measurements)
#include "tst_measurements.moc"
