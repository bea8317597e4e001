#pragma once
// What the files of loadDataset share (Dataset.cpp: folder layouts, manifests and the
// samples; DatasetCsv.cpp: CSV files); private to core/data.

#include "Dataset.h"

#include <QDir>
#include <QString>

#include <algorithm>
#include <cctype>
#include <string>
#include <vector>

namespace lightbox::data::listing {

inline std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

inline std::string trim(const std::string& s)
{
    size_t a = 0, b = s.size();
    while (a < b && std::isspace(static_cast<unsigned char>(s[a])))
        ++a;
    while (b > a && std::isspace(static_cast<unsigned char>(s[b - 1])))
        --b;
    return s.substr(a, b - a);
}

/// The split a folder or CSV value names ("train", "valid", "validation", "test", ...).
inline Split splitFromName(const std::string& name)
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

inline std::string relativeId(const QDir& root, const QString& path)
{
    return root.relativeFilePath(path).toStdString();
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

/// The samples a CSV file lists (a path and a label column, optionally split and patient
/// columns); `rootOut` is the folder their paths are relative to.
Result<Listing> listCsv(const QString& csvPath, const DatasetOptions& options, QString& rootOut);

} // namespace lightbox::data::listing
