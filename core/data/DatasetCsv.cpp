// Data sets listed by a CSV file: RFC 4180 records, the path, label, split and patient
// columns found by name, path patterns and the folders paths are resolved against.
#include "DatasetListing.h"

#include "DataFiles.h"
#include "ImageFolder.h"

#include <QFileInfo>

#include <fstream>

namespace lightbox::data::listing {
namespace {

/// Splits one CSV record (RFC 4180 quoting); reads further lines for quoted line breaks.
bool readCsvRecord(std::istream& in, std::vector<std::string>& fields, char delimiter)
{
    fields.clear();
    std::string line;
    if (!std::getline(in, line))
        return false;
    std::string field;
    bool quoted = false;
    for (size_t i = 0;; ++i) {
        if (i == line.size()) {
            if (quoted) {
                std::string more;
                if (!std::getline(in, more))
                    break;
                field += '\n';
                line = more;
                i = size_t(-1);
                continue;
            }
            break;
        }
        const char c = line[i];
        if (quoted) {
            if (c == '"') {
                if (i + 1 < line.size() && line[i + 1] == '"') {
                    field += '"';
                    ++i;
                } else {
                    quoted = false;
                }
            } else {
                field += c;
            }
        } else if (c == '"') {
            quoted = true;
        } else if (c == delimiter) {
            fields.push_back(trim(field));
            field.clear();
        } else if (c != '\r') {
            field += c;
        }
    }
    fields.push_back(trim(field));
    return true;
}

int findColumn(const std::vector<std::string>& header, const std::string& name)
{
    for (size_t i = 0; i < header.size(); ++i)
        if (lower(header[i]) == lower(name))
            return int(i);
    return -1;
}

std::string joinColumns(const std::vector<std::string>& header)
{
    std::string out;
    for (const std::string& h : header)
        out += (out.empty() ? "" : ", ") + h;
    return out;
}

/// `pattern` with "{column}" placeholders replaced by the row's values ("{id}.png").
std::string applyPattern(const std::string& pattern, const std::string& value, const std::vector<std::string>& header,
                         const std::vector<std::string>& row)
{
    if (pattern.empty())
        return value;
    std::string out;
    for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '{') {
            const size_t close = pattern.find('}', i);
            if (close != std::string::npos) {
                const int col = findColumn(header, pattern.substr(i + 1, close - i - 1));
                out += col >= 0 && size_t(col) < row.size() ? row[size_t(col)] : value;
                i = close;
                continue;
            }
        }
        out += pattern[i];
    }
    return out;
}

/// Where the image named in a CSV row lies: relative to the image folder, else the CSV's
/// folder or a folder named like the CSV (RSNA: boneage-training-dataset.csv beside
/// boneage-training-dataset/); extensionless names also try the usual extensions.
QString resolveCsvPath(const std::string& name, const std::vector<QDir>& bases)
{
    static const char* const extensions[] = {"", ".png", ".jpg", ".jpeg", ".dcm", ".tif", ".tiff", ".bmp"};
    QString n = QString::fromStdString(name);
    n.replace(QLatin1Char('\\'), QLatin1Char('/')); // written on Windows
    const bool hasSuffix = !QFileInfo(n).suffix().isEmpty();
    for (const QDir& base : bases)
        for (const char* ext : extensions) {
            if (hasSuffix && *ext)
                break;
            const QFileInfo f(base.absoluteFilePath(n + QLatin1String(ext)));
            if (f.isFile())
                return f.absoluteFilePath();
        }
    return {};
}

} // namespace

Result<Listing> listCsv(const QString& csvPath, const DatasetOptions& options, QString& rootOut)
{
    std::ifstream in(csvPath.toStdString(), std::ios::binary);
    if (!in)
        return Result<Listing>::failure("cannot open " + csvPath.toStdString());
    // The delimiter: a comma, or the semicolon or tab of spreadsheet exports, whichever the
    // header line has most of.
    std::string firstLine;
    std::getline(in, firstLine);
    char delimiter = ',';
    for (const char d : {';', '\t'})
        if (std::count(firstLine.begin(), firstLine.end(), d) >
            std::count(firstLine.begin(), firstLine.end(), delimiter))
            delimiter = d;
    in.clear();
    in.seekg(0);
    std::vector<std::string> header;
    if (!readCsvRecord(in, header, delimiter) || header.empty() || (header.size() == 1 && header[0].empty()))
        return Result<Listing>::failure(csvPath.toStdString() + " is empty");
    if (!header.empty() && header[0].size() >= 3 && header[0].compare(0, 3, "\xEF\xBB\xBF") == 0)
        header[0] = header[0].substr(3); // UTF-8 byte-order mark

    int pathCol = -1;
    if (!options.csvPathColumn.empty()) {
        pathCol = findColumn(header, options.csvPathColumn);
        if (pathCol < 0)
            return Result<Listing>::failure(csvPath.toStdString() + " has no column '" + options.csvPathColumn +
                                            "' (columns: " + joinColumns(header) + ")");
    } else {
        for (const char* key : {"path", "file", "image", "id"}) {
            for (size_t i = 0; i < header.size() && pathCol < 0; ++i)
                if (lower(header[i]).find(key) != std::string::npos)
                    pathCol = int(i);
            if (pathCol >= 0)
                break;
        }
        if (pathCol < 0)
            return Result<Listing>::failure(csvPath.toStdString() +
                                            " has no column naming the images (a 'path', 'file' or 'id' column; "
                                            "columns: " +
                                            joinColumns(header) + ")");
    }
    int labelCol = -1;
    if (!options.csvLabelColumn.empty()) {
        labelCol = findColumn(header, options.csvLabelColumn);
    } else {
        for (const char* key : {"label", "class", "target"})
            if (labelCol < 0)
                labelCol = findColumn(header, key);
    }
    if (labelCol < 0)
        return Result<Listing>::failure(
            csvPath.toStdString() + " has no label column '" +
            (options.csvLabelColumn.empty() ? std::string("label") : options.csvLabelColumn) +
            "' (columns: " + joinColumns(header) + "); choose the label column");
    const int splitCol = findColumn(header, "split");
    int patientCol = -1;
    for (const char* key : {"patient_id", "patientid", "patient"})
        if (patientCol < 0)
            patientCol = findColumn(header, key);

    const QFileInfo csvInfo(csvPath);
    const QDir csvDir = csvInfo.absoluteDir();
    std::vector<QDir> bases;
    if (!options.imageDir.empty()) {
        const QString dir = QString::fromStdString(options.imageDir);
        bases.emplace_back(QDir::isAbsolutePath(dir) ? dir : csvDir.absoluteFilePath(dir));
        if (!bases.back().exists())
            return Result<Listing>::failure("the image folder " + bases.back().absolutePath().toStdString() +
                                            " does not exist");
    } else {
        bases.push_back(csvDir);
        const QString beside = csvDir.absoluteFilePath(csvInfo.completeBaseName());
        if (QFileInfo(beside).isDir())
            bases.emplace_back(beside);
        for (const char* name : {"images", "imgs"})
            if (QFileInfo(csvDir.absoluteFilePath(QLatin1String(name))).isDir())
                bases.emplace_back(csvDir.absoluteFilePath(QLatin1String(name)));
    }
    rootOut = bases.front().absolutePath();
    const QDir root(rootOut);

    Listing listing;
    std::vector<std::string> row;
    int rowNumber = 1;
    while (readCsvRecord(in, row, delimiter)) {
        ++rowNumber;
        if (row.size() == 1 && row[0].empty())
            continue; // blank line
        const std::string value = size_t(pathCol) < row.size() ? row[size_t(pathCol)] : std::string();
        const std::string label = size_t(labelCol) < row.size() ? row[size_t(labelCol)] : std::string();
        const std::string where = "row " + std::to_string(rowNumber) + " (" + value + ")";
        if (value.empty() || label.empty()) {
            listing.skipped.push_back(where + ": no " + (value.empty() ? "file name" : "label"));
            continue;
        }
        const std::string name = applyPattern(options.csvPathPattern, value, header, row);
        const QString file = resolveCsvPath(name, bases);
        if (file.isEmpty()) {
            listing.skipped.push_back(where + ": file not found: " + name);
            continue;
        }
        if (!ImageFolder::isImageFile(file)) {
            listing.skipped.push_back(where + ": not an image file: " + name);
            continue;
        }
        Listing::Entry e;
        e.path = file.toStdString();
        e.id = relativeId(root, file);
        e.label = label;
        if (splitCol >= 0 && size_t(splitCol) < row.size()) {
            e.split = splitFromName(row[size_t(splitCol)]);
            listing.givenSplits = listing.givenSplits || e.split != Split::Unassigned;
        }
        if (patientCol >= 0 && size_t(patientCol) < row.size()) {
            e.patientId = row[size_t(patientCol)];
            e.hasPatient = true;
        }
        listing.entries.push_back(std::move(e));
    }
    return listing;
}

} // namespace lightbox::data::listing
