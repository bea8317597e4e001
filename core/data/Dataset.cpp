// Data sets: loadDataset() over class folders (optionally under train/, val/, test/), a
// crop-tool manifest or a CSV file (DatasetCsv.cpp); the samples and their classes, patients
// and duplicate files. Splits and statistics are in DatasetSplits.cpp.
#include "Dataset.h"
#include "DatasetListing.h"

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

namespace lightbox::data {

using namespace listing;

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

} // namespace lightbox::data
