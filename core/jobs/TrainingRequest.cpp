// The training request: its JSON form (request.json in a run folder), task presets and the
// data set options they imply.
#include "TrainingWorker.h"
#include "TrainingWorkerPrivate.h"

#include <ml/Json.h>

#include <QDir>
#include <QFile>
#include <QFileInfo>

#include <algorithm>

namespace lightbox::jobs {

using namespace trainingworker;

namespace {

std::vector<std::string> toStrings(const ml::Json& j)
{
    std::vector<std::string> out;
    for (const auto& e : j.array())
        out.push_back(e.toString());
    return out;
}

} // namespace

// ---------------------------------------------------------------------------------------
// Requests

std::string TrainingRequest::toJsonText() const
{
    ml::Json::Object o;
    o["format"] = 1;
    o["dataPath"] = dataPath;
    o["presetId"] = presetId;
    ml::Json::Object ds;
    ds["classes"] = stringArray(dataset.classes);
    ml::Json::Array aliases;
    for (const auto& [a, c] : dataset.aliases)
        aliases.emplace_back(ml::Json::Array{ml::Json(a), ml::Json(c)});
    ds["aliases"] = ml::Json(aliases);
    ds["csvPathColumn"] = dataset.csvPathColumn;
    ds["csvLabelColumn"] = dataset.csvLabelColumn;
    ds["csvPathPattern"] = dataset.csvPathPattern;
    ds["imageDir"] = dataset.imageDir;
    ds["patientPattern"] = dataset.patientPattern;
    o["dataset"] = ml::Json(ds);
    o["split"] = ml::Json(ml::Json::Object{{"train", split.train},
                                           {"val", split.val},
                                           {"test", split.test},
                                           {"seed", static_cast<double>(split.seed)},
                                           {"groupByPatient", split.groupByPatient},
                                           {"keepGivenSplits", split.keepGivenSplits}});
    ml::Json config;
    std::string error;
    if (ml::Json::parse(this->config.toJsonText(), config, error))
        o["config"] = config;
    o["batchSize"] = batchSize;
    o["balanced"] = balanced;
    o["classWeightsFromCounts"] = classWeightsFromCounts;
    o["augmentPreset"] = augmentPreset;
    o["loaderThreads"] = loaderThreads;
    o["cacheMiB"] = cacheMiB;
    o["checkLeakage"] = checkLeakage;
    o["skipEmptyClasses"] = skipEmptyClasses;
    o["checkShortcut"] = checkShortcut;
    o["worldSize"] = this->config.distributed.worldSize; // for the record: the launcher decides
    return ml::Json(o).dump(2);
}

Result<TrainingRequest> TrainingRequest::fromJsonText(const std::string& text)
{
    ml::Json j;
    std::string error;
    if (!ml::Json::parse(text, j, error) || !j.isObject())
        return Result<TrainingRequest>::failure("run.json is not valid JSON: " + error);
    TrainingRequest r;
    r.dataPath = j["dataPath"].toString();
    r.presetId = j["presetId"].toString();
    const ml::Json& ds = j["dataset"];
    r.dataset.classes = toStrings(ds["classes"]);
    for (const auto& pair : ds["aliases"].array())
        if (pair.array().size() == 2)
            r.dataset.aliases.emplace_back(pair.array()[0].toString(), pair.array()[1].toString());
    r.dataset.csvPathColumn = ds["csvPathColumn"].toString();
    r.dataset.csvLabelColumn = ds["csvLabelColumn"].toString();
    r.dataset.csvPathPattern = ds["csvPathPattern"].toString();
    r.dataset.imageDir = ds["imageDir"].toString();
    r.dataset.patientPattern = ds["patientPattern"].toString();
    const ml::Json& sp = j["split"];
    r.split.train = sp["train"].toNumber(0.8);
    r.split.val = sp["val"].toNumber(0.1);
    r.split.test = sp["test"].toNumber(0.1);
    r.split.seed = static_cast<uint64_t>(sp["seed"].toNumber(42));
    r.split.groupByPatient = sp["groupByPatient"].toBool(true);
    r.split.keepGivenSplits = sp["keepGivenSplits"].toBool(true);
    if (!j.contains("config"))
        return Result<TrainingRequest>::failure("run.json has no training configuration");
    auto config = ml::TrainConfig::fromJsonText(j["config"].dump(2));
    if (!config)
        return Result<TrainingRequest>::failure("run.json: " + config.error());
    r.config = config.value();
    r.batchSize = j["batchSize"].toInt(32);
    r.balanced = j["balanced"].toBool(false);
    r.classWeightsFromCounts = j["classWeightsFromCounts"].toBool(false);
    r.augmentPreset = j["augmentPreset"].toString("light");
    r.loaderThreads = j["loaderThreads"].toInt(0);
    r.cacheMiB = j["cacheMiB"].toInt(1024);
    r.checkLeakage = j["checkLeakage"].toBool(true);
    r.skipEmptyClasses = j["skipEmptyClasses"].toBool(false);
    r.checkShortcut = j["checkShortcut"].toBool(false);
    if (r.dataPath.empty())
        return Result<TrainingRequest>::failure("run.json names no data set");
    return r;
}

Result<TrainingRequest> TrainingRequest::fromRunFolder(const std::string& runDir)
{
    std::string text;
    if (!QFileInfo(q(runDir)).isDir())
        return Result<TrainingRequest>::failure(runDir + ": no such run folder");
    if (!readText(joinPath(runDir, "run.json"), text))
        return Result<TrainingRequest>::failure(runDir + ": not a Lightbox run folder (no run.json)");
    auto r = fromJsonText(text);
    if (!r)
        return Result<TrainingRequest>::failure(runDir + ": " + r.error());
    r->config.runDir = runDir;
    // A run stopped before its first epoch was committed starts again from epoch 1.
    r->resume = ml::Trainer::canResume(runDir);
    return r;
}

ml::PreprocessSpec defaultPreprocess(int channels, int size)
{
    ml::PreprocessSpec spec;
    spec.width = spec.height = size;
    spec.channels = channels;
    if (channels == 1) {
        spec.mean = {0.449f};
        spec.std = {0.226f};
    }
    return spec;
}

data::DatasetOptions datasetOptionsForModel(const data::TaskPreset* preset, const ml::ModelCard& card)
{
    data::DatasetOptions o = datasetOptionsFor(preset);
    if (!preset) {
        o.classes = card.classNames;
        return o;
    }
    if (card.notCovered.empty())
        return o;
    std::vector<std::string> kept;
    for (size_t i = 0; i < preset->classes.size(); ++i) {
        const std::string& shown = i < preset->displayNames.size() ? preset->displayNames[i] : preset->classes[i];
        if (std::find(card.notCovered.begin(), card.notCovered.end(), shown) == card.notCovered.end() &&
            std::find(card.notCovered.begin(), card.notCovered.end(), preset->classes[i]) == card.notCovered.end())
            kept.push_back(preset->classes[i]);
    }
    o.classes = kept;
    return o;
}

Result<std::vector<std::string>> emptyClasses(const TrainingRequest& request)
{
    data::DatasetOptions listing = request.dataset;
    listing.groupIdenticalFiles = false; // counting needs the listing alone, not every file's bytes
    auto loaded = data::loadDataset(request.dataPath, listing);
    if (!loaded)
        return Result<std::vector<std::string>>::failure(loaded.error());
    const std::vector<std::string> names = displayNames(request, loaded->classNames);
    std::vector<std::string> out;
    for (size_t i : loaded->emptyClasses())
        out.push_back(names[i]);
    return out;
}

data::DatasetOptions datasetOptionsFor(const data::TaskPreset* preset)
{
    data::DatasetOptions o;
    if (!preset)
        return o;
    o.classes = preset->classes;
    o.aliases = preset->aliases;
    o.csvPathColumn = preset->csvPathColumn;
    o.csvLabelColumn = preset->csvLabelColumn;
    o.csvPathPattern = preset->csvPathPattern;
    o.patientPattern = preset->patientPattern;
    return o;
}

void applyPreset(const data::TaskPreset& preset, TrainingRequest& request)
{
    request.presetId = preset.id;
    request.dataset = datasetOptionsFor(&preset);
    ml::TrainConfig& c = request.config;
    c.task = preset.id;
    c.classNames = preset.displayNames.size() == preset.classes.size() ? preset.displayNames : preset.classes;
    c.ordinal = preset.ordinal;
    c.preprocess = defaultPreprocess(preset.channels, preset.inputSize);
    if (!preset.architecture.empty())
        c.architecture = preset.architecture;
    if (!preset.augmentation.empty())
        request.augmentPreset = preset.augmentation;
}

} // namespace lightbox::jobs
