// The viewer window driven through real widgets: mouse, wheel and keys under the offscreen
// platform. Each test makes its own folders and data-set roots.
#include <CropPanel.h>
#include <ImageViewer.h>
#include <MainWindow.h>
#include <SettingsWriter.h>
#include <TagBrowser.h>

#include <data/CropExporter.h>
#include <data/CropManifest.h>
#include <imaging/Render.h>

#include <QComboBox>
#include <QDirIterator>
#include <QMimeData>
#include <QProcess>
#include <QSettings>
#include <QTemporaryDir>
#include <QWheelEvent>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <memory>

using namespace lightbox;
using ui::ImageViewer;
using ui::MainWindow;

namespace {

const QString kChest = QStringLiteral(LIGHTBOX_SHARED_DATA "/dicom/chest-cr-RG1_J2KI.dcm");
const QString kKneeDir = QStringLiteral(LIGHTBOX_SHARED_DATA "/knee-kl/val/2");

void drag(QWidget* w, Qt::MouseButton button, QPoint from, QPoint to, int steps = 6)
{
    QTest::mousePress(w, button, {}, from);
    for (int i = 1; i <= steps; ++i)
        QTest::mouseMove(w, from + (to - from) * i / steps);
    QTest::mouseRelease(w, button, {}, to);
}

/// Image coordinates of a widget point, from the zoom and pan alone (no rotation or flip):
/// an independent check of the viewer's own mapping.
QPointF expectedImagePoint(const ImageViewer* v, QPointF wp)
{
    const QPointF centre(v->width() / 2.0, v->height() / 2.0);
    const QPointF half(v->image()->width() / 2.0, v->image()->height() / 2.0);
    return (wp - centre - v->pan()) / v->zoom() + half;
}

int differingPixels(const QImage& a, const QImage& b)
{
    if (a.size() != b.size())
        return -1;
    const QImage x = a.convertToFormat(QImage::Format_RGB32), y = b.convertToFormat(QImage::Format_RGB32);
    int n = 0;
    for (int r = 0; r < x.height(); ++r) {
        const auto* p = reinterpret_cast<const QRgb*>(x.constScanLine(r));
        const auto* q = reinterpret_cast<const QRgb*>(y.constScanLine(r));
        for (int c = 0; c < x.width(); ++c)
            n += p[c] != q[c];
    }
    return n;
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

} // namespace

class tst_Viewer : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void opensDicomAndPngAndSurvivesCorruptFile();
    void tagBrowserFilters();
    void dragDrawsRoiAtZoomAndPan();
    void freeAspectResizeAndNudge();
    void wheelZoomsAroundCursor();
    void rightDragChangesWindow();
    void overlayToggleHidesText();
    void pageKeysStepThroughFolder();
    void numberKeySavesCropAndOpensNext();
    void dicomCropIsDeidentified();
    void screenshotCommandRendersViewer();
    void statusBarShowsStoredAndModalityValues();
    void roiSizeInMillimetres();
    void rotatedFlippedViewDrawsRoiInImagePixels();
    void dropOpensFileAndRemembersIt();
    void taskPresetSetsLabelsAndKeys();

private:
    std::unique_ptr<MainWindow> m_window;
    QTemporaryDir m_settingsDir;
    QTemporaryDir m_work;
};

void tst_Viewer::initTestCase()
{
    QVERIFY(m_settingsDir.isValid() && m_work.isValid());
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settingsDir.path());
    QCoreApplication::setOrganizationName(QStringLiteral("LightboxTest"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_viewer"));
    if (!QFile::exists(kChest) || !QDir(kKneeDir).exists())
        QSKIP("the shared data (" LIGHTBOX_SHARED_DATA ") is missing");
}

void tst_Viewer::init()
{
    QSettings().clear(); // every test starts from the defaults (square crop, windowed 8-bit, ...)
    m_window = std::make_unique<MainWindow>();
    m_window->setInteractive(false);
    m_window->setSynchronousLoading(true);
    m_window->resize(1280, 900);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
}

void tst_Viewer::cleanup()
{
    m_window.reset();
}

void tst_Viewer::opensDicomAndPngAndSurvivesCorruptFile()
{
    QVERIFY2(m_window->openFile(kChest), qPrintable(m_window->lastError()));
    QCOMPARE(QString::fromStdString(m_window->image()->format), QStringLiteral("DICOM"));
    QCOMPARE(m_window->image()->photometric, imaging::Photometric::Monochrome1);
    QVERIFY(!m_window->image()->tags.empty());
    QVERIFY(m_window->viewer()->hasImage());
    QCOMPARE(m_window->folderFiles().size(), 6); // the sibling DICOM files
    QCOMPARE(m_window->folderIndex(), 0);

    const QString png = kKneeDir + QStringLiteral("/9015402R.png");
    QVERIFY(m_window->openFile(png));
    QCOMPARE(m_window->image()->width(), 224);
    QCOMPARE(m_window->tagBrowser()->visibleTopLevelRows(), 0);

    const QString bad = m_work.filePath(QStringLiteral("corrupt.dcm"));
    QFile f(bad);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(132, 'x') + "garbage that is not a data set");
    f.close();
    QVERIFY(!m_window->openFile(bad));
    QVERIFY(m_window->statusText().contains(QStringLiteral("Cannot open corrupt.dcm")));
    QVERIFY(!m_window->lastError().isEmpty());
    QCOMPARE(m_window->currentPath(), QFileInfo(png).absoluteFilePath()); // the PNG stays
    QVERIFY(m_window->viewer()->hasImage());

    // The same through the background loader.
    m_window->openFileInBackground(kChest);
    m_window->openFileInBackground(bad); // supersedes the chest: only its failure shows
    QTRY_VERIFY(m_window->statusText().startsWith(QStringLiteral("Cannot open corrupt.dcm")));
    QTest::qWait(200);
    QCOMPARE(m_window->currentPath(), QFileInfo(png).absoluteFilePath());
}

void tst_Viewer::tagBrowserFilters()
{
    QVERIFY(m_window->openFile(kChest));
    ui::TagBrowser* tags = m_window->tagBrowser();
    const int all = tags->visibleTopLevelRows();
    QVERIFY(all > 20);
    tags->setFilter(QStringLiteral("patientname"));
    QCOMPARE(tags->visibleTopLevelRows(), 1);
    tags->setFilter(QStringLiteral("(0028,0010)")); // Rows, by number
    QCOMPARE(tags->visibleTopLevelRows(), 1);
    tags->setFilter(QString());
    QCOMPARE(tags->visibleTopLevelRows(), all);
}

void tst_Viewer::dragDrawsRoiAtZoomAndPan()
{
    QVERIFY(m_window->openFile(kChest));
    ImageViewer* v = m_window->viewer();
    QVERIFY(v->squareCrop());
    v->setZoom(0.8);
    v->setPan(QPointF(-370.0, 415.0));
    QCOMPARE(v->tool(), ImageViewer::Tool::Crop);

    const QPoint from(140, 130), to(330, 270);
    drag(v, Qt::LeftButton, from, to);
    const auto roi = v->roi();
    QVERIFY(roi.has_value());

    const QPointF a = expectedImagePoint(v, from), b = expectedImagePoint(v, to);
    const int ax = int(std::lround(a.x())), ay = int(std::lround(a.y()));
    const int side = std::max(int(std::lround(b.x())) - ax, int(std::lround(b.y())) - ay);
    QVERIFY(ax > 0 && ay > 0 && side > 100); // the drag really lies inside the image
    QCOMPARE(*roi, QRect(ax, ay, side, side));
    // The viewer's own mapping agrees with the independent one.
    const QPointF mapped = v->widgetToImage(QPointF(from));
    QVERIFY(std::abs(mapped.x() - a.x()) < 1e-6 && std::abs(mapped.y() - a.y()) < 1e-6);
}

void tst_Viewer::freeAspectResizeAndNudge()
{
    QVERIFY(m_window->openFile(kChest));
    ImageViewer* v = m_window->viewer();
    QTest::keyClick(v, Qt::Key_S); // square off
    QVERIFY(!v->squareCrop());
    v->setZoom(0.5);
    const QPoint from(120, 140), to(300, 200);
    drag(v, Qt::LeftButton, from, to);
    const QPointF a = expectedImagePoint(v, from), b = expectedImagePoint(v, to);
    const QRect expected(QPoint(int(std::lround(a.x())), int(std::lround(a.y()))),
                         QPoint(int(std::lround(b.x())) - 1, int(std::lround(b.y())) - 1));
    QCOMPARE(*v->roi(), expected);
    QVERIFY(expected.width() != expected.height());

    // The right-edge handle widens the rectangle only.
    const QPointF rightHandle = v->imageToWidget().map(QPointF(expected.right() + 1, expected.center().y() + 0.5));
    drag(v, Qt::LeftButton, rightHandle.toPoint(), rightHandle.toPoint() + QPoint(40, 0));
    QCOMPARE(v->roi()->height(), expected.height());
    QCOMPARE(v->roi()->left(), expected.left());
    QVERIFY(std::abs(v->roi()->width() - (expected.width() + 80)) <= 2); // 40 screen px at zoom 0.5

    // Dragging inside moves it; arrow keys nudge it by one pixel (Shift: ten).
    const QRect before = *v->roi();
    const QPoint inside = v->imageToWidget().map(QPointF(before.center())).toPoint();
    drag(v, Qt::LeftButton, inside, inside + QPoint(10, 20));
    QCOMPARE(v->roi()->size(), before.size());
    QCOMPARE(v->roi()->topLeft(), before.topLeft() + QPoint(20, 40));
    const QRect moved = *v->roi();
    QTest::keyClick(v, Qt::Key_Right);
    QTest::keyClick(v, Qt::Key_Down, Qt::ShiftModifier);
    QCOMPARE(v->roi()->topLeft(), moved.topLeft() + QPoint(1, 10));
    QTest::keyClick(v, Qt::Key_Escape);
    QVERIFY(!v->roi());
}

void tst_Viewer::wheelZoomsAroundCursor()
{
    QVERIFY(m_window->openFile(kChest));
    ImageViewer* v = m_window->viewer();
    const double z0 = v->zoom();
    const QPointF at(v->width() * 0.3, v->height() * 0.6);
    const QPointF before = v->widgetToImage(at);
    QWheelEvent wheel(at, v->mapToGlobal(at), QPoint(), QPoint(0, 240), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase,
                      false);
    QApplication::sendEvent(v, &wheel);
    QVERIFY(v->zoom() > z0 * 1.3);
    const QPointF after = v->widgetToImage(at);
    QVERIFY(std::abs(after.x() - before.x()) < 1e-6 && std::abs(after.y() - before.y()) < 1e-6);
    // Panning with the middle button moves the image with the pointer.
    const QPointF pan0 = v->pan();
    drag(v, Qt::MiddleButton, QPoint(200, 200), QPoint(260, 170));
    QCOMPARE(v->pan(), pan0 + QPointF(60, -30));
}

void tst_Viewer::rightDragChangesWindow()
{
    QVERIFY(m_window->openFile(kChest));
    ImageViewer* v = m_window->viewer();
    const imaging::Window w0 = v->window();
    QCOMPARE(w0.width, 30000.0); // the file's first window
    const QImage before = v->grab().toImage();
    drag(v, Qt::RightButton, QPoint(300, 300), QPoint(200, 360));
    const imaging::Window w1 = v->window();
    QVERIFY(w1.width < w0.width);
    QVERIFY(w1.center > w0.center);
    QVERIFY(!v->roi()); // right drag never draws a rectangle
    const QImage after = v->grab().toImage();
    QVERIFY(differingPixels(before, after) > v->width() * v->height() / 10);
    // Invert (I) and automatic window (A) re-render too.
    QTest::keyClick(v, Qt::Key_I);
    QVERIFY(v->inverted());
    QTest::keyClick(v, Qt::Key_A);
    QCOMPARE(v->window().width, m_window->image()->autoWindow.width);
}

void tst_Viewer::overlayToggleHidesText()
{
    QVERIFY(m_window->openFile(kChest));
    ImageViewer* v = m_window->viewer();
    QVERIFY(v->overlayVisible());
    const QImage with = v->grab().toImage();
    QTest::keyClick(v, Qt::Key_O);
    QVERIFY(!v->overlayVisible());
    const QImage without = v->grab().toImage();
    const QRect corner(0, 0, 250, 60); // patient name and ID
    QVERIFY(differingPixels(with.copy(corner), without.copy(corner)) > 100);
}

void tst_Viewer::pageKeysStepThroughFolder()
{
    QTemporaryDir dir;
    const QStringList names = {"b10.png", "b2.png", "b1.png"};
    QDir knee(kKneeDir);
    const QStringList sources = knee.entryList({"*.png"}, QDir::Files, QDir::Name).mid(0, 3);
    for (int i = 0; i < 3; ++i)
        QVERIFY(QFile::copy(knee.filePath(sources[i]), dir.filePath(names[i])));
    QVERIFY(m_window->openFolder(dir.path()));
    QCOMPARE(QFileInfo(m_window->currentPath()).fileName(), QStringLiteral("b1.png"));
    QTest::keyClick(m_window->viewer(), Qt::Key_PageDown);
    QCOMPARE(QFileInfo(m_window->currentPath()).fileName(), QStringLiteral("b2.png"));
    QTest::keyClick(m_window->viewer(), Qt::Key_PageDown);
    QCOMPARE(QFileInfo(m_window->currentPath()).fileName(), QStringLiteral("b10.png"));
    QCOMPARE(m_window->folderIndex(), 2);
    QVERIFY(!m_window->showNext());
    QTest::keyClick(m_window->viewer(), Qt::Key_PageUp);
    QCOMPARE(m_window->folderIndex(), 1);

    // Background loading reaches the same place.
    m_window->setSynchronousLoading(false);
    QTest::keyClick(m_window->viewer(), Qt::Key_PageUp);
    QTRY_COMPARE(QFileInfo(m_window->currentPath()).fileName(), QStringLiteral("b1.png"));
}

void tst_Viewer::numberKeySavesCropAndOpensNext()
{
    QTemporaryDir folder, dataset;
    QDir knee(kKneeDir);
    const QStringList sources = knee.entryList({"*.png"}, QDir::Files, QDir::Name).mid(0, 2);
    for (const QString& s : sources)
        QVERIFY(QFile::copy(knee.filePath(s), folder.filePath(s)));
    QVERIFY(m_window->openFolder(folder.path()));
    const auto first = m_window->image();
    const QString firstPath = m_window->currentPath();

    ui::CropPanel* panel = m_window->cropPanel();
    panel->setDatasetRoot(dataset.path());
    panel->setRaw(true);
    panel->setOutputSize(64);
    ImageViewer* v = m_window->viewer();
    v->setZoom(2.5);
    v->setPan(QPointF(30, -20));
    const QPoint from(v->width() / 2 - 150, v->height() / 2 - 120), to(v->width() / 2 + 60, v->height() / 2 + 90);
    drag(v, Qt::LeftButton, from, to);
    QVERIFY(v->roi());
    const QRect roi = *v->roi();
    QVERIFY(roi.width() > 50);

    QTest::keyClick(v, Qt::Key_2);
    const QString key = data::CropExporter::sourceKey(*first);
    const QString out = dataset.filePath(QStringLiteral("2/%1.png").arg(key));
    QVERIFY2(QFile::exists(out), qPrintable(m_window->statusText()));
    const cv::Mat written = cv::imread(out.toStdString(), cv::IMREAD_UNCHANGED);
    cv::Mat expected;
    cv::resize(first->pixels(cv::Rect(roi.x(), roi.y(), roi.width(), roi.height())), expected, cv::Size(64, 64), 0, 0,
               cv::INTER_AREA);
    QCOMPARE(written.type(), expected.type());
    QCOMPARE(cv::norm(written, expected, cv::NORM_INF), 0.0);

    auto manifest = data::CropManifest::load(dataset.filePath(QStringLiteral("manifest.csv")));
    QVERIFY(manifest);
    QCOMPARE(int(manifest->records().size()), 1);
    const data::CropRecord& row = manifest->records().front();
    QCOMPARE(row.label, QStringLiteral("2"));
    QCOMPARE(QRect(row.roiX, row.roiY, row.roiW, row.roiH), roi);
    QCOMPARE(row.outputWidth, 64);
    QCOMPARE(row.file, QStringLiteral("2/%1.png").arg(key));

    // The next image of the folder opened, keeping the rectangle.
    QCOMPARE(m_window->folderIndex(), 1);
    QVERIFY(m_window->currentPath() != firstPath);
    QCOMPARE(*v->roi(), roi);

    // With background loading, a second key press before the next image arrives saves
    // nothing and skips nothing.
    m_window->setSynchronousLoading(false);
    QVERIFY(m_window->showPrevious());
    QTest::keyClick(v, Qt::Key_3);
    QVERIFY(m_window->statusText().startsWith(QStringLiteral("Still loading")));
    QTRY_COMPARE(m_window->currentPath(), firstPath);
    QCOMPARE(int(data::CropManifest::load(dataset.filePath(QStringLiteral("manifest.csv")))->records().size()), 1);
    QVERIFY(m_window->showNext());
    QTRY_COMPARE(m_window->folderIndex(), 1);
    QTRY_VERIFY(m_window->currentPath() != firstPath);
    m_window->setSynchronousLoading(true);

    // Ctrl+Z takes the save back and returns to its image and rectangle.
    QTest::keyClick(v, Qt::Key_Z, Qt::ControlModifier);
    QVERIFY(!QFile::exists(out));
    QVERIFY(data::CropManifest::load(dataset.filePath(QStringLiteral("manifest.csv")))->records().empty());
    QCOMPARE(m_window->currentPath(), firstPath);
    QCOMPARE(*v->roi(), roi);
}

void tst_Viewer::dicomCropIsDeidentified()
{
    QTemporaryDir dataset;
    QVERIFY(m_window->openFile(kChest));
    const auto img = m_window->image();
    m_window->cropPanel()->setDatasetRoot(dataset.path());
    m_window->cropPanel()->setRaw(false);
    m_window->cropPanel()->setOutputSize(224);
    ImageViewer* v = m_window->viewer();
    drag(v, Qt::RightButton, QPoint(300, 300), QPoint(260, 330)); // a window of the user's own
    drag(v, Qt::LeftButton, QPoint(200, 250), QPoint(420, 420));
    QVERIFY(v->roi());
    const QRect roi = *v->roi();
    const imaging::RenderParams params = v->renderParams();
    QCOMPARE(QString::fromStdString(params.window.explanation), QStringLiteral("USER"));
    QTest::keyClick(v, Qt::Key_3);

    auto manifest = data::CropManifest::load(dataset.filePath(QStringLiteral("manifest.csv")));
    QVERIFY(manifest && manifest->records().size() == 1);
    const data::CropRecord row = manifest->records().front();
    QCOMPARE(row.label, QStringLiteral("3"));
    QVERIFY(std::abs(row.windowWidth - params.window.width) < 1e-3); // 10 significant digits in the CSV
    cv::Mat rendered, expected;
    imaging::DisplayLut(*img, params).apply(*img, rendered, cv::Rect(roi.x(), roi.y(), roi.width(), roi.height()));
    cv::resize(rendered, expected, cv::Size(224, 224), 0, 0, cv::INTER_AREA);
    const cv::Mat written = cv::imread(dataset.filePath(row.file).toStdString(), cv::IMREAD_UNCHANGED);
    QCOMPARE(cv::norm(written, expected, cv::NORM_INF), 0.0);

    QStringList phi;
    for (const char* k : {"PatientName", "PatientID", "PatientBirthDate"})
        phi << QString::fromStdString(img->keyTag(k));
    phi << phi.front().section(QLatin1Char('^'), 0, 0); // the family name alone
    QDirIterator it(dataset.path(), QDir::Files, QDirIterator::Subdirectories);
    int files = 0;
    while (it.hasNext()) {
        const QString path = it.next();
        const QByteArray bytes = readAll(path);
        ++files;
        for (const QString& s : phi) {
            QVERIFY(!s.isEmpty());
            QVERIFY2(!path.contains(s, Qt::CaseInsensitive), qPrintable(path));
            QVERIFY2(!bytes.contains(s.toUtf8()), qPrintable(path + " holds " + s));
        }
    }
    QCOMPARE(files, 2); // the crop and the manifest
}

void tst_Viewer::screenshotCommandRendersViewer()
{
    const QString exe = QStringLiteral(LIGHTBOX_BINARY_DIR "/app/lightbox");
    if (!QFile::exists(exe))
        QSKIP("lightbox executable not built");
    const QString out = m_work.filePath(QStringLiteral("shot.png"));
    QProcess p;
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("QT_QPA_PLATFORM"), QStringLiteral("offscreen"));
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_settingsDir.path());
    p.setProcessEnvironment(env);
    p.start(exe, {QStringLiteral("--screenshot"), out, QStringLiteral("--size"), QStringLiteral("1000x700"), kChest});
    QVERIFY(p.waitForFinished(60000 * LIGHTBOX_TIME_FACTOR));
    QCOMPARE(p.exitCode(), 0);
    const QImage shot(out);
    QCOMPARE(shot.size(), QSize(1000, 700));
    // Mostly image, not an empty grey window: the viewer's centre is not the background.
    const QRgb centre = shot.pixel(shot.width() / 2, shot.height() / 2);
    QVERIFY(qGray(centre) > 20);
}

void tst_Viewer::statusBarShowsStoredAndModalityValues()
{
    QVERIFY(m_window->openFile(kChest));
    ImageViewer* v = m_window->viewer();
    const QPoint at(v->width() / 2 + 17, v->height() / 2 - 33);
    QTest::mouseMove(v, at);
    const QPointF ip = v->widgetToImage(QPointF(at));
    const int x = int(std::floor(ip.x())), y = int(std::floor(ip.y()));
    const auto img = m_window->image();
    const int stored = img->pixels.at<uint16_t>(y, x);
    const QString text = m_window->cursorText();
    QVERIFY2(text.startsWith(QStringLiteral("x %1  y %2").arg(x).arg(y)), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("stored %1").arg(stored)), qPrintable(text));
    QVERIFY2(text.contains(QStringLiteral("value %1").arg(qRound(img->toModality(stored)))), qPrintable(text));
}

void tst_Viewer::roiSizeInMillimetres()
{
    const QString rsna = QStringLiteral(LIGHTBOX_SHARED_DATA "/dicom/chest-cr-rsna-jpegbaseline.dcm");
    QVERIFY(m_window->openFile(rsna));
    QVERIFY(m_window->image()->spacingRow > 0);
    m_window->viewer()->setRoi(QRect(10, 20, 100, 100));
    const QString info = m_window->cropPanel()->roiInfo();
    const QString mm = QString::number(100 * m_window->image()->spacingCol, 'f', 1);
    QVERIFY2(info.contains(QStringLiteral("100 × 100 px")) && info.contains(mm + QStringLiteral(" × ") + mm + " mm"),
             qPrintable(info));
}

void tst_Viewer::rotatedFlippedViewDrawsRoiInImagePixels()
{
    QVERIFY(m_window->openFile(kChest));
    ImageViewer* v = m_window->viewer();
    v->setSquareCrop(false);
    QTest::keyClick(v, Qt::Key_R); // 90 degrees clockwise
    QTest::keyClick(v, Qt::Key_H); // and mirrored
    QCOMPARE(v->rotation(), 90);
    const QPoint from(150, 160), to(330, 260);
    const QPointF a = v->widgetToImage(QPointF(from)), b = v->widgetToImage(QPointF(to));
    // A quarter turn then a horizontal flip is a transpose: screen x runs along image y.
    QVERIFY(std::abs(b.x() - a.x() - (260 - 160) / v->zoom()) < 1e-6);
    QVERIFY(std::abs(b.y() - a.y() - (330 - 150) / v->zoom()) < 1e-6);
    drag(v, Qt::LeftButton, from, to);
    const int x0 = int(std::lround(a.x())), x1 = int(std::lround(b.x()));
    const int y0 = int(std::lround(a.y())), y1 = int(std::lround(b.y()));
    QCOMPARE(*v->roi(), QRect(x0, y0, x1 - x0, y1 - y0));
    // Arrow keys follow the screen: right moves along +image y here.
    const QRect before = *v->roi();
    QTest::keyClick(v, Qt::Key_Right);
    QCOMPARE(v->roi()->topLeft(), before.topLeft() + QPoint(0, 1));
}

void tst_Viewer::dropOpensFileAndRemembersIt()
{
    QMimeData mime;
    mime.setUrls({QUrl::fromLocalFile(kChest)});
    const QPoint at(m_window->width() / 2, m_window->height() / 2);
    QDragEnterEvent enter(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(m_window.get(), &enter);
    QVERIFY(enter.isAccepted());
    QDropEvent drop(at, Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
    QApplication::sendEvent(m_window.get(), &drop);
    QCOMPARE(m_window->currentPath(), QFileInfo(kChest).absoluteFilePath());
    ui::settings::flush(); // settings are written by a worker thread
    QVERIFY(QSettings().value(QStringLiteral("recentFiles")).toStringList().contains(m_window->currentPath()));
}

QTEST_MAIN(tst_Viewer)

void tst_Viewer::taskPresetSetsLabelsAndKeys()
{
    ui::CropPanel* panel = m_window->cropPanel();
    QCOMPARE(panel->task(), QStringLiteral("knee-kl")); // the default task
    QCOMPARE(panel->labels(), (QStringList{"0", "1", "2", "3", "4"}));

    // One click (here: a key press on the real combo box) switches to the pneumonia task.
    auto* picker = panel->findChild<QComboBox*>(QStringLiteral("taskPicker"));
    QVERIFY(picker);
    QSignalSpy taskSpy(panel, &ui::CropPanel::taskChanged);
    QTest::keyClick(picker, Qt::Key_Down);
    QCOMPARE(taskSpy.count(), 1);
    QCOMPARE(panel->task(), QStringLiteral("chest-pneumonia"));
    QCOMPARE(panel->labels(), (QStringList{"NORMAL", "PNEUMONIA"}));

    // Key 1 now saves the crop under the preset's second class.
    QTemporaryDir dataset;
    panel->setDatasetRoot(dataset.path());
    QVERIFY2(m_window->openFile(kChest), qPrintable(m_window->lastError()));
    ImageViewer* v = m_window->viewer();
    drag(v, Qt::LeftButton, QPoint(v->width() / 2 - 80, v->height() / 2 - 80),
         QPoint(v->width() / 2 + 80, v->height() / 2 + 80));
    QVERIFY(v->roi());
    QTest::keyClick(v, Qt::Key_1);
    const QString key = data::CropExporter::sourceKey(*m_window->image());
    QVERIFY2(QFile::exists(dataset.filePath(QStringLiteral("PNEUMONIA/%1.png").arg(key))),
             qPrintable(m_window->statusText()));

    // Editing the labels by hand leaves the preset: the picker shows "Custom".
    panel->setLabels({"a", "b"});
    QCOMPARE(panel->task(), QString());
    // ... and the choice is remembered for the next session.
    m_window.reset();
    ui::CropPanel again;
    QCOMPARE(again.labels(), (QStringList{"a", "b"}));
    again.setTask(QStringLiteral("skin-10"));
    QCOMPARE(again.labels().size(), 10);
}

#include "tst_viewer.moc"
