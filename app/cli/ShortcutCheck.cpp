#include "Commands.h"
#include "Shared.h"

#include <data/TaskPreset.h>
#include <jobs/ShortcutCheck.h>
#include <jobs/TrainingWorker.h>
#include <ml/Bundle.h>
#include <ml/Json.h>

#include <QThread>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lightbox::cli {

int runShortcutCheck(const QStringList& argv)
{
    CommandLine cl("shortcut-check", QString(),
                   "Trains a small probe for a few epochs on the training images with the centre blanked (borders, "
                   "markers and text only) and measures it on val; far above chance means the labels can be read from "
                   "the borders alone (exit status 3 when flagged).");
    cl.option("data", "DIR", "The data set.", true);
    cl.option("preset", "P", "Task preset (classes, channels).");
    cl.option("seed", "N", "Seed of the split and the probe (default 42).");
    cl.option("epochs", "N", "Epochs of the probe (1 to 1000).");
    cl.option("size", "N", "Input side of the probe in pixels (16 to 1024).");
    cl.option("blank", "F", "Share of the width and height blanked in the centre (0 to 0.99; default 0.7).");
    cl.option("channels", "C", "1 (grey) or 3 (colour).");
    cl.option("threads", "N", "LibTorch CPU threads (0 to 1024; default: cores - 1).");
    addDeviceOption(cl);
    cl.option("record-in", "MODEL", "Write the result into this bundle's card.");
    cl.flag("json", "Print JSON.");
    if (!cl.parse(argv, 0, 0))
        return cl.exitCode();
    const data::TaskPreset* preset = nullptr;
    if (cl.has("preset")) {
        preset = data::findTaskPreset(cl.value("preset").toStdString());
        if (!preset)
            return fail("shortcut-check", "unknown preset '" + cl.value("preset").toStdString() + "'");
    }
    jobs::ShortcutOptions so;
    so.channels = preset ? preset->channels : 1;
    int seed = 42;
    QString channels = QString::number(so.channels);
    if (!cl.integer("seed", 0, CommandLine::kIntMax, seed) || !cl.integer("epochs", 1, 1000, so.epochs) ||
        !cl.integer("size", 16, 1024, so.size) || !cl.choice("channels", {"1", "3"}, channels) ||
        !cl.integer("threads", 0, 1024, so.threads) || !cl.real("blank", 0.0, 0.99, so.blankFraction))
        return cl.exitCode();
    so.channels = channels.toInt();
    so.seed = static_cast<uint64_t>(seed);
    so.threads = cl.has("threads") ? so.threads : std::max(1, QThread::idealThreadCount() - 1);
    if (cl.has("device"))
        so.device = cl.value("device").toStdString();
    auto dataset = data::loadDataset(cl.value("data").toStdString(), jobs::datasetOptionsFor(preset));
    if (!dataset)
        return fail(cl.value("data"), dataset.error());
    // Only classes with images take part (a task class without data cannot be probed).
    std::vector<std::string> names;
    for (size_t i = 0; i < dataset->classNames.size(); ++i)
        names.push_back(preset && i < preset->displayNames.size() ? preset->displayNames[i] : dataset->classNames[i]);
    const std::vector<size_t> empty = dataset->removeEmptyClasses();
    for (auto it = empty.rbegin(); it != empty.rend(); ++it)
        names.erase(names.begin() + static_cast<std::ptrdiff_t>(*it));
    data::SplitOptions split;
    split.seed = so.seed;
    data::assignSplits(dataset.value(), split);
    auto report = jobs::checkShortcut(dataset.value(), names, so);
    if (!report)
        return fail("shortcut-check", report.error());
    const jobs::ShortcutReport& r = report.value();
    if (cl.has("json")) {
        ml::Json::Array recall;
        for (double v : r.recall)
            recall.emplace_back(v);
        ml::Json::Array classes;
        for (const auto& n : r.classNames)
            classes.emplace_back(n);
        ml::Json::Object doc{{"data", cl.value("data").toStdString()},
                             {"classes", ml::Json(classes)},
                             {"blank_fraction", r.blankFraction},
                             {"train_samples", static_cast<double>(r.trainSamples)},
                             {"eval_samples", static_cast<double>(r.evalSamples)},
                             {"split", r.evaluatedSplit},
                             {"balanced_accuracy", r.balancedAccuracy},
                             {"accuracy", r.accuracy},
                             {"macro_auc", std::isfinite(r.macroAuc) ? ml::Json(r.macroAuc) : ml::Json()},
                             {"chance", r.chance},
                             {"margin", r.margin},
                             {"recall", ml::Json(recall)},
                             {"flagged", r.flagged},
                             {"seconds", r.seconds}};
        std::printf("%s\n", ml::Json(doc).dump(2).c_str());
    } else {
        std::printf("shortcut check of %s: %lld training images, %s\n", qPrintable(cl.value("data")),
                    static_cast<long long>(r.trainSamples), r.summary().c_str());
        for (size_t i = 0; i < r.recall.size() && i < r.classNames.size(); ++i)
            std::printf("  %-28s recall %.2f\n", r.classNames[i].c_str(), r.recall[i]);
        std::printf("  %.0f s\n", r.seconds);
    }
    if (cl.has("record-in")) {
        // The result goes into a bundle's card, where the classify panel shows it.
        const std::string path = cl.value("record-in").toStdString();
        auto model = ml::loadModel(path);
        if (!model)
            return fail(cl.value("record-in"), model.error());
        ml::ModelCard card = model->card;
        r.recordIn(card);
        if (auto saved = ml::saveBundle(model->model, card, path, &model->gaussians); !saved)
            return fail(cl.value("record-in"), saved.error());
        std::fprintf(stderr, "lightbox-cli: recorded in %s\n", path.c_str());
    }
    return r.flagged ? 3 : 0;
}

} // namespace lightbox::cli
