// The PACS networking of core/net against a real Orthanc started on loopback for the test:
// echo, find at every level, C-GET and C-MOVE, C-STORE, the storage SCP's peer check, the
// retrieve cache, TLS, and the failures a network gives (closed port, silent peer, refused
// association, a peer that dies mid-transfer, cancel, thousands of matches, hostile UIDs).
// Over 600 lines: every function uses the one Orthanc that initTestCase starts and fills
// (about 5 s); split into suites, each would start and fill its own.
#include "CliRun.h"
#include "pacs/OrthancServer.h"
#include "pacs/SyntheticStudy.h"

#include <net/PacsClient.h>
#include <net/StorageCache.h>
#include <net/StorageServer.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcmetinf.h>
#include <dcmtk/dcmdata/dcpixel.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcuid.h>

#include <QDirIterator>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSet>
#include <QTemporaryDir>
#include <QtTest>

#include <unistd.h>

#include <array>
#include <csignal>
#include <map>
#include <set>

using namespace lightbox;
using lightbox::test::MadeStudy;
using lightbox::test::makeStudy;
using lightbox::test::OrthancServer;

namespace {

const QString kShared = QStringLiteral(LIGHTBOX_SHARED_DATA);
const QString kCli = QStringLiteral(LIGHTBOX_BINARY_DIR) + "/app/lightbox-cli";

// The pixel data as stored: the fragments of encapsulated data, else the values.
QByteArray pixelBytes(const std::string& path)
{
    DcmFileFormat ff;
    if (ff.loadFile(path.c_str()).bad())
        return {};
    DcmElement* e = nullptr;
    if (ff.getDataset()->findAndGetElement(DCM_PixelData, e).bad() || !e)
        return {};
    DcmPixelData* pd = static_cast<DcmPixelData*>(e);
    DcmPixelSequence* seq = nullptr;
    E_TransferSyntax xfer = ff.getDataset()->getOriginalXfer();
    QByteArray out;
    if (DcmXfer(xfer).isEncapsulated() && pd->getEncapsulatedRepresentation(xfer, nullptr, seq).good() && seq) {
        for (unsigned long i = 0; i < seq->card(); ++i) {
            DcmPixelItem* item = nullptr;
            Uint8* data = nullptr;
            if (seq->getItem(item, i).good() && item->getUint8Array(data).good() && data)
                out.append(reinterpret_cast<const char*>(data), int(item->getLength()));
        }
        return out;
    }
    Uint16* words = nullptr;
    if (pd->getUint16Array(words).good() && words)
        return QByteArray(reinterpret_cast<const char*>(words), int(pd->getLength()));
    Uint8* bytes = nullptr;
    if (pd->getUint8Array(bytes).good() && bytes)
        return QByteArray(reinterpret_cast<const char*>(bytes), int(pd->getLength()));
    return {};
}

std::string tagOf(const std::string& path, const DcmTagKey& tag, bool meta = false)
{
    DcmFileFormat ff;
    if (ff.loadFile(path.c_str()).bad())
        return {};
    OFString v;
    (meta ? static_cast<DcmItem*>(ff.getMetaInfo()) : ff.getDataset())->findAndGetOFString(tag, v);
    return v.c_str();
}

QStringList filesUnder(const QString& dir)
{
    QStringList out;
    QDirIterator it(dir, QDir::Files | QDir::Hidden, QDirIterator::Subdirectories);
    while (it.hasNext())
        out << it.next();
    return out;
}

std::set<std::string> asSet(const std::vector<std::string>& v)
{
    return {v.begin(), v.end()};
}

using Run = lightbox::test::CliRun;

Run cli(const QStringList& args)
{
    return lightbox::test::runProgram(kCli, args, 60000 * LIGHTBOX_TIME_FACTOR);
}

} // namespace

class TestPacs : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::unique_ptr<OrthancServer> m_orthanc;
    net::PacsNode m_node;
    net::LocalAe m_local;
    // What the test stored in the main Orthanc.
    std::map<std::string, std::string> m_fileOfSop; // SOP instance UID -> original file
    std::map<std::string, std::vector<std::string>> m_sopsOfStudy;
    MadeStudy m_jane, m_john, m_anna;
    std::vector<MadeStudy> m_perf;
    std::vector<std::string> m_realStudies;

    std::string cacheDir(const QString& name) { return m_tmp.filePath("cache-" + name).toStdString(); }
    void remember(const MadeStudy& s)
    {
        for (size_t i = 0; i < s.files.size(); ++i) {
            m_fileOfSop[s.sopUids[i]] = s.files[i];
            m_sopsOfStudy[s.studyUid].push_back(s.sopUids[i]);
        }
    }
    void checkRetrieved(const net::RetrieveSummary& r, const std::string& study, const std::string& cache);

private slots:
    void initTestCase();
    void parseNodeRejectsMalformed_data();
    void parseNodeRejectsMalformed();
    void uidsThatCannotEscape_data();
    void uidsThatCannotEscape();
    void echo();
    void findAtEachLevel();
    void findByDateRanges_data();
    void findByDateRanges();
    void findRejectsBadQueries();
    void getReturnsTheStoredInstances();
    void moveReturnsTheStoredInstances();
    void storeThenFind();
    void storeReportsUnreadableFiles();
    void closedPortAndUnknownHost();
    void wrongCalledAeTitleIsRejected();
    void silentPeerTimesOut();
    void moveToAnUnknownDestination();
    void storageScpChecksTitleAndAddress();
    void hostileUidsStayInTheCache();
    void cancelRemovesPartialFiles();
    void peerDyingMidTransferLeavesNothing();
    void thousandsOfMatchesAreCappedAndPaged();
    void tls();
    void cacheEvictsLeastRecentlyUsed();
    void timingOfTenStudies();
    void commandLine();
    void cleanupTestCase();
};

void TestPacs::initTestCase()
{
    if (OrthancServer::executable().isEmpty())
        QSKIP("/usr/sbin/Orthanc is missing (scripts/setup.sh installs the orthanc package)");
    QVERIFY(m_tmp.isValid());
    m_local.aeTitle = "LIGHTBOX";
    m_local.port = OrthancServer::freePort();
    m_local.timeoutSeconds = 10;
    OrthancServer::Options o;
    o.modalities = {{"LIGHTBOX", "127.0.0.1", m_local.port}};
    m_orthanc = std::make_unique<OrthancServer>(o);
    QString error;
    QVERIFY2(m_orthanc->start(&error), qPrintable(error));
    m_node = {"ORTHANC", "127.0.0.1", m_orthanc->dicomPort(), false};

    // Real files in their own transfer syntaxes (JPEG 2000 lossy and lossless, JPEG baseline);
    // the _raw twins share their UIDs and stay out.
    std::vector<std::string> files;
    for (const char* name : {"chest-cr-RG1_J2KI.dcm", "tibia-cr-RG3_J2KR.dcm", "chest-cr-rsna-jpegbaseline.dcm"}) {
        const std::string path = (kShared + "/dicom/" + name).toStdString();
        files.push_back(path);
        const std::string sop = tagOf(path, DCM_SOPInstanceUID);
        const std::string study = tagOf(path, DCM_StudyInstanceUID);
        m_fileOfSop[sop] = path;
        m_sopsOfStudy[study].push_back(sop);
        m_realStudies.push_back(study);
    }
    const QString synth = m_tmp.filePath("synthetic");
    m_jane = makeStudy(synth, {"DOE^JANE", "P001", "20240115", "CT", "ACC001", 2, 3});
    m_john = makeStudy(synth, {"DOE^JOHN", "P002", "20240220", "MR", "ACC002", 1, 2});
    m_anna = makeStudy(synth, {"SMITH^ANNA", "P003", "20231105", "CR", "ACC003", 1, 1});
    for (const MadeStudy* s : {&m_jane, &m_john, &m_anna}) {
        remember(*s);
        files.insert(files.end(), s->files.begin(), s->files.end());
    }
    for (int i = 0; i < 10; ++i) {
        m_perf.push_back(makeStudy(synth, {"PERF^" + std::to_string(i), "PERF" + std::to_string(i),
                                           "2022010" + std::to_string(i % 9 + 1), "US", "", 2, 2, 128}));
        remember(m_perf.back());
        files.insert(files.end(), m_perf.back().files.begin(), m_perf.back().files.end());
    }
    QElapsedTimer t;
    t.start();
    net::Control control;
    int reports = 0;
    control.progress = [&](const net::Progress&) { ++reports; };
    auto stored = net::store(m_node, m_local, files, control);
    QVERIFY2(stored, stored.error().c_str());
    QCOMPARE(stored->sent, int(files.size()));
    QCOMPARE(stored->failed, 0);
    QVERIFY(stored->bytes > 1000000);
    QVERIFY(reports >= int(files.size()));
    qInfo("stored %d instances (%.1f MB) in %lld ms", stored->sent, stored->bytes / 1e6, t.elapsed());
}

void TestPacs::parseNodeRejectsMalformed_data()
{
    QTest::addColumn<QString>("text");
    QTest::addColumn<QString>("reason");
    QTest::newRow("no at") << "ORTHANC127.0.0.1:4242"
                           << "no '@'";
    QTest::newRow("no port") << "ORTHANC@127.0.0.1"
                             << "no ':PORT'";
    QTest::newRow("port zero") << "ORTHANC@host:0"
                               << "1..65535";
    QTest::newRow("port too big") << "ORTHANC@host:65536"
                                  << "1..65535";
    QTest::newRow("port text") << "ORTHANC@host:http"
                               << "not a number";
    QTest::newRow("long title") << "ABCDEFGHIJKLMNOPQ@host:104"
                                << "longer than 16";
    QTest::newRow("backslash") << "OR\\THANC@host:104"
                               << "backslash";
    QTest::newRow("control") << "OR\tTHANC@host:104"
                             << "control";
    QTest::newRow("empty title") << "@host:104"
                                 << "empty";
    QTest::newRow("empty host") << "ORTHANC@:104"
                                << "host is empty";
    QTest::newRow("space in host") << "ORTHANC@my host:104"
                                   << "host";
    QTest::newRow("open bracket") << "ORTHANC@[::1:104"
                                  << "IPv6";
}

void TestPacs::parseNodeRejectsMalformed()
{
    QFETCH(QString, text);
    QFETCH(QString, reason);
    auto r = net::parseNode(text.toStdString());
    QVERIFY(!r);
    QVERIFY2(QString::fromStdString(r.error()).contains(reason), r.error().c_str());
    QVERIFY(r.error().find('\n') == std::string::npos);

    auto good = net::parseNode("ORTHANC@pacs.example.org:4242");
    QVERIFY(good);
    QCOMPARE(QString::fromStdString(good->host), QString("pacs.example.org"));
    QCOMPARE(good->port, 4242);
    auto v6 = net::parseNode("PACS@[::1]:104");
    QVERIFY(v6);
    QCOMPARE(QString::fromStdString(v6->host), QString("::1"));
    QCOMPARE(QString::fromStdString(v6->toString()), QString("PACS@[::1]:104"));
}

void TestPacs::uidsThatCannotEscape_data()
{
    QTest::addColumn<QString>("uid");
    QTest::addColumn<bool>("safe");
    QTest::newRow("plain") << "1.2.840.10008.5.1.4.1.1.7" << true;
    QTest::newRow("parent") << "../../x" << false;
    QTest::newRow("slash") << "1.2/3" << false;
    QTest::newRow("dots") << "1..2" << false;
    QTest::newRow("dot dot alone") << ".." << false;
    QTest::newRow("leading dot") << ".1.2" << false;
    QTest::newRow("trailing dot") << "1.2." << false;
    QTest::newRow("empty") << "" << false;
    QTest::newRow("letters") << "1.2.abc" << false;
    QTest::newRow("65 chars") << QString(65, '1') << false;
    QTest::newRow("64 chars") << QString(64, '1') << true;
}

void TestPacs::uidsThatCannotEscape()
{
    QFETCH(QString, uid);
    QFETCH(bool, safe);
    QCOMPARE(net::isSafeUid(uid.toStdString()), safe);
}

void TestPacs::echo()
{
    auto r = net::echo(m_node, m_local);
    QVERIFY2(r, r.error().c_str());
    QVERIFY(r->roundTripMs > 0);
    QVERIFY(r->roundTripMs < 5000);
}

void TestPacs::findAtEachLevel()
{
    net::Query q;
    q.patientName = "DOE^*";
    auto patients = net::find(m_node, m_local, net::Level::Patient, q);
    QVERIFY2(patients, patients.error().c_str());
    std::set<std::string> ids;
    for (const auto& m : patients->matches)
        ids.insert(m.patientId);
    QCOMPARE(ids, (std::set<std::string>{"P001", "P002"}));
    QVERIFY(!patients->truncated);

    q.patientName = "DOE^J?HN";
    auto john = net::find(m_node, m_local, net::Level::Study, q);
    QVERIFY2(john, john.error().c_str());
    QCOMPARE(int(john->matches.size()), 1);
    const net::Match& s = john->matches[0];
    QCOMPARE(s.studyUid, m_john.studyUid);
    QCOMPARE(s.patientName, std::string("DOE^JOHN"));
    QCOMPARE(s.studyDate, std::string("20240220"));
    QCOMPARE(s.accessionNumber, std::string("ACC002"));
    QCOMPARE(s.modalitiesInStudy, std::string("MR"));
    QCOMPARE(s.studyInstances, 2);

    net::Query byModality;
    byModality.modality = "CT";
    auto ct = net::find(m_node, m_local, net::Level::Study, byModality);
    QVERIFY2(ct, ct.error().c_str());
    QCOMPARE(int(ct->matches.size()), 1);
    QCOMPARE(ct->matches[0].studyUid, m_jane.studyUid);

    net::Query byAccession;
    byAccession.accessionNumber = "ACC003";
    auto anna = net::find(m_node, m_local, net::Level::Study, byAccession);
    QVERIFY2(anna, anna.error().c_str());
    QCOMPARE(int(anna->matches.size()), 1);
    QCOMPARE(anna->matches[0].patientId, std::string("P003"));

    net::Query inStudy;
    inStudy.studyUid = m_jane.studyUid;
    auto series = net::find(m_node, m_local, net::Level::Series, inStudy);
    QVERIFY2(series, series.error().c_str());
    QCOMPARE(int(series->matches.size()), 2);
    std::set<std::string> seriesUids;
    for (const auto& m : series->matches) {
        seriesUids.insert(m.seriesUid);
        QCOMPARE(m.modality, std::string("CT"));
        QCOMPARE(m.seriesInstances, 3);
        QVERIFY(m.seriesNumber == "1" || m.seriesNumber == "2");
    }
    QCOMPARE(seriesUids, asSet(m_jane.seriesUids));

    inStudy.seriesUid = m_jane.seriesUids[0];
    auto images = net::find(m_node, m_local, net::Level::Image, inStudy);
    QVERIFY2(images, images.error().c_str());
    std::set<std::string> sops;
    for (const auto& m : images->matches) {
        sops.insert(m.sopInstanceUid);
        QCOMPARE(m.sopClassUid, std::string(UID_SecondaryCaptureImageStorage));
    }
    QCOMPARE(sops, asSet({m_jane.sopUids.begin(), m_jane.sopUids.begin() + 3}));
}

void TestPacs::findByDateRanges_data()
{
    QTest::addColumn<QString>("range");
    QTest::addColumn<QStringList>("expected"); // among P001 (20240115), P002 (20240220), P003 (20231105)
    QTest::newRow("closed") << "20240101-20240131" << QStringList{"P001"};
    QTest::newRow("closed wide") << "20231101-20240301" << QStringList{"P001", "P002", "P003"};
    QTest::newRow("open end") << "20240201-" << QStringList{"P002"};
    QTest::newRow("open start") << "-20231231" << QStringList{"P003"};
    QTest::newRow("one day") << "20240115" << QStringList{"P001"};
    QTest::newRow("none") << "20250101-20250131" << QStringList{};
}

void TestPacs::findByDateRanges()
{
    QFETCH(QString, range);
    QFETCH(QStringList, expected);
    net::Query q;
    q.studyDate = range.toStdString();
    auto r = net::find(m_node, m_local, net::Level::Study, q);
    QVERIFY2(r, r.error().c_str());
    QStringList got;
    for (const auto& m : r->matches)
        if (m.patientId == "P001" || m.patientId == "P002" || m.patientId == "P003")
            got << QString::fromStdString(m.patientId);
    got.sort();
    QCOMPARE(got, expected);
    // Nothing outside the range came back either (the shared files are from 2004 and 2018).
    for (const auto& m : r->matches) {
        const QString d = QString::fromStdString(m.studyDate);
        const QStringList ends = range.split('-');
        if (!ends.value(0).isEmpty())
            QVERIFY2(d >= ends[0], qPrintable(d));
        if (!ends.value(ends.size() - 1).isEmpty())
            QVERIFY2(d <= ends.last(), qPrintable(d));
    }
}

void TestPacs::findRejectsBadQueries()
{
    for (const char* date : {"2024", "20240101-2024", "-", "abcdefgh", "20240101--20240102"}) {
        net::Query q;
        q.studyDate = date;
        auto r = net::find(m_node, m_local, net::Level::Study, q);
        QVERIFY2(!r, date);
        QVERIFY2(QString::fromStdString(r.error()).contains("YYYYMMDD"), r.error().c_str());
    }
    net::Query q;
    q.patientName = "A\\B";
    auto r = net::find(m_node, m_local, net::Level::Study, q);
    QVERIFY(!r);
    QVERIFY(QString::fromStdString(r.error()).contains("backslash"));
    net::Query uid;
    uid.studyUid = "../x";
    QVERIFY(!net::find(m_node, m_local, net::Level::Series, uid));
}

void TestPacs::checkRetrieved(const net::RetrieveSummary& r, const std::string& study, const std::string& cache)
{
    const auto& expected = m_sopsOfStudy.at(study);
    QCOMPARE(asSet(r.sopInstanceUids), asSet(expected));
    QCOMPARE(int(r.files.size()), int(expected.size()));
    QCOMPARE(r.completed, int(expected.size()));
    QCOMPARE(r.failed, 0);
    for (size_t i = 0; i < r.files.size(); ++i) {
        const std::string& file = r.files[i];
        const std::string& sop = r.sopInstanceUids[i];
        const std::string series = tagOf(file, DCM_SeriesInstanceUID);
        QCOMPARE(QString::fromStdString(file),
                 QString::fromStdString(cache + "/" + study + "/" + series + "/" + sop + ".dcm"));
        const std::string& original = m_fileOfSop.at(sop);
        QCOMPARE(tagOf(file, DCM_TransferSyntaxUID, true), tagOf(original, DCM_TransferSyntaxUID, true));
        const QByteArray a = pixelBytes(file), b = pixelBytes(original);
        QVERIFY(!a.isEmpty());
        QVERIFY2(a == b, file.c_str());
    }
    QCOMPARE(int(filesUnder(QString::fromStdString(cache)).size()), int(expected.size()));
}

void TestPacs::getReturnsTheStoredInstances()
{
    const std::string cache = cacheDir("get");
    for (const std::string& study : {m_realStudies[0], m_realStudies[1], m_realStudies[2], m_jane.studyUid}) {
        net::RetrieveRequest req{net::Level::Study, study, "", cache};
        QDir(QString::fromStdString(cache)).removeRecursively();
        net::Progress last;
        net::Control control;
        control.progress = [&](const net::Progress& p) { last = p; };
        auto r = net::get(m_node, m_local, req, control);
        QVERIFY2(r, r.error().c_str());
        checkRetrieved(r.value(), study, cache);
        QCOMPARE(last.remaining, 0);
        QCOMPARE(last.completed, int(m_sopsOfStudy.at(study).size()));
    }
    // One series of a study.
    QDir(QString::fromStdString(cache)).removeRecursively();
    net::RetrieveRequest req{net::Level::Series, m_jane.studyUid, m_jane.seriesUids[1], cache};
    auto r = net::get(m_node, m_local, req);
    QVERIFY2(r, r.error().c_str());
    QCOMPARE(asSet(r->sopInstanceUids), asSet({m_jane.sopUids.begin() + 3, m_jane.sopUids.end()}));
}

void TestPacs::moveReturnsTheStoredInstances()
{
    const std::string cache = cacheDir("move");
    for (const std::string& study : {m_realStudies[0], m_realStudies[2], m_john.studyUid}) {
        QDir(QString::fromStdString(cache)).removeRecursively();
        net::RetrieveRequest req{net::Level::Study, study, "", cache};
        auto r = net::move(m_node, m_local, req);
        QVERIFY2(r, r.error().c_str());
        checkRetrieved(r.value(), study, cache);
        QVERIFY(r->bytes > 0);
    }
}

void TestPacs::storeThenFind()
{
    const MadeStudy s = makeStudy(m_tmp.filePath("stored"), {"NEW^PATIENT", "P900", "20240301", "DX", "", 1, 4});
    auto stored = net::store(m_node, m_local, s.files);
    QVERIFY2(stored, stored.error().c_str());
    QCOMPARE(stored->sent, 4);
    net::Query q;
    q.patientId = "P900";
    auto found = net::find(m_node, m_local, net::Level::Study, q);
    QVERIFY2(found, found.error().c_str());
    QCOMPARE(int(found->matches.size()), 1);
    QCOMPARE(found->matches[0].studyUid, s.studyUid);
    QCOMPARE(found->matches[0].studyInstances, 4);
    QCOMPARE(found->matches[0].patientName, std::string("NEW^PATIENT"));
}

void TestPacs::storeReportsUnreadableFiles()
{
    const QString corrupt = m_tmp.filePath("corrupt.dcm");
    QFile f(corrupt);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(QByteArray(128, '\0') + "DICM" + QByteArray(50, '\x7f'));
    f.close();
    const MadeStudy s = makeStudy(m_tmp.filePath("mixed"), {"MIXED^ONE", "P901", "20240302", "OT", "", 1, 1});
    std::vector<std::string> files{corrupt.toStdString(), m_tmp.filePath("missing.dcm").toStdString(), s.files[0]};
    auto r = net::store(m_node, m_local, files);
    QVERIFY2(r, r.error().c_str());
    QCOMPARE(r->sent, 1);
    QCOMPARE(r->failed, 2);
    QCOMPARE(int(r->failures.size()), 2);
    for (const auto& line : r->failures)
        QVERIFY(line.find('\n') == std::string::npos);

    auto none = net::store(m_node, m_local, {corrupt.toStdString()});
    QVERIFY(!none);
    QVERIFY2(QString::fromStdString(none.error()).contains("corrupt.dcm"), none.error().c_str());
}

void TestPacs::closedPortAndUnknownHost()
{
    net::LocalAe local = m_local;
    local.timeoutSeconds = 2;
    QElapsedTimer t;
    t.start();
    auto closed = net::echo({"ORTHANC", "127.0.0.1", OrthancServer::freePort()}, local);
    QVERIFY(!closed);
    QVERIFY2(QString::fromStdString(closed.error()).contains("cannot connect"), closed.error().c_str());
    QVERIFY(closed.error().find('\n') == std::string::npos);
    auto unknown = net::find({"ORTHANC", "no-such-host.invalid", 104}, local, net::Level::Study, {});
    QVERIFY(!unknown);
    QVERIFY2(QString::fromStdString(unknown.error()).contains("no-such-host.invalid"), unknown.error().c_str());
    auto badNode = net::echo({"ORTHANC", "127.0.0.1", 0}, local);
    QVERIFY(!badNode);
    QVERIFY(t.elapsed() < 10000);
    const std::string cache = cacheDir("closed");
    auto get = net::get({"ORTHANC", "127.0.0.1", OrthancServer::freePort()}, local,
                        {net::Level::Study, m_jane.studyUid, "", cache});
    QVERIFY(!get);
    QVERIFY(filesUnder(QString::fromStdString(cache)).isEmpty());
}

void TestPacs::wrongCalledAeTitleIsRejected()
{
    auto r = net::echo({"NOTORTHANC", "127.0.0.1", m_orthanc->dicomPort()}, m_local);
    QVERIFY(!r);
    QVERIFY2(QString::fromStdString(r.error()).contains("rejected the association"), r.error().c_str());
}

void TestPacs::silentPeerTimesOut()
{
    // Accepts the connection (the kernel does, from the backlog) and never answers.
    int port = 0;
    const int silent = OrthancServer::loopbackSocket(true, &port);
    QVERIFY(silent >= 0);
    net::LocalAe local = m_local;
    local.timeoutSeconds = 1;
    QElapsedTimer t;
    t.start();
    auto r = net::echo({"SILENT", "127.0.0.1", port}, local);
    ::close(silent);
    QVERIFY(!r);
    QVERIFY2(QString::fromStdString(r.error()).contains("did not answer within 1 s"), r.error().c_str());
    QVERIFY2(t.elapsed() < 6000, qPrintable(QString::number(t.elapsed())));
}

void TestPacs::moveToAnUnknownDestination()
{
    net::LocalAe stranger = m_local;
    stranger.aeTitle = "NOBODY";
    stranger.port = OrthancServer::freePort();
    const std::string cache = cacheDir("unknown-destination");
    auto r = net::move(m_node, stranger, {net::Level::Study, m_john.studyUid, "", cache});
    QVERIFY(!r);
    QVERIFY2(QString::fromStdString(r.error()).contains("among its move destinations"), r.error().c_str());
    QVERIFY(filesUnder(QString::fromStdString(cache)).isEmpty());
}

void TestPacs::storageScpChecksTitleAndAddress()
{
    const MadeStudy s = makeStudy(m_tmp.filePath("push"), {"PUSH^ONE", "P950", "20240303", "OT", "", 1, 1});
    net::StorageServerOptions o;
    o.local.aeTitle = "LIGHTBOX";
    o.cacheDir = cacheDir("scp");
    // The peer is known as ORTHANC at 127.0.0.2; the tests call from 127.0.0.1.
    o.peers = {{"ORTHANC", "127.0.0.2", 104, false}, {"MODALITY", "localhost", 104, false}};
    net::StorageServer server(o);
    auto port = server.start();
    QVERIFY2(port, port.error().c_str());
    const net::PacsNode scp{"LIGHTBOX", "127.0.0.1", port.value(), false};

    net::LocalAe wrongAddress = m_local;
    wrongAddress.aeTitle = "ORTHANC";
    auto r1 = net::store(scp, wrongAddress, s.files);
    QVERIFY(!r1);
    QVERIFY2(QString::fromStdString(r1.error()).contains("rejected"), r1.error().c_str());

    net::LocalAe unknownTitle = m_local;
    unknownTitle.aeTitle = "STRANGER";
    QVERIFY(!net::echo(scp, unknownTitle));

    net::LocalAe known = m_local;
    known.aeTitle = "MODALITY"; // its host, localhost, is where the call comes from
    auto r3 = net::store(scp, known, s.files);
    QVERIFY2(r3, r3.error().c_str());
    QCOMPARE(r3->sent, 1);
    server.stop();

    const auto refusals = server.refusals();
    QCOMPARE(int(refusals.size()), 2);
    QVERIFY2(
        QString::fromStdString(refusals[0]).contains("'ORTHANC' from 127.0.0.1: AE title configured for another host"),
        refusals[0].c_str());
    QVERIFY2(QString::fromStdString(refusals[1]).contains("'STRANGER' from 127.0.0.1: AE title not configured"),
             refusals[1].c_str());
    QCOMPARE(server.sopInstanceUids(), s.sopUids);
    QVERIFY(QFile::exists(
        QString::fromStdString(o.cacheDir + "/" + s.studyUid + "/" + s.seriesUids[0] + "/" + s.sopUids[0] + ".dcm")));
}

void TestPacs::hostileUidsStayInTheCache()
{
    // Files whose UIDs try to climb out of the cache, pushed to the storage SCP.
    const QString dir = m_tmp.filePath("hostile");
    QDir().mkpath(dir);
    std::vector<std::string> files;
    const std::vector<std::array<const char*, 3>> uids = {
        {"../../x", "1.2.3", "1.2.4"}, {"1.2.3", "1.2/3", "1.2.5"}, {"1.2.3", "1.2.4", "../../../etc/passwd"}};
    for (size_t i = 0; i < uids.size(); ++i) {
        DcmFileFormat ff;
        DcmDataset* ds = ff.getDataset();
        ds->putAndInsertString(DCM_SOPClassUID, UID_SecondaryCaptureImageStorage);
        ds->putAndInsertString(DCM_StudyInstanceUID, uids[i][0]);
        ds->putAndInsertString(DCM_SeriesInstanceUID, uids[i][1]);
        ds->putAndInsertString(DCM_SOPInstanceUID, uids[i][2]);
        ds->putAndInsertString(DCM_PatientName, "HOSTILE");
        const std::string path = (dir + "/h" + QString::number(i) + ".dcm").toStdString();
        QVERIFY(ff.saveFile(path.c_str(), EXS_LittleEndianExplicit).good());
        files.push_back(path);
    }
    const QString root = m_tmp.filePath("hostile-root");
    const std::string cache = (root + "/cache").toStdString();
    QDir().mkpath(QString::fromStdString(cache));
    net::StorageServerOptions o;
    o.cacheDir = cache;
    o.peers = {{"LIGHTBOX", "127.0.0.1", 104, false}};
    net::StorageServer server(o);
    auto port = server.start();
    QVERIFY2(port, port.error().c_str());
    auto r = net::store({"LIGHTBOX", "127.0.0.1", port.value(), false}, m_local, files);
    server.stop();
    QVERIFY2(r, r.error().c_str());
    QCOMPARE(r->sent, 0);
    QCOMPARE(r->failed, 3);
    const QString refusals = QString::fromStdString([&] {
        std::string all;
        for (const auto& line : server.refusals())
            all += line + "\n";
        return all;
    }());
    for (const char* what : {"unusable study UID '../../x'", "unusable series UID '1.2/3'",
                             "unusable SOP instance UID '../../../etc/passwd'"})
        QVERIFY2(refusals.contains(what), qPrintable(refusals));
    QVERIFY(filesUnder(root).isEmpty());
    QVERIFY(!QFile::exists(m_tmp.filePath("x")));
}

void TestPacs::cancelRemovesPartialFiles()
{
    const std::string cache = cacheDir("cancel");
    std::atomic<bool> cancel{false};
    net::Control control;
    control.cancel = &cancel;
    int progressCalls = 0;
    control.progress = [&](const net::Progress& p) {
        ++progressCalls;
        if (p.completed >= 1 || p.bytes > 0)
            cancel = true;
    };
    auto r = net::get(m_node, m_local, {net::Level::Study, m_jane.studyUid, "", cache}, control);
    QVERIFY(!r);
    QVERIFY2(QString::fromStdString(r.error()).contains("cancelled"), r.error().c_str());
    QVERIFY(progressCalls >= 1);
    QVERIFY2(filesUnder(QString::fromStdString(cache)).isEmpty(),
             qPrintable(filesUnder(QString::fromStdString(cache)).join(' ')));

    cancel = false;
    const std::string moveCache = cacheDir("cancel-move");
    auto m = net::move(m_node, m_local, {net::Level::Study, m_jane.studyUid, "", moveCache}, control);
    QVERIFY(!m);
    QVERIFY2(QString::fromStdString(m.error()).contains("cancelled"), m.error().c_str());
    QVERIFY(filesUnder(QString::fromStdString(moveCache)).isEmpty());
    // The node still answers afterwards.
    QVERIFY(net::echo(m_node, m_local));
}

void TestPacs::peerDyingMidTransferLeavesNothing()
{
    OrthancServer doomed({});
    QString error;
    QVERIFY2(doomed.start(&error), qPrintable(error));
    const net::PacsNode node{"ORTHANC", "127.0.0.1", doomed.dicomPort(), false};
    const MadeStudy big = makeStudy(m_tmp.filePath("big"), {"BIG^STUDY", "P960", "20240304", "CT", "", 1, 24, 512});
    auto stored = net::store(node, m_local, big.files);
    QVERIFY2(stored, stored.error().c_str());
    QCOMPARE(stored->sent, 24);

    const std::string cache = cacheDir("killed");
    net::Control control;
    const qint64 pid = doomed.pid();
    bool killed = false;
    control.progress = [&](const net::Progress& p) {
        if (!killed && (p.completed >= 2 || p.bytes > 1000000)) {
            killed = true;
            ::kill(pid_t(pid), SIGKILL);
        }
    };
    QElapsedTimer t;
    t.start();
    auto r = net::get(node, m_local, {net::Level::Study, big.studyUid, "", cache}, control);
    QVERIFY(killed);
    QVERIFY(!r);
    QVERIFY2(QString::fromStdString(r.error()).contains("lost during C-GET"), r.error().c_str());
    QVERIFY(r.error().find('\n') == std::string::npos);
    QVERIFY(t.elapsed() < 8000);
    QVERIFY2(filesUnder(QString::fromStdString(cache)).isEmpty(),
             qPrintable(filesUnder(QString::fromStdString(cache)).join(' ')));
}

void TestPacs::thousandsOfMatchesAreCappedAndPaged()
{
    OrthancServer crowded({});
    QString error;
    QVERIFY2(crowded.start(&error), qPrintable(error));
    const net::PacsNode node{"ORTHANC", "127.0.0.1", crowded.dicomPort(), false};
    const int n = 2100;
    std::vector<std::string> files;
    const QString dir = m_tmp.filePath("crowd");
    QElapsedTimer t;
    t.start();
    for (int i = 0; i < n; ++i) {
        const MadeStudy s = makeStudy(
            dir, {"CROWD^" + std::to_string(i), "C" + std::to_string(10000 + i), "20240101", "OT", "", 1, 1, 2});
        files.insert(files.end(), s.files.begin(), s.files.end());
    }
    const qint64 made = t.restart();
    auto stored = net::store(node, m_local, files);
    QVERIFY2(stored, stored.error().c_str());
    QCOMPARE(stored->sent, n);
    qInfo("%d patients made in %lld ms, stored in %lld ms", n, made, t.restart());

    net::Query q;
    q.patientName = "CROWD^*";
    std::set<std::string> seen;
    int pages = 0;
    for (int offset = 0;; offset += 500) {
        auto page = net::find(node, m_local, net::Level::Patient, q, {500, offset});
        QVERIFY2(page, page.error().c_str());
        ++pages;
        QCOMPARE(page->offset, offset);
        if (offset + 500 < n) {
            QVERIFY(page->truncated);
            QCOMPARE(int(page->matches.size()), 500);
        } else {
            QVERIFY(!page->truncated);
            QCOMPARE(int(page->matches.size()), n - offset);
        }
        for (const auto& m : page->matches)
            QVERIFY2(seen.insert(m.patientId).second, m.patientId.c_str()); // pages are disjoint
        if (!page->truncated)
            break;
    }
    QCOMPARE(int(seen.size()), n);
    QCOMPARE(pages, 5);
    qInfo("%d patients read in %d pages of 500 in %lld ms", n, pages, t.restart());
    // The node is still usable after each cancelled C-FIND.
    QVERIFY(net::echo(node, m_local));
}

void TestPacs::tls()
{
    const QString dir = m_tmp.filePath("tls");
    QDir().mkpath(dir);
    auto openssl = [&](const QStringList& args) {
        QProcess p;
        p.setWorkingDirectory(dir);
        p.start("openssl", args);
        return p.waitForFinished(30000) && p.exitCode() == 0;
    };
    QVERIFY(openssl({"req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt", "-days",
                     "2", "-subj", "/CN=Lightbox Test CA"}));
    for (const QString name : {"server", "client"}) {
        QVERIFY(openssl({"req", "-newkey", "rsa:2048", "-nodes", "-keyout", name + ".key", "-out", name + ".csr",
                         "-subj", "/CN=" + name}));
        QVERIFY(openssl({"x509", "-req", "-in", name + ".csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial",
                         "-out", name + ".crt", "-days", "2"}));
    }
    OrthancServer::Options o;
    o.tls = true;
    o.tlsCert = dir + "/server.crt";
    o.tlsKey = dir + "/server.key";
    o.tlsCa = dir + "/ca.crt";
    OrthancServer secure(o);
    QString error;
    QVERIFY2(secure.start(&error), qPrintable(error));

    net::LocalAe local = m_local;
    local.tls = {(dir + "/client.crt").toStdString(), (dir + "/client.key").toStdString(),
                 (dir + "/ca.crt").toStdString()};
    const net::PacsNode node{"ORTHANC", "127.0.0.1", secure.dicomPort(), true};
    auto e = net::echo(node, local);
    QVERIFY2(e, e.error().c_str());
    const MadeStudy s = makeStudy(m_tmp.filePath("tls-study"), {"TLS^PATIENT", "T001", "20240305", "MR", "", 1, 2});
    auto stored = net::store(node, local, s.files);
    QVERIFY2(stored, stored.error().c_str());
    QCOMPARE(stored->sent, 2);
    net::Query q;
    q.patientId = "T001";
    auto found = net::find(node, local, net::Level::Study, q);
    QVERIFY2(found, found.error().c_str());
    QCOMPARE(int(found->matches.size()), 1);
    QCOMPARE(found->matches[0].studyUid, s.studyUid);

    // Plain TCP to the TLS port fails, and says so in one line.
    net::PacsNode plain = node;
    plain.tls = false;
    local.timeoutSeconds = 2;
    auto p = net::echo(plain, local);
    QVERIFY(!p);
    QVERIFY(p.error().find('\n') == std::string::npos);
    QVERIFY2(QString::fromStdString(p.error()).contains("ORTHANC@127.0.0.1"), p.error().c_str());
    // A CA that did not sign the server's certificate is refused.
    net::LocalAe wrongCa = local;
    wrongCa.tls.caFile = (dir + "/client.crt").toStdString();
    QVERIFY(!net::echo(node, wrongCa));
    // TLS without a CA file is a usage error, not an unverified connection.
    net::LocalAe noCa = local;
    noCa.tls.caFile.clear();
    auto n = net::echo(node, noCa);
    QVERIFY(!n);
    QVERIFY2(QString::fromStdString(n.error()).contains("CA"), n.error().c_str());
}

void TestPacs::cacheEvictsLeastRecentlyUsed()
{
    const QString root = m_tmp.filePath("lru");
    const std::string cache = root.toStdString();
    std::vector<std::string> order;
    for (const MadeStudy* s : {&m_jane, &m_john, &m_anna}) {
        auto r = net::get(m_node, m_local, {net::Level::Study, s->studyUid, "", cache});
        QVERIFY2(r, r.error().c_str());
        order.push_back(s->studyUid);
    }
    net::StorageCache c(cache);
    QCOMPARE(int(c.studies().size()), 3);
    // Jane's study used last, so John's is the oldest now, then Anna's.
    QTest::qWait(1100);
    c.touch(m_john.studyUid);
    QTest::qWait(1100);
    c.touch(m_anna.studyUid);
    QTest::qWait(1100);
    c.touch(m_jane.studyUid);
    const auto studies = c.studies();
    QCOMPARE(studies.front().uid, m_john.studyUid);
    QCOMPARE(studies.back().uid, m_jane.studyUid);
    const std::uint64_t total = c.totalBytes();
    QVERIFY(total > 0);
    std::uint64_t johnBytes = studies.front().bytes;
    auto freed = c.evictTo(total - 1);
    QVERIFY2(freed, freed.error().c_str());
    QCOMPARE(freed.value(), johnBytes);
    QVERIFY(!QDir(root + "/" + QString::fromStdString(m_john.studyUid)).exists());
    QVERIFY(QDir(root + "/" + QString::fromStdString(m_jane.studyUid)).exists());
    // A stray file in the root is not the cache's to remove.
    QFile stray(root + "/notes.txt");
    QVERIFY(stray.open(QIODevice::WriteOnly));
    stray.close();
    auto cleared = c.clear();
    QVERIFY(cleared);
    QCOMPARE(c.totalBytes(), std::uint64_t(0));
    QVERIFY(c.studies().empty());
    QVERIFY(QFile::exists(root + "/notes.txt"));
}

void TestPacs::timingOfTenStudies()
{
    QElapsedTimer t;
    t.start();
    net::Query q;
    q.patientName = "PERF^*";
    auto found = net::find(m_node, m_local, net::Level::Study, q);
    const qint64 findMs = t.restart();
    QVERIFY2(found, found.error().c_str());
    QCOMPARE(int(found->matches.size()), 10);
    std::uint64_t bytes = 0;
    int instances = 0;
    for (const auto& m : found->matches) {
        auto r = net::get(m_node, m_local, {net::Level::Study, m.studyUid, "", cacheDir("perf-get")});
        QVERIFY2(r, r.error().c_str());
        QCOMPARE(r->completed, 4);
        bytes += r->bytes;
        instances += r->completed;
    }
    const qint64 getMs = t.restart();
    for (const auto& m : found->matches) {
        auto r = net::move(m_node, m_local, {net::Level::Study, m.studyUid, "", cacheDir("perf-move")});
        QVERIFY2(r, r.error().c_str());
        QCOMPARE(r->completed, 4);
    }
    const qint64 moveMs = t.restart();
    qInfo("find 10 studies: %lld ms; C-GET of the 10 studies (%d instances, %.1f MB): %lld ms; C-MOVE of them: %lld ms",
          findMs, instances, bytes / 1e6, getMs, moveMs);
}

void TestPacs::commandLine()
{
    if (!QFile::exists(kCli))
        QSKIP("lightbox-cli is not built");
    const QString peer = QString::fromStdString(m_node.toString());
    Run echo = cli({"pacs", "echo", "--peer", peer});
    QVERIFY2(echo.exitCode == 0, echo.err.constData());
    QVERIFY(echo.out.contains("ms"));

    Run find = cli({"pacs", "find", "--peer", peer, "--patient", "DOE^*", "--level", "study", "--json"});
    QVERIFY2(find.exitCode == 0, find.err.constData());
    QJsonParseError pe;
    const QJsonObject o = QJsonDocument::fromJson(find.out, &pe).object();
    QVERIFY2(pe.error == QJsonParseError::NoError, qPrintable(pe.errorString()));
    const QJsonArray matches = o.value("matches").toArray();
    QCOMPARE(matches.size(), 2);
    QSet<QString> uids;
    for (const auto& m : matches)
        uids.insert(m.toObject().value("studyInstanceUid").toString());
    QCOMPARE(uids, (QSet<QString>{QString::fromStdString(m_jane.studyUid), QString::fromStdString(m_john.studyUid)}));
    QCOMPARE(o.value("truncated").toBool(), false);

    const QString out = m_tmp.filePath("cli-get");
    Run get =
        cli({"pacs", "get", "--peer", peer, "--study-uid", QString::fromStdString(m_john.studyUid), "--out", out});
    QVERIFY2(get.exitCode == 0, get.err.constData());
    QCOMPARE(filesUnder(out).filter(QRegularExpression("\\.dcm$")).size(), 2); // and the .last-use marker
    const QString moved = m_tmp.filePath("cli-move");
    Run move = cli({"pacs", "get", "--move", "--port", QString::number(m_local.port), "--peer", peer, "--study-uid",
                    QString::fromStdString(m_anna.studyUid), "--out", moved});
    QVERIFY2(move.exitCode == 0, move.err.constData());
    QCOMPARE(filesUnder(moved).filter(QRegularExpression("\\.dcm$")).size(), 1);

    const MadeStudy s = makeStudy(m_tmp.filePath("cli-store"), {"CLI^STORE", "P970", "20240306", "OT", "", 1, 2});
    Run store =
        cli({"pacs", "store", "--peer", peer, QString::fromStdString(s.files[0]), QString::fromStdString(s.files[1])});
    QVERIFY2(store.exitCode == 0, store.err.constData());
    Run found = cli({"pacs", "find", "--peer", peer, "--patient-id", "P970", "--json"});
    QCOMPARE(QJsonDocument::fromJson(found.out).object().value("matches").toArray().size(), 1);

    // Usage errors (2) and failures (1), each one line.
    Run badPeer = cli({"pacs", "echo", "--peer", "nonsense"});
    QCOMPARE(badPeer.exitCode, 2);
    QCOMPARE(badPeer.err.count('\n'), 1);
    Run noPeer = cli({"pacs", "find"});
    QCOMPARE(noPeer.exitCode, 2);
    Run badSub = cli({"pacs", "fetch", "--peer", peer});
    QCOMPARE(badSub.exitCode, 2);
    Run closed = cli({"pacs", "echo", "--peer", "ORTHANC@127.0.0.1:" + QString::number(OrthancServer::freePort()),
                      "--timeout", "2"});
    QCOMPARE(closed.exitCode, 1);
    QCOMPARE(closed.err.count('\n'), 1);
    Run help = cli({"pacs", "find", "--help"});
    QCOMPARE(help.exitCode, 0);
    QVERIFY(help.out.contains("--study-uid"));
}

void TestPacs::cleanupTestCase()
{
    m_orthanc.reset();
}

QTEST_GUILESS_MAIN(TestPacs)
#include "tst_pacs.moc"
