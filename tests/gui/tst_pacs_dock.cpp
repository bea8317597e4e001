// The PACS dock in the main window against a real Orthanc started on loopback: echo, a
// search whose tree shows patient, study and series, retrieves by C-GET and C-MOVE whose
// files open in the viewer, cancel, sending the file, the view and the report, and a node
// that is not there. Driven through the dock's widgets; the event loop must keep turning
// while a retrieve runs. With LIGHTBOX_SCREENSHOT_DIR set it saves the dock with a search
// result and with a retrieve under way.
#include "pacs/OrthancServer.h"
#include "pacs/SyntheticStudy.h"

#include "../StallMeter.h"

#include <ImageViewer.h>
#include <MainWindow.h>
#include <PacsDock.h>
#include <jobs/PacsJob.h>
#include <net/PacsClient.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDateEdit>
#include <QDir>
#include <QDirIterator>
#include <QDockWidget>
#include <QLineEdit>
#include <QListWidget>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include <set>

using namespace lightbox;
using lightbox::test::MadeStudy;
using lightbox::test::makeStudy;
using lightbox::test::OrthancServer;

namespace {

constexpr int kWaitMs = 30000 * LIGHTBOX_TIME_FACTOR;
const QString kShared = QStringLiteral(LIGHTBOX_SHARED_DATA);

template <typename T> T* child(QWidget* parent, const char* name)
{
    return parent->findChild<T*>(QString::fromLatin1(name));
}

QStringList dicomFilesUnder(const QString& dir)
{
    QStringList out;
    QDirIterator it(dir, {QStringLiteral("*.dcm")}, QDir::Files, QDirIterator::Subdirectories);
    while (it.hasNext())
        out << it.next();
    return out;
}

QTreeWidgetItem* studyItem(QTreeWidget* tree, const QString& patientId)
{
    for (int i = 0; i < tree->topLevelItemCount(); ++i)
        if (tree->topLevelItem(i)->text(1) == patientId && tree->topLevelItem(i)->childCount() > 0)
            return tree->topLevelItem(i)->child(0);
    return nullptr;
}

} // namespace

class TestPacsDock : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void init();
    void cleanup();
    void echoAndAMissingNode();
    void searchShowsPatientsStudiesAndSeries();
    void retrieveOpensTheStudy();
    void moveAndCancel();
    void sendFileViewAndReport();
    void cleanupTestCase();

private:
    bool waitAnswered(int answersBefore);
    void setNode(int port);
    void search(const QString& name, const QString& from = {});
    void screenshot(const QString& name);

    QTemporaryDir m_tmp;
    std::unique_ptr<OrthancServer> m_orthanc;
    net::PacsNode m_node;
    int m_ownPort = 0;
    MadeStudy m_jane, m_john, m_big;
    std::unique_ptr<ui::MainWindow> m_window;
    ui::PacsDock* m_dock = nullptr;
    std::unique_ptr<QSignalSpy> m_answers;
};

void TestPacsDock::initTestCase()
{
    if (OrthancServer::executable().isEmpty())
        QSKIP("/usr/sbin/Orthanc is missing (scripts/setup.sh installs the orthanc package)");
    QStandardPaths::setTestModeEnabled(true); // settings and the retrieve cache under ~/.qttest
    QVERIFY(m_tmp.isValid());
    m_ownPort = OrthancServer::freePort();
    OrthancServer::Options o;
    o.modalities = {{"LIGHTBOX", "127.0.0.1", m_ownPort}};
    m_orthanc = std::make_unique<OrthancServer>(o);
    QString error;
    QVERIFY2(m_orthanc->start(&error), qPrintable(error));
    m_node = {"ORTHANC", "127.0.0.1", m_orthanc->dicomPort(), false};

    const QString dir = m_tmp.filePath(QStringLiteral("studies"));
    m_jane = makeStudy(dir, {"DOE^JANE", "P001", "20240115", "CT", "ACC001", 2, 3});
    m_john = makeStudy(dir, {"DOE^JOHN", "P002", "20240220", "MR", "ACC002", 1, 2});
    // Large enough that a retrieve is seen under way: 80 images of 512 x 512.
    m_big = makeStudy(dir, {"BIG^STUDY", "P009", "20240301", "DX", "ACC009", 1, 80, 512});
    std::vector<std::string> files;
    for (const MadeStudy* s : {&m_jane, &m_john, &m_big})
        files.insert(files.end(), s->files.begin(), s->files.end());
    files.push_back((kShared + "/dicom/chest-cr-RG1_J2KI.dcm").toStdString());
    net::LocalAe local;
    auto stored = net::store(m_node, local, files);
    QVERIFY2(stored, stored.error().c_str());
    QCOMPARE(stored->sent, int(files.size()));
}

void TestPacsDock::init()
{
    QDir(jobs::defaultPacsCacheFolder()).removeRecursively();
    m_window = std::make_unique<ui::MainWindow>();
    m_window->setInteractive(false);
    m_window->setSynchronousLoading(true);
    m_window->resize(1500, 950);
    m_window->show();
    m_dock = m_window->pacsDock();
    QVERIFY(m_dock);
    auto* dock = m_window->findChild<QDockWidget*>(QStringLiteral("pacsDock"));
    QVERIFY(dock);
    dock->show();
    dock->raise();
    m_answers = std::make_unique<QSignalSpy>(m_dock, &ui::PacsDock::answered);
    setNode(m_node.port);
    child<QLineEdit>(m_dock, "pacsOwnAe")->setText(QStringLiteral("LIGHTBOX"));
    child<QSpinBox>(m_dock, "pacsOwnPort")->setValue(m_ownPort);
}

void TestPacsDock::cleanup()
{
    m_answers.reset();
    m_window.reset();
}

void TestPacsDock::cleanupTestCase()
{
    QDir(jobs::defaultPacsCacheFolder()).removeRecursively();
}

bool TestPacsDock::waitAnswered(int answersBefore)
{
    return QTest::qWaitFor([&] { return m_answers->count() > answersBefore; }, kWaitMs);
}

void TestPacsDock::setNode(int port)
{
    child<QLineEdit>(m_dock, "pacsPeerAe")->setText(QStringLiteral("ORTHANC"));
    child<QLineEdit>(m_dock, "pacsHost")->setText(QStringLiteral("127.0.0.1"));
    child<QSpinBox>(m_dock, "pacsPort")->setValue(port);
}

void TestPacsDock::search(const QString& name, const QString& from)
{
    child<QLineEdit>(m_dock, "pacsPatientName")->setText(name);
    child<QCheckBox>(m_dock, "pacsFromOn")->setChecked(!from.isEmpty());
    if (!from.isEmpty())
        child<QDateEdit>(m_dock, "pacsFrom")->setDate(QDate::fromString(from, Qt::ISODate));
    const int before = m_answers->count();
    QTest::mouseClick(child<QPushButton>(m_dock, "pacsSearch"), Qt::LeftButton);
    QVERIFY2(waitAnswered(before), "no answer to the search");
}

void TestPacsDock::screenshot(const QString& name)
{
    const QString dir = qEnvironmentVariable("LIGHTBOX_SCREENSHOT_DIR");
    if (!dir.isEmpty())
        QVERIFY(m_window->grab().save(QDir(dir).filePath(name)));
}

void TestPacsDock::echoAndAMissingNode()
{
    int before = m_answers->count();
    QTest::mouseClick(child<QPushButton>(m_dock, "pacsEcho"), Qt::LeftButton);
    QVERIFY(waitAnswered(before));
    QVERIFY2(m_dock->statusText().startsWith(QStringLiteral("Echo: ORTHANC answered in")),
             qPrintable(m_dock->statusText()));

    // Nothing listens on this port: a clear message, quickly, and the window keeps working.
    setNode(OrthancServer::freePort());
    lightbox::test::StallMeter stalls;
    before = m_answers->count();
    QElapsedTimer t;
    t.start();
    QTest::mouseClick(child<QPushButton>(m_dock, "pacsEcho"), Qt::LeftButton);
    QVERIFY(waitAnswered(before));
    QVERIFY2(m_dock->statusText().startsWith(QStringLiteral("Echo failed: ")), qPrintable(m_dock->statusText()));
    QVERIFY2(m_dock->statusText().contains(QStringLiteral("connect")), qPrintable(m_dock->statusText()));
    QVERIFY(t.elapsed() < 10000 * LIGHTBOX_TIME_FACTOR);
    QVERIFY2(stalls.maxStallMs() < 100 * LIGHTBOX_TIME_FACTOR, qPrintable(QString::number(stalls.maxStallMs())));

    // A malformed node is refused before anything is sent.
    child<QLineEdit>(m_dock, "pacsPeerAe")->setText(QStringLiteral("BAD\\AET"));
    m_dock->echo();
    QVERIFY2(m_dock->statusText().startsWith(QStringLiteral("The node is not complete")),
             qPrintable(m_dock->statusText()));
}

void TestPacsDock::searchShowsPatientsStudiesAndSeries()
{
    QVERIFY(m_window->openFile(kShared + "/dicom/chest-cr-RG1_J2KI.dcm")); // for the screenshot
    search(QStringLiteral("DOE^*"));
    QTreeWidget* tree = m_dock->results();
    QCOMPARE(tree->topLevelItemCount(), 2);
    QTreeWidgetItem* jane = studyItem(tree, QStringLiteral("P001"));
    QVERIFY(jane);
    QCOMPARE(jane->parent()->text(0), QStringLiteral("DOE, JANE"));
    QCOMPARE(jane->text(1), QStringLiteral("ACC001"));
    QCOMPARE(jane->text(2), QStringLiteral("2024-01-15"));
    QCOMPARE(jane->text(3), QStringLiteral("CT"));
    QCOMPARE(jane->text(4), QStringLiteral("6"));

    // Opening the study asks for its series.
    const int before = m_answers->count();
    jane->setExpanded(true);
    QVERIFY(waitAnswered(before));
    QCOMPARE(jane->childCount(), 2);
    std::set<QString> uids;
    for (int i = 0; i < 2; ++i) {
        QCOMPARE(jane->child(i)->text(4), QStringLiteral("3"));
        QCOMPARE(jane->child(i)->text(3), QStringLiteral("CT"));
        uids.insert(jane->child(i)->data(0, Qt::UserRole).toString());
    }
    QCOMPARE(uids, (std::set<QString>{QString::fromStdString(m_jane.seriesUids[0]),
                                      QString::fromStdString(m_jane.seriesUids[1])}));
    tree->setCurrentItem(jane);
    screenshot(QStringLiteral("pacs-search.png"));

    // A date range: only John's study is from February on.
    search(QStringLiteral("DOE^*"), QStringLiteral("2024-02-01"));
    QCOMPARE(tree->topLevelItemCount(), 1);
    QCOMPARE(tree->topLevelItem(0)->text(1), QStringLiteral("P002"));
}

void TestPacsDock::retrieveOpensTheStudy()
{
    search(QStringLiteral("DOE^JANE"));
    QTreeWidgetItem* jane = studyItem(m_dock->results(), QStringLiteral("P001"));
    QVERIFY(jane);
    m_dock->results()->setCurrentItem(jane);
    QSignalSpy retrieved(m_dock, &ui::PacsDock::filesRetrieved);
    QTest::mouseClick(child<QPushButton>(m_dock, "pacsRetrieve"), Qt::LeftButton);
    QVERIFY(QTest::qWaitFor([&] { return retrieved.count() == 1; }, kWaitMs));
    const QStringList files = retrieved.first().first().toStringList();
    QCOMPARE(files.size(), 6);
    std::set<std::string> sops;
    for (const QString& f : files) {
        QVERIFY(QFileInfo(f).isFile());
        QVERIFY(f.startsWith(jobs::defaultPacsCacheFolder()));
        sops.insert(QFileInfo(f).completeBaseName().toStdString());
    }
    QCOMPARE(sops, std::set<std::string>(m_jane.sopUids.begin(), m_jane.sopUids.end()));
    // The first file is shown, its series in the folder list.
    QCOMPARE(m_window->currentPath(), files.first());
    auto* folder =
        qobject_cast<QListWidget*>(m_window->findChild<QDockWidget*>(QStringLiteral("folderDock"))->widget());
    QVERIFY(folder);
    QCOMPARE(folder->count(), 3);
    QVERIFY2(m_dock->statusText().startsWith(QStringLiteral("Retrieved 6 images")), qPrintable(m_dock->statusText()));
}

void TestPacsDock::moveAndCancel()
{
    QVERIFY(m_window->openFile(kShared + "/dicom/chest-cr-RG1_J2KI.dcm")); // for the screenshot
    auto* by = child<QComboBox>(m_dock, "pacsRetrieveBy");
    by->setCurrentIndex(by->findData(QStringLiteral("move")));
    search(QStringLiteral("BIG^STUDY"));
    QTreeWidgetItem* big = studyItem(m_dock->results(), QStringLiteral("P009"));
    QVERIFY(big);
    m_dock->results()->setCurrentItem(big);

    // A C-MOVE under way: seen on the progress bar (and in the screenshot), the event loop
    // turning, then the whole study.
    QSignalSpy retrieved(m_dock, &ui::PacsDock::filesRetrieved);
    auto* bar = child<QPushButton>(m_dock, "pacsRetrieve")->parentWidget()->findChild<QProgressBar*>();
    QVERIFY(bar);
    bool shot = false;
    int midValue = -1, midMaximum = -1;
    lightbox::test::StallMeter stalls;
    qint64 stallBeforeShot = 0;
    // On an idle machine the 42 MB arrive in 0.1-0.2 s: reports every 10 ms (not 100) so that
    // one comes in the middle.
    m_dock->job()->setProgressInterval(10);
    auto connection = connect(m_dock->job(), &jobs::PacsJob::progress, this, [&](quint64, const net::Progress& p) {
        if (!shot && p.completed >= 5 && p.remaining > 0) {
            shot = true;
            // The dock's slot, connected first, has shown this report on the bar.
            midValue = bar->value();
            midMaximum = bar->maximum();
            // The screenshot is the test's work, not the program's: not counted as a stall.
            stallBeforeShot = stalls.maxStallMs();
            screenshot(QStringLiteral("pacs-retrieve.png"));
            stalls.restart();
        }
    });
    QTest::mouseClick(child<QPushButton>(m_dock, "pacsRetrieve"), Qt::LeftButton);
    QVERIFY(m_dock->retrieving());
    QVERIFY(!child<QPushButton>(m_dock, "pacsRetrieve")->isEnabled());
    QVERIFY(QTest::qWaitFor([&] { return retrieved.count() == 1; }, kWaitMs));
    disconnect(connection);
    QVERIFY2(m_dock->statusText().startsWith(QStringLiteral("Retrieved 80 images")), qPrintable(m_dock->statusText()));
    qInfo("%s", qPrintable(m_dock->statusText()));
    QCOMPARE(retrieved.first().first().toStringList().size(), 80);
    QVERIFY2(shot, "no progress report in the middle of the retrieve");
    QCOMPARE(midMaximum, 80);
    QVERIFY(midValue >= 5 && midValue < 80);
    const qint64 maxStall = std::max(stallBeforeShot, stalls.maxStallMs());
    QVERIFY2(maxStall < 100 * LIGHTBOX_TIME_FACTOR, qPrintable(QString::number(maxStall)));

    // Cancel at the first progress report: "cancelled", and no file of the study is left.
    QDir(jobs::defaultPacsCacheFolder()).removeRecursively();
    by->setCurrentIndex(by->findData(QStringLiteral("get")));
    connection = connect(m_dock->job(), &jobs::PacsJob::progress, this,
                         [&] { QTest::mouseClick(child<QPushButton>(m_dock, "pacsCancel"), Qt::LeftButton); });
    const int before = m_answers->count();
    QTest::mouseClick(child<QPushButton>(m_dock, "pacsRetrieve"), Qt::LeftButton);
    QVERIFY(waitAnswered(before));
    disconnect(connection);
    QVERIFY2(m_dock->statusText().startsWith(QStringLiteral("Retrieve failed: ")) &&
                 m_dock->statusText().contains(QStringLiteral("cancelled")),
             qPrintable(m_dock->statusText()));
    QVERIFY(dicomFilesUnder(jobs::defaultPacsCacheFolder()).isEmpty());
    QCOMPARE(retrieved.count(), 1);
    QVERIFY(child<QPushButton>(m_dock, "pacsRetrieve")->isEnabled());
}

void TestPacsDock::sendFileViewAndReport()
{
    // The shown DICOM file, a Secondary Capture of the view and the report go to the node and
    // are found there again, in the study of the image.
    const QString source = kShared + "/dicom/chest-cr-RG1_J2KI.dcm";
    QVERIFY(m_window->openFile(source));
    const std::string studyUid = m_window->activeViewer()->image()->keyTag("StudyInstanceUID");
    net::LocalAe local;
    net::Query query;
    query.studyUid = studyUid;
    auto instancesBefore = net::find(m_node, local, net::Level::Image, query);
    QVERIFY2(instancesBefore, instancesBefore.error().c_str());

    for (const char* what : {"file", "capture", "report"}) {
        const int before = m_answers->count();
        QTest::mouseClick(child<QPushButton>(m_dock, (std::string("pacsSend-") + what).c_str()), Qt::LeftButton);
        QVERIFY(waitAnswered(before));
        QVERIFY2(m_dock->statusText() == QStringLiteral("Sent 1 to ORTHANC"), qPrintable(m_dock->statusText()));
    }
    auto after = net::find(m_node, local, net::Level::Image, query);
    QVERIFY2(after, after.error().c_str());
    // The file was there already; the capture and the report are new instances.
    QCOMPARE(after->matches.size(), instancesBefore->matches.size() + 2);
    std::set<std::string> classes;
    for (const net::Match& m : after->matches)
        classes.insert(m.sopClassUid);
    QVERIFY(classes.count("1.2.840.10008.5.1.4.1.1.7"));     // Secondary Capture
    QVERIFY(classes.count("1.2.840.10008.5.1.4.1.1.104.1")); // Encapsulated PDF

    // A PNG is no DICOM file: the dock says to send the view instead, and sends nothing.
    QVERIFY(m_window->openFile(QStringLiteral(LIGHTBOX_SOURCE_DIR "/resources/samples/knee-kl0-9006140L.png")));
    m_dock->send(QStringLiteral("file"));
    QVERIFY2(m_dock->statusText().contains(QStringLiteral("no DICOM file")), qPrintable(m_dock->statusText()));
}

QTEST_MAIN(TestPacsDock)
#include "tst_pacs_dock.moc"
