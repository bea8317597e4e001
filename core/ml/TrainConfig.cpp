// TrainConfig: its JSON form (config.json in a run folder) and its checks. Torch-free.
#include "Json.h"
#include "Trainer.h"

#include <algorithm>
#include <cmath>

namespace lightbox::ml {

namespace {

std::string joined(const std::vector<std::string>& items)
{
    std::string s;
    for (const auto& i : items)
        s += (s.empty() ? "" : ", ") + i;
    return s;
}

bool oneOf(const std::string& s, std::initializer_list<const char*> options)
{
    for (const char* o : options)
        if (s == o)
            return true;
    return false;
}

Json stringArray(const std::vector<std::string>& v)
{
    Json::Array a;
    for (const auto& s : v)
        a.emplace_back(s);
    return Json(std::move(a));
}

Json floatArray(const std::vector<float>& v)
{
    Json::Array a;
    for (float f : v)
        a.emplace_back(static_cast<double>(f));
    return Json(std::move(a));
}

/// The card's preprocess object, so both files spell it the same way.
Json preprocessJson(const PreprocessSpec& spec)
{
    ModelCard card;
    card.preprocess = spec;
    return card.toJson()["preprocess"];
}

Result<PreprocessSpec> preprocessFromJson(const Json& j)
{
    Json::Object probe{
        {"format_version", 1}, {"architecture", "-"}, {"class_names", stringArray({"-"})}, {"preprocess", j}};
    auto card = ModelCard::fromJson(Json(probe));
    if (!card)
        return Result<PreprocessSpec>::failure(card.error());
    return card->preprocess;
}

} // namespace

std::string TrainConfig::toJsonText() const
{
    // Seeds above 2^53 do not survive a double: they are written as text.
    const Json seedJson = seed <= (1ull << 53) ? Json(static_cast<double>(seed))
                                               : Json(std::to_string(static_cast<unsigned long long>(seed)));
    return Json(Json::Object{{"architecture", architecture},
                             {"init_bundle", initBundle},
                             {"freeze_all_but_last", freezeAllButLast},
                             {"unfreeze_at_epoch", unfreezeAtEpoch},
                             {"task", task},
                             {"class_names", stringArray(classNames)},
                             {"not_covered", stringArray(notCovered)},
                             {"ordinal", ordinal},
                             {"preprocess", preprocessJson(preprocess)},
                             {"optimizer", optimizer},
                             {"learning_rate", learningRate},
                             {"weight_decay", weightDecay},
                             {"momentum", momentum},
                             {"epochs", epochs},
                             {"class_weights", floatArray(classWeights)},
                             {"label_smoothing", labelSmoothing},
                             {"ordinal_sigma", ordinalSigma},
                             {"head", head},
                             {"schedule", schedule},
                             {"plateau_patience", plateauPatience},
                             {"plateau_factor", plateauFactor},
                             {"min_learning_rate", minLearningRate},
                             {"early_stop_patience", earlyStopPatience},
                             {"monitor", monitor},
                             {"device", device},
                             {"mixed_precision", mixedPrecision},
                             {"threads", threads},
                             {"seed", seedJson},
                             {"run_dir", runDir},
                             {"world_size", distributed.worldSize}})
        .dump(2);
}

Result<TrainConfig> TrainConfig::fromJsonText(const std::string& text)
{
    using R = Result<TrainConfig>;
    Json j;
    std::string error;
    if (!Json::parse(text, j, error))
        return R::failure("training configuration is not valid JSON: " + error);
    if (!j.isObject())
        return R::failure("training configuration is not a JSON object");
    TrainConfig c;
    std::string wrong;
    auto text_ = [&](const char* key, std::string& out) {
        if (j[key].isString())
            out = j[key].toString();
        else if (!j[key].isNull())
            wrong = key;
    };
    auto real = [&](const char* key, double& out) {
        if (j[key].isNumber())
            out = j[key].toNumber();
        else if (!j[key].isNull())
            wrong = key;
    };
    auto integer = [&](const char* key, int& out) {
        const double v = j[key].toNumber(0.5);
        if (j[key].isNumber() && v == std::floor(v) && std::abs(v) < 2e9)
            out = static_cast<int>(v);
        else if (!j[key].isNull())
            wrong = key;
    };
    auto flag = [&](const char* key, bool& out) {
        if (j[key].isBool())
            out = j[key].toBool();
        else if (!j[key].isNull())
            wrong = key;
    };
    text_("architecture", c.architecture);
    text_("init_bundle", c.initBundle);
    integer("freeze_all_but_last", c.freezeAllButLast);
    integer("unfreeze_at_epoch", c.unfreezeAtEpoch);
    text_("task", c.task);
    if (j.contains("class_names")) {
        c.classNames.clear();
        if (!j["class_names"].isArray())
            wrong = "class_names";
        for (const auto& n : j["class_names"].array()) {
            if (!n.isString())
                wrong = "class_names";
            c.classNames.push_back(n.toString());
        }
    }
    if (j.contains("not_covered")) {
        c.notCovered.clear();
        for (const auto& n : j["not_covered"].array())
            if (n.isString())
                c.notCovered.push_back(n.toString());
    }
    flag("ordinal", c.ordinal);
    if (j.contains("preprocess")) {
        auto spec = preprocessFromJson(j["preprocess"]);
        if (!spec)
            return R::failure("training configuration: " + spec.error());
        c.preprocess = spec.value();
    }
    text_("optimizer", c.optimizer);
    real("learning_rate", c.learningRate);
    real("weight_decay", c.weightDecay);
    real("momentum", c.momentum);
    integer("epochs", c.epochs);
    if (j.contains("class_weights")) {
        c.classWeights.clear();
        if (!j["class_weights"].isArray())
            wrong = "class_weights";
        for (const auto& w : j["class_weights"].array()) {
            if (!w.isNumber())
                wrong = "class_weights";
            c.classWeights.push_back(static_cast<float>(w.toNumber()));
        }
    }
    real("label_smoothing", c.labelSmoothing);
    real("ordinal_sigma", c.ordinalSigma);
    text_("head", c.head);
    text_("schedule", c.schedule);
    integer("plateau_patience", c.plateauPatience);
    real("plateau_factor", c.plateauFactor);
    real("min_learning_rate", c.minLearningRate);
    integer("early_stop_patience", c.earlyStopPatience);
    text_("monitor", c.monitor);
    text_("device", c.device);
    flag("mixed_precision", c.mixedPrecision);
    integer("threads", c.threads);
    if (j["seed"].isNumber() && j["seed"].toNumber() >= 0 && j["seed"].toNumber() <= 18446744073709549568.0)
        c.seed = static_cast<uint64_t>(j["seed"].toNumber());
    else if (j["seed"].isString()) {
        try {
            size_t used = 0;
            c.seed = std::stoull(j["seed"].toString(), &used);
            if (used != j["seed"].toString().size())
                wrong = "seed";
        } catch (const std::exception&) {
            wrong = "seed";
        }
    } else if (!j["seed"].isNull())
        wrong = "seed";
    text_("run_dir", c.runDir);
    if (!wrong.empty())
        return R::failure("training configuration: '" + wrong + "' has the wrong type");
    return c;
}

std::string TrainConfig::validate() const
{
    auto finite = [](double v) { return std::isfinite(v); };
    if (runDir.empty())
        return "no run folder given";
    if (initBundle.empty()) {
        const auto known = modelArchitectures();
        if (std::find(known.begin(), known.end(), architecture) == known.end())
            return "unknown architecture '" + architecture + "' (known: " + joined(known) + ")";
    }
    if (classNames.size() < 2 && !(initBundle.size() && classNames.empty()))
        return "at least two classes are needed (" + std::to_string(classNames.size()) + " given)";
    for (size_t i = 0; i < classNames.size(); ++i) {
        if (classNames[i].empty())
            return "class " + std::to_string(i) + " has no name";
        for (size_t k = 0; k < i; ++k)
            if (classNames[k] == classNames[i])
                return "class name '" + classNames[i] + "' appears twice";
    }
    const std::string pre = preprocess.validate();
    if (!pre.empty())
        return "preprocessing: " + pre;
    if (!oneOf(optimizer, {"adam", "adamw", "sgd"}))
        return "unknown optimizer '" + optimizer + "' (use adam, adamw or sgd)";
    if (!finite(learningRate) || learningRate <= 0 || learningRate > 10)
        return "the learning rate must be above 0 (and at most 10)";
    if (!finite(weightDecay) || weightDecay < 0)
        return "the weight decay must be 0 or more";
    if (!finite(momentum) || momentum < 0 || momentum >= 1)
        return "the momentum must be in [0, 1)";
    if (epochs < 1 || epochs > 100000)
        return "the number of epochs must be at least 1";
    if (!classWeights.empty()) {
        if (!classNames.empty() && classWeights.size() != classNames.size())
            return std::to_string(classWeights.size()) + " class weights given for " +
                   std::to_string(classNames.size()) + " classes";
        for (float w : classWeights)
            if (!std::isfinite(w) || w < 0)
                return "class weights must be 0 or more";
        if (*std::max_element(classWeights.begin(), classWeights.end()) <= 0)
            return "at least one class weight must be above 0";
    }
    if (!finite(labelSmoothing) || labelSmoothing < 0 || labelSmoothing > 0.5)
        return "label smoothing must be between 0 and 0.5";
    if (!finite(ordinalSigma) || ordinalSigma < 0 || ordinalSigma > 2)
        return "the ordinal sigma must be between 0 and 2 grades";
    if (!oneOf(head, {"softmax", "corn"}))
        return "unknown head '" + head + "' (use softmax or corn)";
    if (head == "corn" && !ordinal)
        return "the corn head is for graded tasks (KL grade); this task's classes are not ordered";
    if (head == "corn" && (ordinalSigma > 0 || labelSmoothing > 0))
        return "the corn head has its own ordinal loss: leave ordinal soft labels and label smoothing off";
    if (!oneOf(schedule, {"none", "plateau", "cosine"}))
        return "unknown schedule '" + schedule + "' (use none, plateau or cosine)";
    if (plateauPatience < 0)
        return "the plateau patience must be 0 or more";
    if (!finite(plateauFactor) || plateauFactor <= 0 || plateauFactor >= 1)
        return "the plateau factor must be between 0 and 1";
    if (!finite(minLearningRate) || minLearningRate < 0)
        return "the minimum learning rate must be 0 or more";
    if (!oneOf(monitor, {"val_loss", "val_accuracy", "val_qwk"}))
        return "unknown monitor '" + monitor + "' (use val_loss, val_accuracy or val_qwk)";
    if (freezeAllButLast < -1)
        return "freezeAllButLast must be -1 (train everything) or the number of stages to train";
    if (unfreezeAtEpoch < -1)
        return "unfreezeAtEpoch must be -1 (never) or an epoch";
    if (threads < 0)
        return "the thread count must be 0 (all cores) or more";
    if (device.empty())
        return "no device given (use auto, cpu, cuda or cuda:N)";
    return {};
}

} // namespace lightbox::ml
