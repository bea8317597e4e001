#include "CropExporter.h"

#include <base/FaultInjection.h>
#include <imaging/ImageWriter.h>

#include <QCryptographicHash>
#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRegularExpression>
#include <QSaveFile>
#include <QSet>

#include <opencv2/imgproc.hpp>

namespace lightbox::data {
namespace {

QString manifestPath(const QString& root)
{
    return QDir(root).filePath(QString::fromLatin1(CropManifest::fileName()));
}

bool writeBytes(const QString& path, const QByteArray& bytes)
{
    QSaveFile f(path);
    return f.open(QIODevice::WriteOnly) && f.write(bytes) == bytes.size() && f.commit();
}

std::string str(const QString& s)
{
    return s.toStdString();
}

} // namespace

QStringList CropExporter::removeLeftovers(const QString& root, const CropManifest& manifest)
{
    // What an interrupted save can leave: a PNG's temporary file (ImageWriter: NAME.tmpPID),
    // the manifest's (QSaveFile: manifest.csv.XXXXXX), and a finished crop file that no row
    // names (killed before the manifest was replaced, or before the replaced file was
    // deleted). Only names Lightbox writes are touched: other files in the folders stay.
    static const QRegularExpression cropName(QStringLiteral("^[0-9a-f]{16}(-1)?\\.png$"));
    static const QRegularExpression pngTemp(QStringLiteral("^[0-9a-f]{16}(-1)?\\.png\\.tmp[0-9]+$"));
    static const QRegularExpression manifestTemp(
        QStringLiteral("^%1\\.[A-Za-z0-9]{6}$").arg(QRegularExpression::escape(CropManifest::fileName())));
    QSet<QString> listed;
    for (const CropRecord& r : manifest.records())
        listed.insert(QDir::cleanPath(r.file));
    QStringList removed;
    const QDir dir(root);
    for (const QString& name : dir.entryList(QDir::Files | QDir::Hidden))
        if (manifestTemp.match(name).hasMatch() && QFile::remove(dir.filePath(name)))
            removed << name;
    for (const QString& sub : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
        const QDir labelDir(dir.filePath(sub));
        for (const QString& name : labelDir.entryList(QDir::Files | QDir::Hidden)) {
            const QString rel = sub + QLatin1Char('/') + name;
            const bool temp = pngTemp.match(name).hasMatch();
            const bool orphan = cropName.match(name).hasMatch() && !listed.contains(rel);
            if ((temp || orphan) && QFile::remove(labelDir.filePath(name)))
                removed << rel;
        }
    }
    return removed;
}

QString CropExporter::sourceKey(const imaging::Image& image)
{
    QByteArray basis;
    const std::string uid = image.keyTag("SOPInstanceUID");
    if (!uid.empty()) {
        basis = QByteArray::fromStdString(uid).trimmed();
    } else {
        const QFileInfo info(QString::fromStdString(image.sourcePath));
        const QString canonical = info.canonicalFilePath();
        basis = (canonical.isEmpty() ? info.absoluteFilePath() : canonical).toUtf8();
    }
    return QString::fromLatin1(QCryptographicHash::hash(basis, QCryptographicHash::Sha256).toHex().left(16));
}

bool CropExporter::isValidLabel(const QString& label)
{
    if (label.isEmpty() || label.size() > 64 || label.startsWith(QLatin1Char('.')))
        return false;
    for (const QChar c : label)
        if (!(c.isLetterOrNumber() || c == QLatin1Char('_') || c == QLatin1Char('-') || c == QLatin1Char('.') ||
              c == QLatin1Char(' ') || c == QLatin1Char('(') || c == QLatin1Char(')')))
            return false;
    return true;
}

Result<cv::Mat> CropExporter::cropPixels(const imaging::Image& image, cv::Rect roi, const CropSettings& settings)
{
    using R = Result<cv::Mat>;
    if (image.empty())
        return R::failure("no image to crop");
    roi &= cv::Rect(0, 0, image.width(), image.height());
    if (roi.width < 1 || roi.height < 1)
        return R::failure("the crop region lies outside the image");
    if (settings.outputWidth < 1 || settings.outputHeight < 1 || settings.outputWidth > 8192 ||
        settings.outputHeight > 8192)
        return R::failure("output size must be between 1 and 8192 pixels");
    const cv::Size size(settings.outputWidth, settings.outputHeight);
    cv::Mat region;
    if (settings.raw) {
        const int depth = image.pixels.depth();
        if (depth != CV_8U && depth != CV_16U)
            return R::failure("raw export needs unsigned 8- or 16-bit samples: use the windowed (8-bit) export");
        region = image.pixels(roi);
    } else {
        imaging::DisplayLut(image, settings.render).apply(image, region, roi);
    }
    cv::Mat out;
    try {
        cv::resize(region, out, size, 0, 0, cv::INTER_AREA);
    } catch (const cv::Exception& e) {
        return R::failure(std::string("resize failed: ") + e.what());
    }
    return out;
}

std::optional<CropRecord> CropExporter::lastSaved() const
{
    if (!m_undo)
        return std::nullopt;
    return m_undo->saved;
}

Result<CropRecord> CropExporter::save(const imaging::Image& image, cv::Rect roi, const QString& label,
                                      const CropSettings& settings)
{
    using R = Result<CropRecord>;
    if (settings.datasetRoot.isEmpty())
        return R::failure("choose a data-set folder first");
    if (!isValidLabel(label))
        return R::failure("not a usable label: \"" + str(label) + "\" (letters, digits, spaces and _ - . ( ))");
    auto pixels = cropPixels(image, roi, settings);
    if (!pixels)
        return R::failure(pixels.error());
    roi &= cv::Rect(0, 0, image.width(), image.height());

    const QDir root(settings.datasetRoot);
    if (!root.mkpath(label))
        return R::failure("cannot create folder " + str(root.filePath(label)));
    auto manifest = CropManifest::load(manifestPath(settings.datasetRoot));
    if (!manifest)
        return R::failure(manifest.error());
    if (!m_recovered.contains(settings.datasetRoot)) {
        removeLeftovers(settings.datasetRoot, manifest.value());
        m_recovered.insert(settings.datasetRoot);
    }

    CropRecord rec;
    rec.sourceKey = sourceKey(image);
    rec.label = label;
    rec.roiX = roi.x;
    rec.roiY = roi.y;
    rec.roiW = roi.width;
    rec.roiH = roi.height;
    rec.spacingRow = image.spacingRow;
    rec.spacingCol = image.spacingCol;
    rec.outputWidth = settings.outputWidth;
    rec.outputHeight = settings.outputHeight;
    rec.outputBits = pixels->depth() == CV_16U ? 16 : 8;
    rec.mode = settings.raw ? QStringLiteral("raw") : QStringLiteral("windowed");
    rec.photometric = QString::fromLatin1(imaging::toString(image.photometric));
    if (!settings.raw) {
        const imaging::Window w = settings.render.window.valid() ? settings.render.window : image.defaultWindow();
        rec.windowCenter = w.center;
        rec.windowWidth = w.width;
    }
    rec.savedAt = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);

    UndoEntry undo;
    undo.root = settings.datasetRoot;
    undo.previous = manifest->find(rec.sourceKey);
    // A crop saved again under the same label goes to the other of two names, so that the
    // manifest's row and its file change together when the manifest is replaced: a program
    // killed in between leaves the old row with the old file (and an unlisted new file,
    // removed next time), never a row that describes another crop than its file holds.
    const QString plain = label + QLatin1Char('/') + rec.sourceKey + QStringLiteral(".png");
    rec.file = undo.previous && undo.previous->file == plain
                   ? label + QLatin1Char('/') + rec.sourceKey + QStringLiteral("-1.png")
                   : plain;
    undo.saved = rec;
    if (undo.previous) {
        QFile old(root.filePath(undo.previous->file));
        if (old.open(QIODevice::ReadOnly))
            undo.previousBytes = old.readAll();
    }

    const QString outPath = root.filePath(rec.file);
    auto written = imaging::writePng(pixels.value(), str(outPath));
    if (!written)
        return R::failure(written.error());
    base::faultPoint("crop-png-written");
    manifest->upsert(rec);
    auto saved = manifest->save(manifestPath(settings.datasetRoot));
    if (!saved) {
        // Leave the data set as it was: the manifest is unchanged, so put the old file back.
        QFile::remove(outPath);
        if (undo.previous && !undo.previousBytes.isEmpty())
            writeBytes(root.filePath(undo.previous->file), undo.previousBytes);
        return R::failure(saved.error());
    }
    base::faultPoint("crop-manifest-written");
    if (undo.previous && undo.previous->file != rec.file)
        QFile::remove(root.filePath(undo.previous->file));
    m_undo = std::move(undo);
    return rec;
}

Result<bool> CropExporter::undo()
{
    using R = Result<bool>;
    if (!m_undo)
        return R::failure("nothing to undo");
    const UndoEntry u = *m_undo;
    const QDir root(u.root);
    auto manifest = CropManifest::load(manifestPath(u.root));
    if (!manifest)
        return R::failure(manifest.error());
    if (u.previous)
        manifest->upsert(*u.previous);
    else
        manifest->remove(u.saved.sourceKey);
    auto saved = manifest->save(manifestPath(u.root));
    if (!saved)
        return R::failure(saved.error());
    if (!u.previous || u.previous->file != u.saved.file)
        QFile::remove(root.filePath(u.saved.file));
    if (u.previous && !u.previousBytes.isEmpty()) {
        root.mkpath(u.previous->label);
        if (!writeBytes(root.filePath(u.previous->file), u.previousBytes))
            return R::failure("manifest restored, but cannot restore " + str(root.filePath(u.previous->file)));
    }
    m_undo.reset();
    return true;
}

} // namespace lightbox::data
