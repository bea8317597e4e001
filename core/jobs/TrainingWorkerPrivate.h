#pragma once
// Helpers shared by the files of the training job (TrainingRequest.cpp: the request and its
// presets; TrainingRuns.cpp: evaluation, reports and run folders; TrainingWorker.cpp: the
// worker that trains); private to core/jobs.

#include "TrainingWorker.h"

#include <ml/Json.h>

#include <QDir>
#include <QFile>
#include <QSaveFile>
#include <QString>

#include <limits>
#include <string>
#include <vector>

namespace lightbox::jobs::trainingworker {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

inline QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

inline std::string joinPath(const std::string& dir, const char* name)
{
    return QDir(q(dir)).filePath(QString::fromLatin1(name)).toStdString();
}

inline bool readText(const std::string& path, std::string& out)
{
    QFile f(q(path));
    if (!f.open(QIODevice::ReadOnly))
        return false;
    out = f.readAll().toStdString();
    return true;
}

inline bool writeText(const std::string& path, const std::string& text)
{
    QSaveFile f(q(path));
    if (!f.open(QIODevice::WriteOnly))
        return false;
    f.write(text.data(), static_cast<qint64>(text.size()));
    return f.commit();
}

inline ml::Json stringArray(const std::vector<std::string>& v)
{
    ml::Json::Array a;
    for (const auto& s : v)
        a.emplace_back(s);
    return ml::Json(a);
}

inline std::vector<data::Sample> samplesOf(const data::Dataset& dataset, data::Split split)
{
    std::vector<data::Sample> out;
    for (const auto& s : dataset.samples)
        if (split == data::Split::Unassigned || s.split == split)
            out.push_back(s);
    return out;
}

inline const char* splitName(data::Split split)
{
    return split == data::Split::Unassigned ? "all" : data::toString(split);
}

/// The names the request gives the data set's classes (the preset's display names, else the
/// folder or label names).
inline std::vector<std::string> displayNames(const TrainingRequest& req, const std::vector<std::string>& classNames)
{
    return req.config.classNames.size() == classNames.size() ? req.config.classNames : classNames;
}

} // namespace lightbox::jobs::trainingworker
