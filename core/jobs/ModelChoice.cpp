#include "ModelChoice.h"

#include <data/TaskPreset.h>

#include <algorithm>
#include <cctype>
#include <set>

namespace lightbox::jobs {

namespace {

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

std::string trim(const std::string& s)
{
    const auto a = s.find_first_not_of(" \t\r\n");
    const auto b = s.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? std::string() : s.substr(a, b - a + 1);
}

std::string titleOf(const std::string& task)
{
    const data::TaskPreset* p = data::findTaskPreset(task);
    return p ? p->title : task;
}

ModelChoice make(const std::string& task, const std::string& reason)
{
    ModelChoice c;
    c.task = task;
    c.reason = reason;
    return c;
}

/// The task whose classes are exactly the sibling folders (all of them matched), preferring
/// the task with the fewest classes left over.
std::string taskOfClassFolders(const std::vector<std::string>& folders)
{
    if (folders.size() < 2)
        return {};
    std::string best;
    size_t bestExtra = 1000;
    for (const data::TaskPreset& p : data::taskPresets()) {
        std::set<int> hit;
        bool all = true;
        for (const auto& f : folders) {
            const int i = p.classIndex(f);
            if (i < 0)
                all = false;
            else
                hit.insert(i);
        }
        if (!all || hit.size() != folders.size())
            continue;
        const size_t extra = p.classes.size() - hit.size();
        if (extra < bestExtra) {
            bestExtra = extra;
            best = p.id;
        }
    }
    return best;
}

} // namespace

double dicomAgeYears(const std::string& age)
{
    const std::string a = trim(age);
    if (a.size() < 2)
        return -1;
    const char unit = char(std::toupper(static_cast<unsigned char>(a.back())));
    const std::string digits = a.substr(0, a.size() - 1);
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), [](unsigned char c) { return std::isdigit(c); }))
        return -1;
    const double n = std::stod(digits);
    switch (unit) {
    case 'Y': return n;
    case 'M': return n / 12.0;
    case 'W': return n * 7.0 / 365.25;
    case 'D': return n / 365.25;
    default: return -1;
    }
}

double yearsBetween(const std::string& birthDate, const std::string& studyDate)
{
    auto parse = [](const std::string& d, int& y, int& m, int& day) {
        std::string digits;
        for (char ch : d)
            if (std::isdigit(static_cast<unsigned char>(ch)))
                digits += ch;
        if (digits.size() != 8)
            return false;
        y = std::stoi(digits.substr(0, 4));
        m = std::stoi(digits.substr(4, 2));
        day = std::stoi(digits.substr(6, 2));
        return m >= 1 && m <= 12 && day >= 1 && day <= 31;
    };
    int by = 0, bm = 0, bd = 0, sy = 0, sm = 0, sd = 0;
    if (!parse(birthDate, by, bm, bd) || !parse(studyDate, sy, sm, sd))
        return -1;
    int years = sy - by;
    if (sm < bm || (sm == bm && sd < bd))
        --years;
    return years >= 0 ? years : -1;
}

ModelChoice chooseTask(const ImageContext& c)
{
    if (!c.presetId.empty() && data::findTaskPreset(c.presetId))
        return make(c.presetId, "the crop panel's task is " + titleOf(c.presetId));

    const std::string body = lower(trim(c.bodyPart));
    if (!body.empty()) {
        const std::string said = "DICOM Body Part Examined is " + trim(c.bodyPart);
        if (body.find("knee") != std::string::npos)
            return make("knee-kl", said);
        if (body.find("hand") != std::string::npos || body == "wrist")
            return make("hand-sex", said);
        if (body.find("skin") != std::string::npos)
            return make("skin-isic", said);
        if (body.find("chest") != std::string::npos || body == "thorax" || body == "lung") {
            double years = dicomAgeYears(c.patientAge);
            std::string age = trim(c.patientAge);
            if (years < 0) {
                years = yearsBetween(c.birthDate, c.studyDate);
                if (years >= 0)
                    age = std::to_string(static_cast<int>(years)) + " years at the study";
            }
            if (years >= 0 && years < 18)
                return make("chest-pneumonia", said + ", the patient is " + age + " (a child)");
            return make("chest-4class", said + (years >= 0 ? ", the patient is " + age + " (an adult)"
                                                           : std::string(", no patient age (an adult assumed)")));
        }
    }
    const std::string modality = lower(trim(c.modality));
    if (modality == "xc" || modality == "gm")
        return make("skin-isic", "DICOM Modality is " + trim(c.modality) + " (a photograph)");

    // The folder's task: a task id in the path, then class folders, then words.
    const std::string path = lower(c.path);
    for (const data::TaskPreset& p : data::taskPresets())
        if (path.find(p.id) != std::string::npos)
            return make(p.id, "the path names the task (" + p.id + ")");
    if (const std::string t = taskOfClassFolders(c.siblingFolders); !t.empty()) {
        std::string list;
        for (const auto& f : c.siblingFolders)
            list += (list.empty() ? "" : ", ") + f;
        return make(t, "the folder's class folders (" + list + ") are the classes of " + titleOf(t));
    }
    const std::vector<std::pair<const char*, const char*>> words = {{"knee", "knee-kl"},
                                                                    {"kellgren", "knee-kl"},
                                                                    {"boneage", "hand-sex"},
                                                                    {"bone-age", "hand-sex"},
                                                                    {"bone_age", "hand-sex"},
                                                                    {"hand", "hand-sex"},
                                                                    {"isic", "skin-isic"},
                                                                    {"dermoscop", "skin-isic"},
                                                                    {"skin", "skin-isic"},
                                                                    {"lesion", "skin-isic"},
                                                                    {"kermany", "chest-pneumonia"},
                                                                    {"pediatric", "chest-pneumonia"},
                                                                    {"paediatric", "chest-pneumonia"},
                                                                    {"covid", "chest-4class"},
                                                                    {"tuberculosis", "chest-4class"},
                                                                    {"pneumonia", "chest-pneumonia"},
                                                                    {"chest", "chest-4class"},
                                                                    {"cxr", "chest-4class"}};
    for (const auto& [word, task] : words)
        if (path.find(word) != std::string::npos)
            return make(task, std::string("the path says \"") + word + "\"");
    if (c.colour && !c.dicom)
        return make("skin-isic", "a colour photograph");
    return {};
}

ModelChoice chooseModel(const std::vector<ModelCandidate>& candidates, const ImageContext& context)
{
    ModelChoice c = chooseTask(context);
    if (c.task.empty())
        return c;
    for (size_t i = 0; i < candidates.size(); ++i)
        if (candidates[i].task == c.task) {
            c.index = static_cast<int>(i);
            return c;
        }
    c.reason += ", but no listed model is for that task";
    return c;
}

} // namespace lightbox::jobs
