// Compare view through real widgets: View > Compare Side by Side opens the folder's next image
// beside the current one; zoom, pan and window/level follow the side worked in while linked
// (and not once unlinked), on two images of different sizes; Mirror flips one side only (its
// native render is the flipped image, pixel for pixel); a file that fails to load keeps the
// image shown and says why; classification and the heat map work in either viewport, each
// side keeping its own result, also when a prediction finishes after the user moved to the
// other side; the exports follow the active side; Close returns to one viewer.
#include <ClassifyPanel.h>
#include <CompareView.h>
#include <ImageViewer.h>
#include <MainWindow.h>

#include <QAction>
#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QImage>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <memory>

using namespace lightbox;
using ui::ClassifyPanel;
using ui::CompareView;
using ui::ImageViewer;
using ui::MainWindow;

namespace {

constexpr int kWaitMs = 30000 * LIGHTBOX_TIME_FACTOR;
const QString kModel = QStringLiteral(LIGHTBOX_SOURCE_DIR "/models/knee-kl-resnet10s.lbx");
const QString kKneeA = QStringLiteral(LIGHTBOX_SOURCE_DIR "/resources/samples/knee-kl0-9006140L.png");
const QString kKneeB = QStringLiteral(LIGHTBOX_SOURCE_DIR "/resources/samples/knee-kl2-9015402R.png");

/// A scene with an asymmetric mark, so that a left-right flip shows: a gradient, a bright
/// block in the upper left quarter.
cv::Mat scene(int width, int height)
{
    cv::Mat m(height, width, CV_8UC1);
    for (int y = 0; y < height; ++y)
        for (int x = 0; x < width; ++x)
            m.at<uchar>(y, x) = static_cast<uchar>(20 + (150 * x) / width + (40 * y) / height);
    cv::rectangle(m, cv::Rect(width / 8, height / 8, width / 5, height / 6), cv::Scalar(250), cv::FILLED);
    return m;
}

QAction* actionNamed(QWidget* window, const QString& text)
{
    for (QAction* a : window->findChildren<QAction*>())
        if (a->text() == text)
            return a;
    return nullptr;
}

QToolButton* buttonNamed(QWidget* parent, const QString& text)
{
    for (QToolButton* b : parent->findChildren<QToolButton*>())
        if (b->text() == text && b->isVisible())
            return b;
    return nullptr;
}

/// The image point (as a share of the image's size) at the centre of the viewer.
QPointF centreShare(const ImageViewer* v)
{
    const QPointF p = v->widgetToImage(QPointF(v->width() / 2.0, v->height() / 2.0));
    return {p.x() / v->image()->width(), p.y() / v->image()->height()};
}

void drag(QWidget* w, Qt::MouseButton button, QPoint from, QPoint to)
{
    QTest::mousePress(w, button, {}, from);
    for (int i = 1; i <= 6; ++i) {
        QMouseEvent move(QEvent::MouseMove, QPointF(from + (to - from) * i / 6), w->mapToGlobal(QPointF(from)),
                         Qt::NoButton, button, {});
        QCoreApplication::sendEvent(w, &move);
    }
    QTest::mouseRelease(w, button, {}, to);
}

} // namespace

class tst_Compare : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();

    void comparesWithTheFolderNextImage();
    void linkedZoomPanAndWindowFollowEitherSide();
    void unlinkedSidesMoveAlone();
    void mirrorFlipsOneSide();
    void aFileThatFailsKeepsTheImage();
    void classifiesEitherSide();
    void aLateResultGoesToItsSide();
    void exportsFollowTheActiveSide();
    void closeReturnsToOneViewer();

private:
    CompareView* compare() const { return m_window->compareView(); }
    void startComparing();
    /// The knee model chosen, a KL 0 knee in the primary and a KL 2 knee beside it.
    void openTwoKnees();

    QTemporaryDir m_settings, m_dir;
    QString m_small, m_large, m_third, m_broken;
    std::unique_ptr<MainWindow> m_window;
};

void tst_Compare::initTestCase()
{
    QVERIFY(m_settings.isValid() && m_dir.isValid());
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settings.path());
    QCoreApplication::setOrganizationName(QStringLiteral("LightboxTest"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_compare"));
    QStandardPaths::setTestModeEnabled(true); // measurement sidecars under ~/.qttest
    // The same scene at two sizes: a prior and a current taken at different resolutions.
    m_small = m_dir.filePath(QStringLiteral("a-small.png"));
    m_large = m_dir.filePath(QStringLiteral("b-large.png"));
    m_third = m_dir.filePath(QStringLiteral("c-third.png"));
    QVERIFY(cv::imwrite(m_small.toStdString(), scene(400, 300)));
    QVERIFY(cv::imwrite(m_large.toStdString(), scene(800, 600)));
    QVERIFY(cv::imwrite(m_third.toStdString(), scene(300, 300)));
    m_broken = m_dir.filePath(QStringLiteral("broken.png"));
    QFile f(m_broken);
    QVERIFY(f.open(QIODevice::WriteOnly));
    QFile good(m_large);
    QVERIFY(good.open(QIODevice::ReadOnly));
    f.write(good.read(120)); // a truncated PNG: its header and nothing more
}

void tst_Compare::init()
{
    QSettings().clear();
    m_window = std::make_unique<MainWindow>();
    m_window->setInteractive(false);
    m_window->setSynchronousLoading(true);
    m_window->resize(1400, 900);
    m_window->show();
    QVERIFY(QTest::qWaitForWindowExposed(m_window.get()));
    m_window->activateWindow();
    QVERIFY(QTest::qWaitForWindowActive(m_window.get()));
}

void tst_Compare::cleanup()
{
    m_window.reset();
}

void tst_Compare::startComparing()
{
    QVERIFY2(m_window->openFile(m_small), qPrintable(m_window->lastError()));
    QAction* action = actionNamed(m_window.get(), QStringLiteral("&Compare Side by Side"));
    QVERIFY(action);
    action->trigger();
    QVERIFY(compare()->comparing());
    QVERIFY(compare()->secondary()->hasImage());
    QTest::qWait(50); // the splitter lays the two halves out
}

void tst_Compare::openTwoKnees()
{
    ClassifyPanel* panel = m_window->classifyPanel();
    panel->setAutoPick(false);
    QVERIFY(panel->selectModel(kModel)); // described in the background (at once when it was already)
    QTRY_VERIFY_WITH_TIMEOUT(!panel->modelSummary().isEmpty(), kWaitMs);
    QVERIFY(m_window->openFile(kKneeA));
    QVERIFY(compare()->openSecondary(kKneeB));
}

void tst_Compare::comparesWithTheFolderNextImage()
{
    QVERIFY(!compare()->secondary()->isVisible());
    startComparing();
    if (QTest::currentTestFailed())
        return;
    QCOMPARE(compare()->secondaryPath(), QFileInfo(m_large).absoluteFilePath());
    QVERIFY(compare()->secondary()->isVisible());
    QCOMPARE(compare()->secondary()->image()->width(), 800);
    // Two halves of about the same width.
    QVERIFY2(
        std::abs(compare()->primary()->width() - compare()->secondary()->width()) < 8,
        qPrintable(
            QStringLiteral("%1 against %2").arg(compare()->primary()->width()).arg(compare()->secondary()->width())));
    // The chooser lists the folder and shows the image compared with; choosing another opens it.
    auto* chooser = compare()->findChild<QComboBox*>(QStringLiteral("compareChooser"));
    QVERIFY(chooser);
    QCOMPARE(chooser->currentText(), QStringLiteral("b-large.png"));
    const int third = chooser->findText(QStringLiteral("c-third.png"));
    QVERIFY(third >= 0);
    QSignalSpy changed(compare(), &CompareView::secondaryImageChanged);
    emit chooser->activated(third); // what choosing it with the mouse sends
    QCOMPARE(changed.count(), 1);
    QCOMPARE(compare()->secondary()->image()->width(), 300);
    // Stepping the main image leaves the compared one in place.
    QVERIFY(m_window->showNext());
    QCOMPARE(compare()->secondaryPath(), QFileInfo(m_third).absoluteFilePath());
}

void tst_Compare::linkedZoomPanAndWindowFollowEitherSide()
{
    startComparing();
    if (QTest::currentTestFailed())
        return;
    ImageViewer* a = compare()->primary();
    ImageViewer* b = compare()->secondary();
    QVERIFY(compare()->linked());
    const double fitA = a->zoom(), fitB = b->zoom();
    // Zoom in on the primary about a point off centre (what the wheel does).
    a->setZoom(a->zoom() * 2.5, QPointF(a->width() * 0.3, a->height() * 0.35));
    QVERIFY(std::abs(a->zoom() / fitA - 2.5) < 1e-6);
    QVERIFY2(std::abs(b->zoom() / fitB - 2.5) < 0.02, qPrintable(QString::number(b->zoom() / fitB)));
    QPointF ca = centreShare(a), cb = centreShare(b);
    QVERIFY2(std::abs(ca.x() - cb.x()) < 0.01 && std::abs(ca.y() - cb.y()) < 0.01,
             qPrintable(QStringLiteral("(%1, %2) against (%3, %4)").arg(ca.x()).arg(ca.y()).arg(cb.x()).arg(cb.y())));

    // Pan by dragging in the second viewport: the primary follows, the same part at the centre.
    actionNamed(m_window.get(), QStringLiteral("&Pan"))->trigger();
    QVERIFY(b->tool() == ImageViewer::Tool::Pan && a->tool() == ImageViewer::Tool::Pan);
    const QPointF before = centreShare(a);
    drag(b, Qt::LeftButton, QPoint(b->width() / 2, b->height() / 2), QPoint(b->width() / 2 + 90, b->height() / 2 + 40));
    QCOMPARE(compare()->active(), b); // a press makes a side the active one
    ca = centreShare(a);
    cb = centreShare(b);
    QVERIFY2(std::abs(ca.x() - before.x()) > 0.02, "the primary did not follow the pan");
    QVERIFY2(std::abs(ca.x() - cb.x()) < 0.01 && std::abs(ca.y() - cb.y()) < 0.01,
             qPrintable(QStringLiteral("(%1, %2) against (%3, %4)").arg(ca.x()).arg(ca.y()).arg(cb.x()).arg(cb.y())));

    // Window/level with the right button in the primary; invert from the View menu.
    const imaging::Window w0 = b->window();
    drag(a, Qt::RightButton, QPoint(100, 100), QPoint(160, 60));
    QCOMPARE(compare()->active(), a);
    QVERIFY(a->window().width != w0.width || a->window().center != w0.center);
    QCOMPARE(b->window().width, a->window().width);
    QCOMPARE(b->window().center, a->window().center);
    actionNamed(m_window.get(), QStringLiteral("&Invert"))->trigger();
    QVERIFY(a->inverted() && b->inverted());
    // Fit on the active side fits both.
    actionNamed(m_window.get(), QStringLiteral("&Fit to Window"))->trigger();
    QVERIFY(std::abs(a->zoom() - fitA) < 1e-6 && std::abs(b->zoom() - fitB) < 1e-6);
}

void tst_Compare::unlinkedSidesMoveAlone()
{
    startComparing();
    if (QTest::currentTestFailed())
        return;
    ImageViewer* a = compare()->primary();
    ImageViewer* b = compare()->secondary();
    QToolButton* link = buttonNamed(compare(), QStringLiteral("Linked"));
    QVERIFY(link && link->isChecked());
    QTest::mouseClick(link, Qt::LeftButton);
    QVERIFY(!compare()->linked());
    QAction* menu = actionNamed(m_window.get(), QStringLiteral("&Link Compared Views"));
    QVERIFY(menu && !menu->isChecked()); // the menu follows the button
    const double zoomB = b->zoom();
    const imaging::Window wB = b->window();
    a->setZoom(a->zoom() * 3);
    imaging::Window narrow;
    narrow.center = 40;
    narrow.width = 80;
    a->setWindow(narrow);
    QCOMPARE(b->zoom(), zoomB);
    QCOMPARE(b->window().width, wB.width);
    // Linked again: the other side lines up with the active one at once.
    menu->trigger();
    QVERIFY(compare()->linked() && link->isChecked());
    QVERIFY(std::abs(b->linkedView().zoomToFit - a->linkedView().zoomToFit) < 1e-6);
    QCOMPARE(b->window().width, 80.0);
}

void tst_Compare::mirrorFlipsOneSide()
{
    startComparing();
    if (QTest::currentTestFailed())
        return;
    ImageViewer* b = compare()->secondary();
    // The second header's Mirror button (the first is the primary's).
    QList<QToolButton*> mirrors;
    for (QToolButton* t : compare()->findChildren<QToolButton*>())
        if (t->text() == QStringLiteral("Mirror"))
            mirrors << t;
    QCOMPARE(mirrors.size(), 2);
    QToolButton* second = mirrors[0]->isVisible() && mirrors[0]->mapTo(compare(), QPoint()).x() > compare()->width() / 2
                              ? mirrors[0]
                              : mirrors[1];
    QTest::mouseClick(second, Qt::LeftButton);
    QVERIFY(b->flippedHorizontally());
    QVERIFY(!compare()->primary()->flippedHorizontally());
    QVERIFY(second->isChecked());
    // Native resolution, no overlays: the 8-bit image under its full-range window, flipped.
    const QImage shown = b->renderView(false, true).convertToFormat(QImage::Format_Grayscale8);
    const cv::Mat expected = [&] {
        cv::Mat m = cv::imread(compare()->secondaryPath().toStdString(), cv::IMREAD_GRAYSCALE), f;
        cv::flip(m, f, 1);
        return f;
    }();
    QCOMPARE(shown.width(), expected.cols);
    int worst = 0;
    for (int y = 0; y < expected.rows; ++y)
        for (int x = 0; x < expected.cols; ++x)
            worst = std::max(worst, std::abs(int(shown.constScanLine(y)[x]) - int(expected.at<uchar>(y, x))));
    QVERIFY2(worst <= 1, qPrintable(QStringLiteral("largest difference %1").arg(worst)));
    // Again: back to the image as stored.
    QTest::mouseClick(second, Qt::LeftButton);
    QVERIFY(!b->flippedHorizontally() && !second->isChecked());
}

void tst_Compare::aFileThatFailsKeepsTheImage()
{
    startComparing();
    if (QTest::currentTestFailed())
        return;
    const auto before = compare()->secondary()->image();
    QVERIFY(!compare()->openSecondary(m_broken));
    QVERIFY(!compare()->secondaryError().isEmpty());
    QCOMPARE(compare()->secondary()->image(), before);
    QCOMPARE(compare()->secondaryPath(), QFileInfo(m_large).absoluteFilePath());
    QVERIFY2(m_window->statusText().contains(QStringLiteral("broken.png")), qPrintable(m_window->statusText()));
    // A file that is not there at all.
    QVERIFY(!compare()->openSecondary(m_dir.filePath(QStringLiteral("missing.dcm"))));
    QCOMPARE(compare()->secondary()->image(), before);
}

void tst_Compare::classifiesEitherSide()
{
    ClassifyPanel* panel = m_window->classifyPanel();
    openTwoKnees();
    if (QTest::currentTestFailed())
        return;
    panel->setSynchronous(true);
    ImageViewer* a = compare()->primary();
    ImageViewer* b = compare()->secondary();

    QCOMPARE(compare()->active(), a);
    panel->run();
    QVERIFY2(panel->lastResult() && panel->lastResult()->ok(), qPrintable(panel->errorText()));
    const std::vector<double> barsA = panel->barValues();
    QVERIFY(a->hasHeatMap() && !b->hasHeatMap());

    // Clicking into the second side moves the panel there: no result yet, the first keeps its map.
    QTest::mouseClick(b, Qt::LeftButton, {}, QPoint(10, b->height() - 10));
    QCOMPARE(compare()->active(), b);
    QCOMPARE(panel->viewer(), b);
    QVERIFY(!panel->lastResult());
    QVERIFY(a->hasHeatMap());
    m_window->classifyAction()->trigger(); // Ctrl+R
    QVERIFY2(panel->lastResult() && panel->lastResult()->ok(), qPrintable(panel->errorText()));
    QVERIFY(b->hasHeatMap() && a->hasHeatMap());
    const std::vector<double> barsB = panel->barValues();
    QVERIFY(barsA != barsB); // two different knees (KL 0 and KL 2)

    // Back to the first side: its own result again, both maps kept.
    QTest::mouseClick(a, Qt::LeftButton, {}, QPoint(10, a->height() - 10));
    QCOMPARE(panel->viewer(), a);
    QVERIFY(panel->lastResult());
    QCOMPARE(panel->barValues(), barsA);
    QVERIFY(a->hasHeatMap() && b->hasHeatMap());
    // Another image on the second side drops its map and its kept result.
    QVERIFY(compare()->openSecondary(kKneeA));
    QVERIFY(!b->hasHeatMap());
    QTest::mouseClick(b, Qt::LeftButton, {}, QPoint(10, b->height() - 10));
    QVERIFY(!panel->lastResult());
}

void tst_Compare::aLateResultGoesToItsSide()
{
    ClassifyPanel* panel = m_window->classifyPanel();
    openTwoKnees();
    if (QTest::currentTestFailed())
        return;
    ImageViewer* a = compare()->primary();
    ImageViewer* b = compare()->secondary();
    compare()->setActive(b);
    panel->run();            // in the background
    compare()->setActive(a); // the user moves on before it finishes
    QTRY_VERIFY_WITH_TIMEOUT(b->hasHeatMap(), kWaitMs);
    QVERIFY(!a->hasHeatMap());
    QVERIFY(!panel->lastResult()); // the panel shows the primary, which has none
    compare()->setActive(b);
    QVERIFY(panel->lastResult() && panel->lastResult()->ok());
}

void tst_Compare::exportsFollowTheActiveSide()
{
    startComparing();
    if (QTest::currentTestFailed())
        return;
    const QString out = m_dir.filePath(QStringLiteral("export.png"));
    compare()->setActive(compare()->secondary());
    QVERIFY2(m_window->exportViewTo(out, false, true), qPrintable(m_window->lastError()));
    QCOMPARE(QImage(out).size(), QSize(800, 600));
    compare()->setActive(compare()->primary());
    QVERIFY(m_window->exportViewTo(out, false, true));
    QCOMPARE(QImage(out).size(), QSize(400, 300));
}

void tst_Compare::closeReturnsToOneViewer()
{
    startComparing();
    if (QTest::currentTestFailed())
        return;
    compare()->setActive(compare()->secondary());
    QToolButton* close = buttonNamed(compare(), QStringLiteral("Close"));
    QVERIFY(close);
    QTest::mouseClick(close, Qt::LeftButton);
    QVERIFY(!compare()->comparing());
    QVERIFY(!compare()->secondary()->isVisible());
    QCOMPARE(compare()->active(), compare()->primary());
    QCOMPARE(m_window->classifyPanel()->viewer(), compare()->primary());
    QVERIFY(!actionNamed(m_window.get(), QStringLiteral("&Compare Side by Side"))->isChecked());
    // X opens it again with the image it had.
    QTest::keyClick(m_window.get(), Qt::Key_X);
    QVERIFY(compare()->comparing());
    QCOMPARE(compare()->secondaryPath(), QFileInfo(m_large).absoluteFilePath());
}

QTEST_MAIN(tst_Compare)
#include "tst_compare.moc"
