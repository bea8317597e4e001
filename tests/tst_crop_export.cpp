// Crop export, manifest and folder listing (core/data), without any widget.
#include <data/CropExporter.h>
#include <data/CropManifest.h>
#include <data/ImageFolder.h>
#include <imaging/ImageLoader.h>
#include <imaging/Render.h>

#include <QCryptographicHash>
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

using namespace lightbox;

namespace {

const QString kChest = QStringLiteral(LIGHTBOX_SHARED_DATA "/dicom/chest-cr-RG1_J2KI.dcm");
const QString kKnee = QStringLiteral(LIGHTBOX_SHARED_DATA "/knee-kl/val/2/9015402R.png");

imaging::Image load(const QString& path)
{
    auto r = imaging::loadImage(path.toStdString());
    if (!r)
        qFatal("cannot load %s: %s", qPrintable(path), r.error().c_str());
    return std::move(r).value();
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
}

/// PNG chunk types in file order.
QStringList pngChunks(const QByteArray& png)
{
    QStringList out;
    int i = 8;
    while (i + 8 <= png.size()) {
        const auto* p = reinterpret_cast<const uchar*>(png.constData() + i);
        const quint32 len = quint32(p[0]) << 24 | quint32(p[1]) << 16 | quint32(p[2]) << 8 | p[3];
        out << QString::fromLatin1(png.mid(i + 4, 4));
        i += 12 + int(len);
    }
    return out;
}

bool equalMats(const cv::Mat& a, const cv::Mat& b)
{
    return a.size() == b.size() && a.type() == b.type() && cv::norm(a, b, cv::NORM_INF) == 0;
}

} // namespace

class tst_CropExport : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void sourceKeyIsHashedUid();
    void sourceKeyOfPlainImageIsHashedPath();
    void rawCropOfPngMatchesInterArea();
    void windowedCropOfDicomIsDeidentified();
    void recropReplacesRowAndFile();
    void undoRestoresPreviousState();
    void manifestRoundTripsQuotedFields();
    void failuresCarryMessages();
    void folderListingIsNaturallySorted();
    void cliCropMatchesExporter();
};

void tst_CropExport::initTestCase()
{
    if (!QFile::exists(kChest) || !QFile::exists(kKnee))
        QSKIP("the shared data (" LIGHTBOX_SHARED_DATA ") is missing");
}

void tst_CropExport::sourceKeyIsHashedUid()
{
    const imaging::Image img = load(kChest);
    const QByteArray uid = QByteArray::fromStdString(img.keyTag("SOPInstanceUID"));
    QVERIFY(!uid.isEmpty());
    const QString expected = QCryptographicHash::hash(uid, QCryptographicHash::Sha256).toHex().left(16);
    QCOMPARE(data::CropExporter::sourceKey(img), expected);
    QCOMPARE(expected.size(), 16);
}

void tst_CropExport::sourceKeyOfPlainImageIsHashedPath()
{
    const imaging::Image img = load(kKnee);
    const QByteArray path = QFileInfo(kKnee).canonicalFilePath().toUtf8();
    QCOMPARE(data::CropExporter::sourceKey(img),
             QString(QCryptographicHash::hash(path, QCryptographicHash::Sha256).toHex().left(16)));
}

void tst_CropExport::rawCropOfPngMatchesInterArea()
{
    QTemporaryDir dir;
    const imaging::Image img = load(kKnee);
    data::CropSettings s;
    s.datasetRoot = dir.path();
    s.raw = true;
    s.outputWidth = s.outputHeight = 64;
    const cv::Rect roi(30, 40, 150, 150);
    data::CropExporter ex;
    auto rec = ex.save(img, roi, QStringLiteral("2"), s);
    QVERIFY2(rec, rec.error().c_str());
    QCOMPARE(rec->file, QStringLiteral("2/") + rec->sourceKey + QStringLiteral(".png"));
    QCOMPARE(rec->outputBits, 8);
    const cv::Mat written = cv::imread(dir.filePath(rec->file).toStdString(), cv::IMREAD_UNCHANGED);
    cv::Mat expected;
    cv::resize(img.pixels(roi), expected, cv::Size(64, 64), 0, 0, cv::INTER_AREA);
    QVERIFY(equalMats(written, expected));
    auto m = data::CropManifest::load(dir.filePath("manifest.csv"));
    QVERIFY(m);
    QCOMPARE(int(m->records().size()), 1);
    QCOMPARE(m->records().front().roiW, 150);
    QCOMPARE(m->records().front().label, QStringLiteral("2"));
}

void tst_CropExport::windowedCropOfDicomIsDeidentified()
{
    QTemporaryDir dir;
    const imaging::Image img = load(kChest);
    data::CropSettings s;
    s.datasetRoot = dir.path();
    s.render.window = {9000, 12000, "test"};
    const cv::Rect roi(500, 600, 400, 400);
    data::CropExporter ex;
    auto rec = ex.save(img, roi, QStringLiteral("3"), s);
    QVERIFY2(rec, rec.error().c_str());
    QCOMPARE(rec->spacingRow, img.spacingRow);
    QCOMPARE(rec->windowWidth, 12000.0);
    QCOMPARE(rec->photometric, QStringLiteral("MONOCHROME1"));

    cv::Mat rendered, expected;
    imaging::DisplayLut(img, s.render).apply(img, rendered, roi);
    cv::resize(rendered, expected, cv::Size(224, 224), 0, 0, cv::INTER_AREA);
    const QString out = dir.filePath(rec->file);
    QVERIFY(equalMats(cv::imread(out.toStdString(), cv::IMREAD_UNCHANGED), expected));

    const QByteArray png = readAll(out);
    const QStringList chunks = pngChunks(png);
    for (const char* forbidden : {"tEXt", "zTXt", "iTXt", "eXIf", "tIME"})
        QVERIFY2(!chunks.contains(QLatin1String(forbidden)), forbidden);
    const QByteArray manifest = readAll(dir.filePath("manifest.csv"));
    for (const char* key : {"PatientName", "PatientID", "PatientBirthDate"}) {
        const QByteArray phi = QByteArray::fromStdString(img.keyTag(key));
        QVERIFY(!phi.isEmpty());
        QVERIFY2(!png.contains(phi), key);
        QVERIFY2(!manifest.contains(phi), key);
        QVERIFY2(!rec->file.toUtf8().contains(phi), key);
    }
}

void tst_CropExport::recropReplacesRowAndFile()
{
    QTemporaryDir dir;
    const imaging::Image img = load(kKnee);
    data::CropSettings s;
    s.datasetRoot = dir.path();
    data::CropExporter ex;
    auto first = ex.save(img, {0, 0, 100, 100}, QStringLiteral("1"), s);
    QVERIFY(first);
    auto second = ex.save(img, {10, 10, 120, 120}, QStringLiteral("4"), s);
    QVERIFY(second);
    QVERIFY(!QFile::exists(dir.filePath(first->file)));
    QVERIFY(QFile::exists(dir.filePath(second->file)));
    auto m = data::CropManifest::load(dir.filePath("manifest.csv"));
    QCOMPARE(int(m->records().size()), 1);
    QCOMPARE(m->records().front().label, QStringLiteral("4"));
    QCOMPARE(m->records().front().roiX, 10);
}

void tst_CropExport::undoRestoresPreviousState()
{
    QTemporaryDir dir;
    const imaging::Image img = load(kKnee);
    data::CropSettings s;
    s.datasetRoot = dir.path();
    data::CropExporter ex;
    QVERIFY(!ex.canUndo());
    auto first = ex.save(img, {0, 0, 100, 100}, QStringLiteral("1"), s);
    QVERIFY(first);
    const QByteArray firstBytes = readAll(dir.filePath(first->file));
    auto second = ex.save(img, {10, 10, 120, 120}, QStringLiteral("4"), s);
    QVERIFY(second && ex.canUndo());
    QVERIFY(ex.undo());
    QVERIFY(!ex.canUndo());
    QVERIFY(!QFile::exists(dir.filePath(second->file)));
    QCOMPARE(readAll(dir.filePath(first->file)), firstBytes);
    auto m = data::CropManifest::load(dir.filePath("manifest.csv"));
    QCOMPARE(int(m->records().size()), 1);
    QVERIFY(m->records().front() == first.value());

    // Undo of a first save leaves an empty manifest and no file.
    QTemporaryDir dir2;
    s.datasetRoot = dir2.path();
    auto only = ex.save(img, {0, 0, 50, 50}, QStringLiteral("0"), s);
    QVERIFY(only);
    QVERIFY(ex.undo());
    QVERIFY(!QFile::exists(dir2.filePath(only->file)));
    QVERIFY(data::CropManifest::load(dir2.filePath("manifest.csv"))->records().empty());
    QVERIFY(!ex.undo());
}

void tst_CropExport::manifestRoundTripsQuotedFields()
{
    QTemporaryDir dir;
    data::CropManifest m;
    data::CropRecord r;
    r.sourceKey = "0123456789abcdef";
    r.label = "a,b \"c\"";
    r.roiX = 1;
    r.roiY = 2;
    r.roiW = 3;
    r.roiH = 4;
    r.spacingRow = 0.143;
    r.spacingCol = 0.1431;
    r.outputWidth = r.outputHeight = 224;
    r.mode = "windowed";
    r.photometric = "MONOCHROME2";
    r.windowCenter = 1024.5;
    r.windowWidth = 4096;
    r.file = "x/0123456789abcdef.png";
    r.savedAt = "2026-01-01T00:00:00.000Z";
    m.upsert(r);
    const QString path = dir.filePath("manifest.csv");
    QVERIFY(m.save(path));
    auto back = data::CropManifest::load(path);
    QVERIFY2(back, back.error().c_str());
    QCOMPARE(int(back->records().size()), 1);
    QVERIFY(back->records().front() == r);
    QVERIFY(readAll(path).startsWith("source_key,label,roi_x,roi_y,roi_w,roi_h,"));
}

void tst_CropExport::failuresCarryMessages()
{
    QTemporaryDir dir;
    const imaging::Image img = load(kKnee);
    data::CropSettings s;
    data::CropExporter ex;
    auto noRoot = ex.save(img, {0, 0, 10, 10}, "1", s);
    QVERIFY(!noRoot && !noRoot.error().empty());
    s.datasetRoot = dir.path();
    QVERIFY(!ex.save(img, {0, 0, 10, 10}, "../evil", s));
    QVERIFY(!ex.save(img, {0, 0, 10, 10}, "", s));
    auto outside = ex.save(img, {1000, 1000, 10, 10}, "1", s);
    QVERIFY(!outside);
    QVERIFY(QString::fromStdString(outside.error()).contains("outside"));
    QFile bad(dir.filePath("manifest.csv"));
    QVERIFY(bad.open(QIODevice::WriteOnly));
    bad.write("not,a,manifest\n");
    bad.close();
    auto corrupt = ex.save(img, {0, 0, 10, 10}, "1", s);
    QVERIFY(!corrupt);
    QVERIFY(QString::fromStdString(corrupt.error()).contains("not a crop manifest"));
    QVERIFY(!ex.canUndo());
}

void tst_CropExport::folderListingIsNaturallySorted()
{
    QTemporaryDir dir;
    const cv::Mat px(8, 8, CV_8UC1, cv::Scalar(7));
    for (const char* name : {"img10.png", "img2.png", "IMG1.png"})
        QVERIFY(cv::imwrite(dir.filePath(name).toStdString(), px));
    QFile::copy(kChest, dir.filePath("IM0005"));   // DICOM without an extension
    QFile::copy(kChest, dir.filePath("DICOMDIR")); // stands in for a media directory
    QFile notes(dir.filePath("notes.txt"));
    QVERIFY(notes.open(QIODevice::WriteOnly));
    notes.write("hello");
    notes.close();
    const QStringList files = data::ImageFolder::list(dir.path());
    QStringList names;
    for (const QString& f : files)
        names << QFileInfo(f).fileName();
    QCOMPARE(names, QStringList({"IM0005", "IMG1.png", "img2.png", "img10.png"}));
}

void tst_CropExport::cliCropMatchesExporter()
{
    const QString exe = QStringLiteral(LIGHTBOX_BINARY_DIR "/app/lightbox-cli");
    if (!QFile::exists(exe))
        QSKIP("lightbox-cli not built");
    QTemporaryDir dir;
    QProcess p;
    p.start(exe, {"crop", kKnee, "--roi", "20,30,120,120", "--label", "KL2", "--dataset", dir.path(), "--size", "96",
                  "--raw"});
    QVERIFY(p.waitForFinished(30000 * LIGHTBOX_TIME_FACTOR));
    QCOMPARE(p.exitCode(), 0);
    const imaging::Image img = load(kKnee);
    const QString out = dir.filePath("KL2/" + data::CropExporter::sourceKey(img) + ".png");
    QCOMPARE(QString::fromUtf8(p.readAllStandardOutput()).trimmed(), out);
    data::CropSettings s;
    s.raw = true;
    s.outputWidth = s.outputHeight = 96;
    auto expected = data::CropExporter::cropPixels(img, {20, 30, 120, 120}, s);
    QVERIFY(expected);
    QVERIFY(equalMats(cv::imread(out.toStdString(), cv::IMREAD_UNCHANGED), expected.value()));
    QCOMPARE(int(data::CropManifest::load(dir.filePath("manifest.csv"))->records().size()), 1);

    p.start(exe, {"crop", kKnee, "--roi", "1,2,3", "--label", "x", "--dataset", dir.path()});
    QVERIFY(p.waitForFinished(30000 * LIGHTBOX_TIME_FACTOR));
    QVERIFY(p.exitCode() != 0);
    QVERIFY(p.readAllStandardError().contains("--roi needs X,Y,W,H"));
}

QTEST_GUILESS_MAIN(tst_CropExport)
#include "tst_crop_export.moc"
