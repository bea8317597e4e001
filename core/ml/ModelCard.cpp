#include "ModelCard.h"

#include <algorithm>
#include <cmath>
#include <ctime>

namespace lightbox::ml {

Json ModelCard::toJson() const
{
    Json::Array names;
    for (const auto& n : classNames)
        names.emplace_back(n);
    Json::Array mean, stdv;
    for (float v : preprocess.mean)
        mean.emplace_back(static_cast<double>(v));
    for (float v : preprocess.std)
        stdv.emplace_back(static_cast<double>(v));
    Json::Object pre{
        {"width", preprocess.width}, {"height", preprocess.height}, {"channels", preprocess.channels},
        {"mean", Json(mean)},        {"std", Json(stdv)},           {"resize", toString(preprocess.resize)}};
    Json::Object m;
    for (const auto& [k, v] : metrics)
        m[k] = v;
    Json::Array uncovered;
    for (const auto& n : notCovered)
        uncovered.emplace_back(n);
    Json::Object o{{"format_version", formatVersion},     {"architecture", architecture}, {"task", task},
                   {"class_names", Json(names)},          {"ordinal", ordinal},           {"preprocess", Json(pre)},
                   {"training_summary", trainingSummary}, {"metrics", Json(m)},           {"created", created}};
    if (!notCovered.empty())
        o["not_covered"] = Json(uncovered);
    if (members > 1)
        o["members"] = members;
    if (head != "softmax")
        o["head"] = head;
    if (temperature != 1.0)
        o["temperature"] = temperature;
    if (!cutPoints.empty()) {
        Json::Array cuts;
        for (double v : cutPoints)
            cuts.emplace_back(v);
        o["cut_points"] = Json(cuts);
    }
    if (ood.valid())
        o["ood"] = ood.toJson();
    if (!classDisplayNames.empty()) {
        Json::Object display;
        for (const auto& [language, list] : classDisplayNames) {
            Json::Array a;
            for (const auto& n : list)
                a.emplace_back(n);
            display[language] = Json(a);
        }
        o["class_display_names"] = Json(display);
    }
    return Json(o);
}

Result<ModelCard> ModelCard::fromJson(const Json& j)
{
    using R = Result<ModelCard>;
    if (!j.isObject())
        return R::failure("model card is not a JSON object");
    ModelCard c;
    if (!j["format_version"].isNumber())
        return R::failure("model card has no format_version");
    c.formatVersion = j["format_version"].toInt();
    if (c.formatVersion > kFormatVersion)
        return R::failure("model card format version " + std::to_string(c.formatVersion) +
                          " is newer than this Lightbox supports (" + std::to_string(kFormatVersion) +
                          "); update Lightbox to open it");
    if (c.formatVersion < 1)
        return R::failure("model card format version " + std::to_string(c.formatVersion) + " is invalid");
    c.architecture = j["architecture"].toString();
    if (c.architecture.empty())
        return R::failure("model card has no architecture");
    c.task = j["task"].toString();
    for (const auto& n : j["class_names"].array()) {
        if (!n.isString())
            return R::failure("model card class_names must be strings");
        c.classNames.push_back(n.toString());
    }
    if (c.classNames.empty())
        return R::failure("model card has no class_names");
    c.ordinal = j["ordinal"].toBool(false);

    const Json& p = j["preprocess"];
    if (!p.isObject())
        return R::failure("model card has no preprocess section");
    c.preprocess.width = p["width"].toInt(0);
    c.preprocess.height = p["height"].toInt(0);
    c.preprocess.channels = p["channels"].toInt(0);
    c.preprocess.mean.clear();
    c.preprocess.std.clear();
    for (const auto& v : p["mean"].array())
        c.preprocess.mean.push_back(static_cast<float>(v.toNumber()));
    for (const auto& v : p["std"].array())
        c.preprocess.std.push_back(static_cast<float>(v.toNumber()));
    const std::string resize = p["resize"].toString("area");
    if (!parseResizeMode(resize, c.preprocess.resize))
        return R::failure("model card resize mode '" + resize + "' is unknown");
    const std::string bad = c.preprocess.validate();
    if (!bad.empty())
        return R::failure("model card preprocess: " + bad);

    c.trainingSummary = j["training_summary"].toString();
    for (const auto& [k, v] : j["metrics"].object())
        if (v.isNumber())
            c.metrics[k] = v.toNumber();
    c.created = j["created"].toString();
    for (const auto& n : j["not_covered"].array())
        if (n.isString())
            c.notCovered.push_back(n.toString());
    if (j.contains("members")) {
        c.members = j["members"].toInt(0);
        if (c.members < 1 || c.members > 32)
            return R::failure("model card members must be 1 to 32");
    }
    if (j.contains("head")) {
        c.head = j["head"].toString();
        if (c.head != "softmax" && c.head != "corn")
            return R::failure("model card head '" + c.head + "' is unknown (softmax or corn)");
        if (c.head == "corn" && !c.ordinal)
            return R::failure("model card: a corn head needs graded (ordinal) classes");
    }
    if (j.contains("temperature")) {
        c.temperature = j["temperature"].toNumber(-1.0);
        if (!(c.temperature > 0.0) || !std::isfinite(c.temperature) || c.temperature > 1000.0)
            return R::failure("model card temperature must be a positive number");
    }
    if (j.contains("cut_points")) {
        for (const auto& v : j["cut_points"].array()) {
            if (!v.isNumber() || !std::isfinite(v.toNumber()))
                return R::failure("model card cut_points must be numbers");
            c.cutPoints.push_back(v.toNumber());
        }
        if (!c.ordinal || c.cutPoints.size() + 1 != c.classNames.size() ||
            !std::is_sorted(c.cutPoints.begin(), c.cutPoints.end()))
            return R::failure("model card cut_points must be one fewer than the grades, ascending, on a graded task");
    }
    if (j.contains("ood")) {
        auto ood = OodCard::fromJson(j["ood"]);
        if (!ood)
            return R::failure(ood.error());
        c.ood = ood.value();
    }
    if (j.contains("class_display_names")) {
        const Json& d = j["class_display_names"];
        if (!d.isObject())
            return R::failure("model card class_display_names must be an object of language codes");
        for (const auto& [language, list] : d.object()) {
            std::vector<std::string> names;
            for (const auto& n : list.array()) {
                if (!n.isString())
                    return R::failure("model card class_display_names must be strings");
                names.push_back(n.toString());
            }
            if (language.empty() || !list.isArray() || names.size() != c.classNames.size())
                return R::failure("model card class_display_names '" + language + "' must list " +
                                  std::to_string(c.classNames.size()) + " names, one per class");
            c.classDisplayNames[language] = std::move(names);
        }
    }
    return c;
}

std::string ModelCard::displayName(int index, const std::string& language) const
{
    if (index < 0 || index >= numClasses())
        return {};
    const auto it = classDisplayNames.find(language);
    if (it != classDisplayNames.end() && index < static_cast<int>(it->second.size()) &&
        !it->second[static_cast<std::size_t>(index)].empty())
        return it->second[static_cast<std::size_t>(index)];
    return classNames[static_cast<std::size_t>(index)];
}

Result<ModelCard> ModelCard::fromJsonText(const std::string& text)
{
    Json j;
    std::string error;
    if (!Json::parse(text, j, error))
        return Result<ModelCard>::failure("model card is not valid JSON (" + error + ")");
    return fromJson(j);
}

std::string isoTimestampUtc()
{
    const std::time_t t = std::time(nullptr);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

} // namespace lightbox::ml
