#include "Commands.h"
#include "Shared.h"

#include <data/TaskPreset.h>
#include <jobs/PredictJob.h>
#include <jobs/TrainingWorker.h>
#include <ml/Bundle.h>
#include <ml/Json.h>

#include <cstdio>

namespace lightbox::cli {

int runEvaluate(const QStringList& argv)
{
    CommandLine cl("evaluate", QString(),
                   "Accuracy, per-class scores, confusion matrix, AUC (and QWK/MAE for graded labels), calibration "
                   "error (ECE) and the share of images the out-of-distribution detector flags, of a bundle on one "
                   "split. The split comes from --splits or the run folder's splits.csv beside the model; a plain "
                   "folder of class sub-folders without either is evaluated whole unless --split asks for a carve.");
    cl.option("model", "M", "Model bundle.", true);
    cl.option("data", "DIR", "The data set: a folder, a CSV file or a crop-tool data-set folder.", true);
    cl.option("split", "S", "test (default), val, train or all.");
    cl.option("splits", "CSV|DIR", "The splits.csv to use (or the run folder holding it).");
    cl.option("preset", "P", "Task preset (default: the model card's task).");
    addDeviceOption(cl);
    cl.option("threads", "N", "LibTorch CPU threads (0 to 1024; 0 = all cores).");
    cl.option("batch", "N", "Batch size (1 to 65536; default 32).");
    cl.option("seed", "N", "Seed of the 8:1:1 carve when the data set has no splits (default 42).");
    cl.option("out", "DIR", "Also write report.json, per_class.csv and confusion.csv into DIR.");
    cl.flag("reduced-precision",
            "float16 on a GPU, bfloat16 on a CPU with AVX-512 BF16 or AMX (faster, slightly different).");
    cl.flag("tta", "Test-time augmentation with the transforms the model's task was trained with.");
    cl.flag("json", "Print JSON.");
    if (!cl.parse(argv, 0, 0))
        return cl.exitCode();
    int seed = 42, threads = 0, batch = 32;
    QString splitName = QStringLiteral("test");
    if (!cl.integer("seed", 0, CommandLine::kIntMax, seed) || !cl.integer("threads", 0, 1024, threads) ||
        !cl.integer("batch", 1, 65536, batch) || !cl.choice("split", {"test", "val", "train", "all"}, splitName))
        return cl.exitCode();
    const std::string modelPath = cl.value("model").toStdString();
    auto model = ml::loadModel(modelPath);
    if (!model)
        return fail(cl.value("model"), model.error());
    const ml::ModelCard& card = model->card;

    const data::TaskPreset* preset =
        data::findTaskPreset(cl.has("preset") ? cl.value("preset").toStdString() : card.task);
    if (cl.has("preset") && !preset)
        return fail("evaluate", "unknown preset '" + cl.value("preset").toStdString() + "'");
    const data::DatasetOptions options = jobs::datasetOptionsForModel(preset, card);
    auto dataset = data::loadDataset(cl.value("data").toStdString(), options);
    if (!dataset)
        return fail(cl.value("data"), dataset.error());

    bool carved = false;
    auto splitSource = applyModelSplits(cl, dataset.value(), seed, &carved);
    if (!splitSource)
        return fail("evaluate", splitSource.error());
    // A plain folder (no train/val/test structure, no splits.csv of the model's run) is a
    // held-out set handed in whole: every image is evaluated unless --split asks for a carve.
    const bool wholeFolder = carved && !cl.has("split");
    if (wholeFolder) {
        splitSource = std::string("the whole folder (no train/val/test sub-folders, no splits.csv of the model)");
        std::fprintf(stderr,
                     "lightbox-cli: note: %s has no train/val/test sub-folders and no splits.csv belongs to the "
                     "model: evaluating all %zu images (--split test|val|train picks a carve by patient)\n",
                     cl.value("data").toLocal8Bit().constData(), dataset->samples.size());
    }
    if (wholeFolder)
        splitName = "all";
    data::Split split = data::Split::Unassigned;
    if (splitName == "test")
        split = data::Split::Test;
    else if (splitName == "val")
        split = data::Split::Val;
    else if (splitName == "train")
        split = data::Split::Train;
    if (split == data::Split::Test && !cl.has("split") && dataset->inSplit(data::Split::Test).empty()) {
        std::fprintf(stderr, "lightbox-cli: note: the data set has no test split; evaluating on val\n");
        split = data::Split::Val;
    }
    const std::string device = cl.has("device") ? cl.value("device").toStdString() : "auto";
    const ml::TtaOptions tta = cl.has("tta") ? jobs::ttaFor(card, /*fallbackFlip=*/true) : ml::TtaOptions{};
    auto result = jobs::evaluateBundle(modelPath, dataset.value(), split, device, threads, batch,
                                       cl.has("reduced-precision"), tta);
    if (!result)
        return fail("evaluate", result.error());
    if (cl.has("out")) {
        auto files = jobs::writeReportFiles(result.value(), cl.value("out").toStdString());
        if (!files)
            return fail("evaluate", files.error());
    }
    if (cl.has("json")) {
        ml::Json::Object doc = result->toJson().object();
        doc["model"] = modelPath;
        doc["architecture"] = card.architecture;
        doc["task"] = card.task;
        doc["data"] = cl.value("data").toStdString();
        doc["split"] = result->split;
        doc["split_source"] = splitSource.value();
        doc["precision"] = result->precision;
        ml::Json::Object cardMetrics;
        for (const auto& [k, v] : card.metrics)
            cardMetrics[k] = v;
        doc["card_metrics"] = ml::Json(cardMetrics); // what the model's card says it earned
        ml::Json::Array uncovered;
        for (const auto& n : card.notCovered)
            uncovered.emplace_back(n);
        doc["not_covered"] = ml::Json(uncovered);
        doc["seconds"] = result->seconds;
        ml::Json::Array skipped;
        for (const auto& s : result->skipped)
            skipped.emplace_back(s);
        doc["skipped"] = ml::Json(skipped);
        std::printf("%s\n", ml::Json(doc).dump(2).c_str());
        return 0;
    }
    std::printf("model %s (%s, task %s)\n", modelPath.c_str(), card.architecture.c_str(),
                card.task.empty() ? "-" : card.task.c_str());
    std::printf("data %s, %s split (%s), %s, %.1f s%s\n", qPrintable(cl.value("data")), result->split.c_str(),
                splitSource->c_str(), result->precision.c_str(), result->seconds,
                result->views > 1 ? (", test-time augmentation: " + std::to_string(result->views) + " views").c_str()
                                  : "");
    if (!result->skipped.empty())
        std::printf("%zu unreadable sample(s) skipped, e.g. %s\n", result->skipped.size(), result->skipped[0].c_str());
    printReport(result->report, stdout);
    const ml::ClassificationReport& rep = result->report;
    std::printf("expected calibration error (15 bins): %s", number(rep.calibration.ece).c_str());
    if (rep.temperature != 1.0)
        std::printf(" with temperature %.3f, %s without", rep.temperature, number(rep.uncalibrated.ece).c_str());
    std::printf("\n");
    if (!result->oodMethod.empty())
        std::printf("out of distribution (%s): %lld of %zu images flagged (%.1f %%)\n", result->oodMethod.c_str(),
                    static_cast<long long>(result->oodFlagged), result->ood.size(), 100.0 * result->oodFlaggedShare());
    return 0;
}

} // namespace lightbox::cli
