#include "ShortcutCheck.h"

#include "TrainingWorker.h"

#include <data/Loader.h>
#include <ml/Bundle.h>
#include <ml/Metrics.h>

#include <QElapsedTimer>
#include <QTemporaryDir>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>

namespace lightbox::jobs {

namespace {

/// Up to `perClass` samples of each class of `split`, picked with `seed`, in a stable order.
std::vector<data::Sample> pick(const data::Dataset& dataset, data::Split split, int perClass, uint64_t seed)
{
    std::vector<data::Sample> all;
    for (const auto& s : dataset.samples)
        if (s.split == split && s.label >= 0)
            all.push_back(s);
    std::mt19937_64 rng(seed);
    std::shuffle(all.begin(), all.end(), rng);
    std::map<int, int> taken;
    std::vector<data::Sample> out;
    for (const auto& s : all)
        if (perClass <= 0 || taken[s.label]++ < perClass)
            out.push_back(s);
    std::stable_sort(out.begin(), out.end(), [](const data::Sample& a, const data::Sample& b) { return a.id < b.id; });
    return out;
}

std::string fixed(double v, int digits = 2)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.*f", digits, v);
    return buf;
}

} // namespace

std::string ShortcutReport::summary() const
{
    if (!checked)
        return "not checked";
    std::string s = "centre " + fixed(blankFraction * 100, 0) + " % blanked: balanced accuracy " +
                    fixed(balancedAccuracy) + " on " + std::to_string(evalSamples) + " " + evaluatedSplit +
                    " images (chance " + fixed(chance) + ")";
    if (flagged)
        s += ": the labels can be read from the borders alone (markers, burnt-in text, the source of the "
             "images, or anatomy that reaches the borders); check where the heat maps fall";
    else
        s += ": the borders alone do not give the labels away";
    return s;
}

void ShortcutReport::recordIn(ml::ModelCard& card) const
{
    card.metrics["shortcut_balanced_accuracy"] = balancedAccuracy;
    card.metrics["shortcut_chance"] = chance;
    card.metrics["shortcut_flagged"] = flagged ? 1.0 : 0.0;
}

Result<ShortcutReport> checkShortcut(const data::Dataset& dataset, const std::vector<std::string>& classNames,
                                     const ShortcutOptions& options, ml::TrainingControl* control)
{
    using R = Result<ShortcutReport>;
    if (classNames.size() < 2)
        return R::failure("the shortcut check needs at least two classes");
    if (!(options.blankFraction > 0 && options.blankFraction < 1))
        return R::failure("the blanked share of the image must lie between 0 and 1");
    QElapsedTimer clock;
    clock.start();
    std::vector<data::Sample> train = pick(dataset, data::Split::Train, options.maxTrainPerClass, options.seed);
    data::Split evalSplit = data::Split::Val;
    std::vector<data::Sample> eval = pick(dataset, evalSplit, options.maxValPerClass, options.seed + 1);
    if (eval.empty()) {
        evalSplit = data::Split::Test;
        eval = pick(dataset, evalSplit, options.maxValPerClass, options.seed + 1);
    }
    if (train.empty())
        return R::failure("the shortcut check needs training images");
    if (eval.empty())
        return R::failure("the shortcut check needs a validation or test split to measure on");

    QTemporaryDir runDir;
    if (!runDir.isValid())
        return R::failure("the shortcut check cannot create a temporary folder");
    ml::TrainConfig config;
    config.architecture = options.architecture;
    config.task = "shortcut-probe";
    config.classNames = classNames;
    config.preprocess = defaultPreprocess(options.channels, options.size);
    config.optimizer = "adamw";
    config.learningRate = 0.002;
    config.weightDecay = 0.0005;
    config.epochs = std::max(1, options.epochs);
    config.schedule = "cosine";
    config.earlyStopPatience = 0;
    config.device = options.device;
    config.threads = options.threads;
    config.seed = options.seed;
    config.runDir = runDir.path().toStdString();
    if (const std::string bad = config.validate(); !bad.empty())
        return R::failure("shortcut check: " + bad);

    data::LoaderOptions lo;
    lo.batchSize = 32;
    lo.balanced = true; // every class equally often, so the probe cannot win by the majority
    lo.blankCentre = options.blankFraction;
    lo.threads = options.loaderThreads;
    lo.seed = options.seed;
    lo.cacheMiB = 512;
    data::AugmentOptions::fromPreset("light", lo.augment);
    data::LoaderOptions eo = lo;
    eo.balanced = false;
    eo.shuffle = false;
    eo.augment = data::AugmentOptions{};
    data::ImageBatchSource trainSource(train, config.preprocess, lo);
    data::ImageBatchSource evalSource(eval, config.preprocess, eo);

    auto trained = ml::Trainer::run(config, trainSource, nullptr, nullptr, control, false);
    if (!trained)
        return R::failure("shortcut check: " + trained.error());
    ShortcutReport report;
    if (trained->cancelled || trained->bestBundle.empty())
        return report; // stopped: not checked
    auto probe = ml::loadModel(trained->bestBundle);
    if (!probe)
        return R::failure("shortcut check: " + probe.error());
    auto out = ml::evaluateModel(probe->model, evalSource, options.device, options.threads);
    if (!out)
        return R::failure("shortcut check: " + out.error());
    if (out->labels.empty())
        return R::failure("shortcut check: no held-out image could be read");
    const ml::ClassificationReport rep = ml::computeReport(out->labels, out->probabilities, classNames, false);

    report.checked = true;
    report.classNames = classNames;
    report.trainSamples = trainSource.sampleCount();
    report.evalSamples = rep.samples;
    report.evaluatedSplit = data::toString(evalSplit);
    report.blankFraction = options.blankFraction;
    report.balancedAccuracy = rep.balancedAccuracy;
    report.accuracy = rep.accuracy;
    report.macroAuc = rep.macroAuc;
    int present = 0;
    for (int64_t n : rep.trueCounts)
        present += n > 0 ? 1 : 0;
    report.chance = 1.0 / std::max(1, present);
    for (const auto& c : rep.perClass)
        report.recall.push_back(c.recall);
    report.margin = options.margin;
    report.flagged = std::isfinite(rep.balancedAccuracy) && rep.balancedAccuracy > report.chance + options.margin;
    report.seconds = clock.elapsed() / 1000.0;
    return report;
}

} // namespace lightbox::jobs
