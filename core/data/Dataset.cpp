#include "Dataset.h"

#include "CropManifest.h"
#include "DataFiles.h"
#include "ImageFolder.h"

#include <QDir>
#include <QDirIterator>
#include <QFileInfo>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <fstream>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace lightbox::data {

const char* toString(Split split)
{
    switch (split) {
    case Split::Train: return "train";
    case Split::Val: return "val";
    case Split::Test: return "test";
    case Split::Unassigned: break;
    }
    return "unassigned";
}

std::vector<int64_t> Dataset::classCounts(Split split) const
{
    std::vector<int64_t> counts(classNames.size(), 0);
    for (const Sample& s : samples)
        if ((split == Split::Unassigned || s.split == split) && s.label >= 0 && s.label < int(counts.size()))
            ++counts[size_t(s.label)];
    return counts;
}

std::vector<size_t> Dataset::emptyClasses() const
{
    std::vector<size_t> out;
    const std::vector<int64_t> counts = classCounts();
    for (size_t i = 0; i < counts.size(); ++i)
        if (counts[i] == 0)
            out.push_back(i);
    return out;
}

std::vector<size_t> Dataset::removeEmptyClasses()
{
    const std::vector<size_t> empty = emptyClasses();
    if (empty.empty())
        return empty;
    std::vector<int> newIndex(classNames.size(), -1);
    std::vector<std::string> kept;
    for (size_t i = 0; i < classNames.size(); ++i)
        if (!std::binary_search(empty.begin(), empty.end(), i)) {
            newIndex[i] = static_cast<int>(kept.size());
            kept.push_back(classNames[i]);
        }
    classNames = std::move(kept);
    for (Sample& s : samples)
        if (s.label >= 0 && size_t(s.label) < newIndex.size())
            s.label = newIndex[size_t(s.label)];
    return empty;
}

std::vector<const Sample*> Dataset::inSplit(Split split) const
{
    std::vector<const Sample*> out;
    for (const Sample& s : samples)
        if (s.split == split)
            out.push_back(&s);
    return out;
}

namespace {

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

std::string trim(const std::string& s)
{
    size_t a = 0, b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a])))
        ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1])))
        --b;
    return s.substr(a, b - a);
}

/// The split a folder or CSV value names ("train", "valid", "validation", "test", ...).
Split splitFromName(const std::string& name)
{
    const std::string n = lower(trim(name));
    if (n == "train" || n == "training")
        return Split::Train;
    if (n == "val" || n == "valid" || n == "validation" || n == "dev")
        return Split::Val;
    if (n == "test" || n == "testing")
        return Split::Test;
    return Split::Unassigned;
}

/// Maps the labels found in a data set to class indices: the fixed classes of the options
/// (case-insensitive, or through an alias), else the distinct labels in natural order.
class ClassMap {
public:
    explicit ClassMap(const DatasetOptions& options) : m_fixed(!options.classes.empty()), m_names(options.classes)
    {
        for (const auto& [alias, cls] : options.aliases)
            m_aliases.emplace_back(lower(alias), lower(cls));
    }

    /// Collects a label (only needed when the classes are not fixed).
    void see(const std::string& label)
    {
        if (!m_fixed && !label.empty())
            m_seen.insert(label);
    }
    /// Fixes the class order after all labels were seen.
    void finish()
    {
        if (m_fixed)
            return;
        m_names.assign(m_seen.begin(), m_seen.end());
        std::sort(m_names.begin(), m_names.end(), naturalLess);
        // Case variants of one label ("Normal", "NORMAL") become one class.
        std::vector<std::string> unique;
        for (const std::string& n : m_names)
            if (std::none_of(unique.begin(), unique.end(), [&](const std::string& u) { return lower(u) == lower(n); }))
                unique.push_back(n);
        m_names = unique;
    }
    int index(const std::string& label) const
    {
        const std::string l = lower(trim(label));
        for (size_t i = 0; i < m_names.size(); ++i)
            if (lower(m_names[i]) == l)
                return int(i);
        for (const auto& [alias, cls] : m_aliases)
            if (alias == l)
                for (size_t i = 0; i < m_names.size(); ++i)
                    if (lower(m_names[i]) == cls)
                        return int(i);
        return -1;
    }
    const std::vector<std::string>& names() const { return m_names; }

private:
    bool m_fixed;
    std::vector<std::string> m_names;
    std::vector<std::pair<std::string, std::string>> m_aliases;
    std::set<std::string> m_seen;
};

/// Patient ids from a file-name pattern, else DICOM PatientID.
class PatientIds {
public:
    static Result<PatientIds> make(const std::string& pattern)
    {
        PatientIds p;
        if (!pattern.empty()) {
            try {
                p.m_regex = std::regex(pattern, std::regex::ECMAScript);
                p.m_hasPattern = true;
            } catch (const std::regex_error& e) {
                return Result<PatientIds>::failure("the patient pattern '" + pattern +
                                                   "' is not a valid regular expression (" + e.what() + ")");
            }
        }
        return p;
    }
    std::string of(const std::string& path) const
    {
        if (m_hasPattern) {
            const std::string name = QFileInfo(QString::fromStdString(path)).fileName().toStdString();
            std::smatch m;
            if (std::regex_search(name, m, m_regex)) {
                // The first capture group that took part in the match, so one pattern can
                // hold alternatives for several naming schemes; without groups, the match.
                for (size_t i = 1; i < m.size(); ++i)
                    if (m[i].matched)
                        return m[i].str();
                return m[0].str();
            }
            return {};
        }
        if (looksLikeDicom(path))
            return dicomPatientId(path);
        return {};
    }

private:
    std::regex m_regex;
    bool m_hasPattern = false;
};

std::string relativeId(const QDir& root, const QString& path)
{
    return root.relativeFilePath(path).toStdString();
}

void sortNatural(QStringList& list)
{
    std::vector<std::pair<std::string, QString>> keyed;
    keyed.reserve(size_t(list.size()));
    for (const QString& s : list)
        keyed.emplace_back(s.toStdString(), s);
    std::sort(keyed.begin(), keyed.end(), [](const auto& a, const auto& b) { return naturalLess(a.first, b.first); });
    list.clear();
    for (auto& k : keyed)
        list << k.second;
}

/// Image files below `dir` (recursively), in natural order.
QStringList imagesBelow(const QString& dir)
{
    QStringList out;
    QDirIterator it(dir, QDir::Files | QDir::Readable | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    while (it.hasNext()) {
        const QString p = it.next();
        if (ImageFolder::isImageFile(p))
            out << p;
    }
    sortNatural(out);
    return out;
}

bool hasImageFiles(const QString& dir)
{
    for (const QFileInfo& info : QDir(dir).entryInfoList(QDir::Files | QDir::NoDotAndDotDot))
        if (ImageFolder::isImageFile(info.absoluteFilePath()))
            return true;
    return false;
}

/// Visible sub-folders of `dir` (no hidden ones, no "__MACOSX"), in natural order.
QStringList subFolders(const QString& dir)
{
    QStringList out;
    for (const QFileInfo& info : QDir(dir).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot | QDir::Readable)) {
        const QString name = info.fileName();
        if (name.startsWith(QLatin1Char('.')) || name == QLatin1String("__MACOSX"))
            continue;
        out << info.absoluteFilePath();
    }
    sortNatural(out);
    return out;
}

/// FNV-1a over a file's bytes; 0 when it cannot be read.
uint64_t fileHash(const std::string& path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        return 0;
    uint64_t h = 1469598103934665603ull;
    char buf[1 << 16];
    while (in) {
        in.read(buf, sizeof buf);
        const std::streamsize n = in.gcount();
        for (std::streamsize i = 0; i < n; ++i) {
            h ^= static_cast<unsigned char>(buf[i]);
            h *= 1099511628211ull;
        }
    }
    return h == 0 ? 1 : h;
}

/// Byte-identical files: copies under one label become one group (they go to the same split);
/// copies under different labels contradict each other and are left out, with the reason.
void groupIdenticalFiles(Dataset& ds)
{
    std::vector<uint64_t> hashes(ds.samples.size());
    parallelFor(ds.samples.size(), 0, [&](size_t i) { hashes[i] = fileHash(ds.samples[i].path); });
    std::map<uint64_t, std::vector<size_t>> byHash;
    for (size_t i = 0; i < hashes.size(); ++i)
        if (hashes[i] != 0)
            byHash[hashes[i]].push_back(i);
    std::vector<bool> drop(ds.samples.size(), false);
    for (const auto& [hash, group] : byHash) {
        if (group.size() < 2)
            continue;
        std::set<int> labels;
        for (size_t i : group)
            labels.insert(ds.samples[i].label);
        if (labels.size() > 1) {
            std::string names;
            for (int l : labels)
                names += (names.empty() ? "" : ", ") + ds.classNames[size_t(l)];
            for (size_t i : group) {
                drop[i] = true;
                ds.skipped.push_back(ds.samples[i].id + ": the same image is labelled " + names +
                                     " elsewhere in the data set (left out: contradictory labels)");
            }
            ++ds.conflictingDuplicates;
            continue;
        }
        // One group: the first patient id among the copies, else the content hash.
        std::string id;
        for (size_t i : group)
            if (id.empty())
                id = ds.samples[i].patientId;
        if (id.empty()) {
            char buf[40];
            std::snprintf(buf, sizeof buf, "same-image:%016llx", static_cast<unsigned long long>(hash));
            id = buf;
        }
        for (size_t i : group)
            if (ds.samples[i].patientId.empty())
                ds.samples[i].patientId = id;
        ++ds.identicalGroups;
    }
    std::vector<Sample> kept;
    kept.reserve(ds.samples.size());
    for (size_t i = 0; i < ds.samples.size(); ++i)
        if (!drop[i])
            kept.push_back(std::move(ds.samples[i]));
    ds.samples = std::move(kept);
}

/// Builds the samples once all labels are known; shared by every layout.
struct Listing {
    struct Entry {
        std::string path, id, label;
        Split split = Split::Unassigned;
        std::string patientId;
        bool hasPatient = false;
    };
    std::vector<Entry> entries;
    std::vector<std::string> skipped;
    bool givenSplits = false;
};

Result<Dataset> finish(const std::string& root, Listing&& listing, const DatasetOptions& options)
{
    auto patients = PatientIds::make(options.patientPattern);
    if (!patients)
        return Result<Dataset>::failure(patients.error());
    ClassMap classes(options);
    for (const auto& e : listing.entries)
        classes.see(e.label);
    classes.finish();

    Dataset ds;
    ds.root = root;
    ds.classNames = classes.names();
    ds.skipped = std::move(listing.skipped);
    ds.hasGivenSplits = listing.givenSplits;
    std::vector<size_t> needPatient;
    for (auto& e : listing.entries) {
        const int label = classes.index(e.label);
        if (label < 0) {
            ds.skipped.push_back(e.id + ": label '" + e.label + "' is not one of the classes");
            continue;
        }
        Sample s;
        s.path = std::move(e.path);
        s.id = std::move(e.id);
        s.label = label;
        s.split = e.split;
        s.patientId = e.patientId;
        if (!e.hasPatient || !options.patientPattern.empty())
            needPatient.push_back(ds.samples.size());
        ds.samples.push_back(std::move(s));
    }
    // Patient ids may mean reading DICOM headers: on all cores.
    parallelFor(needPatient.size(), 0, [&](size_t k) {
        Sample& s = ds.samples[needPatient[k]];
        s.patientId = patients->of(s.path);
    });
    if (options.groupIdenticalFiles)
        groupIdenticalFiles(ds);
    if (ds.samples.empty())
        return Result<Dataset>::failure(
            "no labelled images found in " + root +
            (ds.skipped.empty()
                 ? std::string()
                 : " (" + std::to_string(ds.skipped.size()) + " entries skipped, first: " + ds.skipped.front() + ")"));
    std::set<int> present;
    for (const Sample& s : ds.samples)
        present.insert(s.label);
    if (present.size() < 2)
        return Result<Dataset>::failure("only one class (" + ds.classNames[size_t(*present.begin())] +
                                        ") has images in " + root + "; training needs at least two");
    return ds;
}

// ---- class folders ------------------------------------------------------------------------

void listClassFolders(const QString& dir, const QDir& root, Split split, Listing& listing)
{
    for (const QString& classDir : subFolders(dir)) {
        const std::string label = QFileInfo(classDir).fileName().toStdString();
        for (const QString& file : imagesBelow(classDir)) {
            Listing::Entry e;
            e.path = QFileInfo(file).absoluteFilePath().toStdString();
            e.id = relativeId(root, file);
            e.label = label;
            e.split = split;
            listing.entries.push_back(std::move(e));
        }
    }
}

/// Folders named train/val/test (any spelling) directly under `dir`.
std::vector<std::pair<QString, Split>> splitFolders(const QString& dir)
{
    std::vector<std::pair<QString, Split>> out;
    for (const QString& sub : subFolders(dir)) {
        const Split s = splitFromName(QFileInfo(sub).fileName().toStdString());
        if (s != Split::Unassigned)
            out.emplace_back(sub, s);
    }
    return out;
}

Listing listFolderLayout(const QString& dir)
{
    Listing listing;
    const QDir root(dir);
    const auto splits = splitFolders(dir);
    if (!splits.empty()) {
        listing.givenSplits = true;
        for (const auto& [sub, split] : splits)
            listClassFolders(sub, root, split, listing);
    } else {
        listClassFolders(dir, root, Split::Unassigned, listing);
    }
    return listing;
}

// ---- CSV ----------------------------------------------------------------------------------

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

// ---- crop-tool manifest -------------------------------------------------------------------

Result<Listing> listManifest(const QString& dir)
{
    const QDir root(dir);
    auto manifest = CropManifest::load(root.absoluteFilePath(QLatin1String(CropManifest::fileName())));
    if (!manifest)
        return Result<Listing>::failure("the crop manifest in " + dir.toStdString() +
                                        " cannot be read: " + manifest.error());
    Listing listing;
    for (const CropRecord& r : manifest->records()) {
        const QString file = root.absoluteFilePath(r.file);
        const std::string id = r.file.toStdString();
        if (!QFileInfo(file).isFile()) {
            listing.skipped.push_back(id + ": file not found (listed in the manifest)");
            continue;
        }
        Listing::Entry e;
        e.path = QFileInfo(file).absoluteFilePath().toStdString();
        e.id = id;
        e.label = r.label.toStdString();
        listing.entries.push_back(std::move(e));
    }
    return listing;
}

QStringList csvFilesIn(const QString& dir)
{
    QStringList out;
    for (const QFileInfo& info : QDir(dir).entryInfoList({QStringLiteral("*.csv")}, QDir::Files))
        if (info.fileName() != QLatin1String(CropManifest::fileName()))
            out << info.absoluteFilePath();
    return out;
}

} // namespace

Result<Dataset> loadDataset(const std::string& path, const DatasetOptions& options)
{
    if (path.empty())
        return Result<Dataset>::failure("no data set given: choose a folder or a CSV file");
    const QFileInfo info(QString::fromStdString(path));
    if (!info.exists())
        return Result<Dataset>::failure("the data set " + path + " does not exist");
    if (auto p = PatientIds::make(options.patientPattern); !p)
        return Result<Dataset>::failure(p.error());

    if (info.isFile()) {
        if (info.suffix().compare(QLatin1String("csv"), Qt::CaseInsensitive) != 0)
            return Result<Dataset>::failure(path + " is neither a folder nor a CSV file");
        if (info.fileName() == QLatin1String(CropManifest::fileName())) {
            auto listing = listManifest(info.absolutePath());
            if (!listing)
                return Result<Dataset>::failure(listing.error());
            return finish(info.absolutePath().toStdString(), std::move(listing.value()), options);
        }
        QString root;
        auto listing = listCsv(info.absoluteFilePath(), options, root);
        if (!listing)
            return Result<Dataset>::failure(listing.error());
        return finish(root.toStdString(), std::move(listing.value()), options);
    }

    QString dir = info.absoluteFilePath();
    const QDir d(dir);
    if (QFileInfo(d.absoluteFilePath(QLatin1String(CropManifest::fileName()))).isFile()) {
        auto listing = listManifest(dir);
        if (!listing)
            return Result<Dataset>::failure(listing.error());
        return finish(dir.toStdString(), std::move(listing.value()), options);
    }
    // An archive unpacked into one wrapper folder (chest_xray/chest_xray/train/...): step in.
    for (int depth = 0; depth < 2; ++depth) {
        const QStringList subs = subFolders(dir);
        if (subs.size() == 1 && splitFolders(dir).empty() && csvFilesIn(dir).isEmpty() && !hasImageFiles(dir) &&
            (!subFolders(subs[0]).empty() || !csvFilesIn(subs[0]).isEmpty()))
            dir = subs[0];
        else
            break;
    }
    Listing folders = listFolderLayout(dir);
    std::set<std::string> labels;
    for (const auto& e : folders.entries)
        labels.insert(lower(e.label));
    const QStringList csvs = csvFilesIn(dir);
    if (labels.size() < 2 && csvs.size() == 1) {
        QString root;
        auto listing = listCsv(csvs.front(), options, root);
        if (!listing)
            return Result<Dataset>::failure(listing.error());
        return finish(root.toStdString(), std::move(listing.value()), options);
    }
    if (folders.entries.empty()) {
        if (csvs.size() > 1)
            return Result<Dataset>::failure(dir.toStdString() + " holds several CSV files and no class folders: "
                                                                "choose the CSV file to use");
        return Result<Dataset>::failure(
            "no data set layout found in " + dir.toStdString() +
            ": expected one sub-folder of images per class (optionally under train/, val/, test/), a CSV file "
            "with a path and a label column, or a crop-tool manifest.csv");
    }
    return finish(dir.toStdString(), std::move(folders), options);
}

// ---- splits -------------------------------------------------------------------------------

namespace {

/// SplitMix64: a small, fully specified generator, so splits repeat on every platform.
struct SplitMix {
    uint64_t state;
    uint64_t next()
    {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

template <typename T> void shuffleSeeded(std::vector<T>& v, SplitMix& rng)
{
    for (size_t i = v.size(); i > 1; --i)
        std::swap(v[i - 1], v[size_t(rng.next() % i)]);
}

/// Distributes the samples `pool` (indices) over `targets` (split, fraction), stratified by
/// label and keeping each patient's samples together.
void distribute(Dataset& ds, const std::vector<size_t>& pool, const std::vector<std::pair<Split, double>>& targets,
                bool groupByPatient, uint64_t seed)
{
    if (pool.empty() || targets.empty())
        return;
    double total = 0;
    for (const auto& t : targets)
        total += std::max(0.0, t.second);
    if (!(total > 0))
        return;

    // Groups: one per patient (or per sample without a patient id).
    std::map<std::string, std::vector<size_t>> byPatient;
    std::vector<std::vector<size_t>> groups;
    for (size_t i : pool) {
        const Sample& s = ds.samples[i];
        if (groupByPatient && !s.patientId.empty())
            byPatient[s.patientId].push_back(i);
        else
            groups.push_back({i});
    }
    for (auto& [id, members] : byPatient)
        groups.push_back(std::move(members));

    // Stratum of a group: its most frequent label (lowest index on ties).
    const size_t nClasses = ds.classNames.size();
    std::vector<std::vector<size_t>> strata(nClasses + 1);
    for (size_t g = 0; g < groups.size(); ++g) {
        std::vector<int> hist(nClasses, 0);
        for (size_t i : groups[g])
            if (ds.samples[i].label >= 0 && size_t(ds.samples[i].label) < nClasses)
                ++hist[size_t(ds.samples[i].label)];
        const auto best = std::max_element(hist.begin(), hist.end());
        strata[hist.empty() || *best == 0 ? nClasses : size_t(best - hist.begin())].push_back(g);
    }

    SplitMix rng{seed};
    for (auto& stratum : strata) {
        if (stratum.empty())
            continue;
        shuffleSeeded(stratum, rng);
        size_t stratumSize = 0;
        for (size_t g : stratum)
            stratumSize += groups[g].size();
        std::vector<double> got(targets.size(), 0.0);
        for (size_t g : stratum) {
            // The split furthest below its share takes the group (the first split on ties,
            // so a class with a single sample goes to train).
            size_t best = 0;
            double bestDeficit = -1e300;
            for (size_t t = 0; t < targets.size(); ++t) {
                const double want = std::max(0.0, targets[t].second) / total * double(stratumSize);
                if (want <= 0)
                    continue;
                const double deficit = want - got[t];
                if (deficit > bestDeficit + 1e-9) {
                    bestDeficit = deficit;
                    best = t;
                }
            }
            got[best] += double(groups[g].size());
            for (size_t i : groups[g])
                ds.samples[i].split = targets[best].first;
        }
    }
}

} // namespace

void assignSplits(Dataset& dataset, const SplitOptions& options)
{
    const std::vector<std::pair<Split, double>> all = {
        {Split::Train, options.train}, {Split::Val, options.val}, {Split::Test, options.test}};
    if (!options.keepGivenSplits)
        for (Sample& s : dataset.samples)
            s.split = Split::Unassigned;

    std::vector<size_t> unassigned;
    bool anyGiven = false;
    for (size_t i = 0; i < dataset.samples.size(); ++i) {
        if (dataset.samples[i].split == Split::Unassigned)
            unassigned.push_back(i);
        else
            anyGiven = true;
    }
    distribute(dataset, unassigned, all, options.groupByPatient, options.seed);
    if (!anyGiven)
        return;

    // Given splits: fill a missing val or test split from train (whole patients that lie
    // only in train, so the move adds no overlap).
    const auto counts = [&](Split s) {
        return std::count_if(dataset.samples.begin(), dataset.samples.end(),
                             [&](const Sample& x) { return x.split == s; });
    };
    std::vector<std::pair<Split, double>> targets = {{Split::Train, options.train}};
    if (counts(Split::Val) == 0 && options.val > 0)
        targets.emplace_back(Split::Val, options.val);
    if (counts(Split::Test) == 0 && options.test > 0)
        targets.emplace_back(Split::Test, options.test);
    if (targets.size() == 1)
        return;
    std::set<std::string> outsideTrain;
    for (const Sample& s : dataset.samples)
        if (s.split != Split::Train && !s.patientId.empty())
            outsideTrain.insert(s.patientId);
    std::vector<size_t> pool;
    for (size_t i = 0; i < dataset.samples.size(); ++i) {
        const Sample& s = dataset.samples[i];
        if (s.split == Split::Train && (s.patientId.empty() || !outsideTrain.count(s.patientId)))
            pool.push_back(i);
    }
    distribute(dataset, pool, targets, options.groupByPatient, options.seed);
}

// ---- statistics ---------------------------------------------------------------------------

DatasetStats datasetStats(const Dataset& dataset, int maxFiles)
{
    DatasetStats st;
    st.countsPerSplit = {dataset.classCounts(Split::Train), dataset.classCounts(Split::Val),
                         dataset.classCounts(Split::Test)};
    const size_t n = dataset.samples.size();
    if (n == 0)
        return st;
    const size_t want = maxFiles <= 0 ? n : std::min(n, size_t(maxFiles));
    std::vector<std::pair<int, int>> sizes(want, {0, 0});
    parallelFor(want, 0, [&](size_t k) {
        // Evenly spread over the (class-ordered) list, so every class is measured.
        const size_t i = want == n ? k : size_t(double(k) * double(n) / double(want));
        if (!imageSize(dataset.samples[i].path, sizes[k].first, sizes[k].second))
            sizes[k] = {0, 0};
    });
    double sumW = 0, sumH = 0;
    for (const auto& [w, h] : sizes) {
        if (w <= 0 || h <= 0)
            continue;
        if (st.measured == 0) {
            st.minWidth = st.maxWidth = w;
            st.minHeight = st.maxHeight = h;
        }
        st.minWidth = std::min(st.minWidth, w);
        st.maxWidth = std::max(st.maxWidth, w);
        st.minHeight = std::min(st.minHeight, h);
        st.maxHeight = std::max(st.maxHeight, h);
        sumW += w;
        sumH += h;
        ++st.measured;
    }
    if (st.measured > 0) {
        st.meanWidth = sumW / double(st.measured);
        st.meanHeight = sumH / double(st.measured);
    }
    return st;
}

} // namespace lightbox::data
