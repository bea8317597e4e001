#include "Calibrate.h"

#include "TrainingWorker.h"

#include <ml/Trainer.h>

#include <chrono>
#include <cmath>
#include <sstream>

namespace lightbox::jobs {

namespace {

Result<SplitOutput> runSplit(const ml::LoadedModel& model, const data::Dataset& dataset, data::Split split,
                             const CalibrateOptions& o, bool features)
{
    return runOnSplit(model, dataset, split, o.device, o.threads, o.batchSize, false, features);
}

} // namespace

Result<CalibrateOutcome> calibrateBundle(const std::string& modelPath, const data::Dataset& dataset,
                                         const CalibrateOptions& o)
{
    using R = Result<CalibrateOutcome>;
    const auto start = std::chrono::steady_clock::now();
    if (o.method != "auto" && o.method != "mahalanobis" && o.method != "energy")
        return R::failure("unknown detector '" + o.method + "' (auto, mahalanobis or energy)");
    if (o.combine != "max" && o.combine != "sum" && o.combine != "excess" && o.combine != "last")
        return R::failure("unknown combination '" + o.combine + "' (sum, excess, max or last)");
    if (!(o.percentile > 50.0 && o.percentile < 100.0))
        return R::failure("the threshold percentile must lie between 50 and 100");
    auto loaded = ml::loadModel(modelPath);
    if (!loaded)
        return R::failure(loaded.error());
    const int classes = loaded->card.numClasses();
    if (classes != static_cast<int>(dataset.classNames.size()))
        return R::failure("the model has " + std::to_string(classes) + " classes, the data set " +
                          std::to_string(dataset.classNames.size()));
    const bool hasFeatures = loaded->model.impl() && !loaded->model.isTorchScript();
    if (o.method == "mahalanobis" && !hasFeatures)
        return R::failure("a TorchScript model gives no penultimate features: use --method energy");

    auto train = runSplit(loaded.value(), dataset, data::Split::Train, o, hasFeatures);
    if (!train)
        return R::failure(train.error());
    auto val = runSplit(loaded.value(), dataset, data::Split::Val, o, hasFeatures);
    if (!val)
        return R::failure(val.error());

    CalibrateOutcome r;
    r.model = loaded->model;
    r.card = loaded->card;
    r.trainImages = static_cast<int64_t>(train->out.labels.size());
    r.valImages = static_cast<int64_t>(val->out.labels.size());
    r.skipped = train->skipped;
    r.skipped.insert(r.skipped.end(), val->skipped.begin(), val->skipped.end());

    // Temperature on val by NLL.
    const auto& vl = val->out.logits;
    const auto& vy = val->out.labels;
    r.temperature = o.fitTemperature ? ml::fitTemperature(vl, vy) : 1.0;
    std::vector<std::vector<float>> p1, pT;
    for (const auto& l : vl) {
        p1.push_back(ml::softmax(l, 1.0));
        pT.push_back(ml::softmax(l, r.temperature));
    }
    r.before = ml::calibrationReport(vy, p1);
    r.after = ml::calibrationReport(vy, pT);

    // Detector: Gaussians on train features, thresholds on val scores.
    ml::OodCard ood;
    ood.thresholdPercentile = o.percentile;
    ood.combine = o.combine;
    std::vector<double> energy;
    for (const auto& l : vl)
        energy.push_back(ml::energyScore(l));
    ood.energy = ml::OodThreshold::fromValScores(energy, o.percentile);
    if (hasFeatures) {
        auto g = ml::fitMahalanobis(train->out.features, train->out.labels, classes, loaded->model.featureBlocks(),
                                    o.shrinkage);
        if (!g)
            return R::failure(g.error());
        r.gaussians = g.value();
        r.gaussians.standardise(val->out.features);
        std::vector<double> maha;
        for (const auto& f : val->out.features)
            maha.push_back(r.gaussians.score(f, o.combine));
        ood.mahalanobis = ml::OodThreshold::fromValScores(maha, o.percentile);
    }
    ood.method = o.method == "auto" ? (hasFeatures ? "mahalanobis" : "energy") : o.method;
    std::ostringstream on;
    on << "train " << r.trainImages << " / val " << r.valImages << " images of " << dataset.root;
    ood.fittedOn = on.str();
    if (!ood.valid())
        return R::failure("the detector could not be calibrated (no finite score on val)");
    r.valFlaggedMahalanobis = ood.mahalanobis.valFlagged;
    r.valFlaggedEnergy = ood.energy.valFlagged;

    r.card.temperature = r.temperature;
    r.card.ood = ood;

    // Ordinal decoding: cut points on the expected grade, kept only when they win on val.
    const auto& names = r.card.classNames;
    const bool ordinal = r.card.ordinal && classes > 2;
    r.card.cutPoints.clear();
    const ml::ClassificationReport argmax = ml::computeReport(vy, pT, names, r.card.ordinal);
    ml::ClassificationReport chosen = argmax;
    r.valQwkArgmax = argmax.quadraticKappa;
    if (ordinal && o.cutPoints) {
        std::vector<double> expected;
        for (const auto& p : pT)
            expected.push_back(ml::expectedGrade(p));
        const auto cuts = ml::fitCutPoints(expected, vy, classes);
        const ml::ClassificationReport decoded = ml::computeReport(vy, pT, names, true, cuts);
        r.valQwkCutPoints = decoded.quadraticKappa;
        if (decoded.quadraticKappa > argmax.quadraticKappa) {
            r.card.cutPoints = cuts;
            r.cutPointsKept = true;
            chosen = decoded;
        }
    }
    // The card's val figures describe the model as it now decides (an ensemble's card has none
    // of its own until here).
    if (r.cutPointsKept) {
        r.card.metrics["val_accuracy_argmax"] = argmax.accuracy;
        r.card.metrics["val_qwk_argmax"] = argmax.quadraticKappa;
    }
    recordMetrics(r.card, "val_", chosen);
    if (o.recordTest) {
        auto test = runSplit(loaded.value(), dataset, data::Split::Test, o, false);
        if (!test)
            return R::failure("test split: " + test.error());
        std::vector<std::vector<float>> probs;
        for (const auto& l : test->out.logits)
            probs.push_back(ml::softmax(l, r.temperature));
        r.test = ml::computeReport(test->out.labels, probs, names, r.card.ordinal, r.card.cutPoints);
        recordMetrics(r.card, "test_", r.test);
        r.card.metrics["test_ece"] = r.test.calibration.ece;
    }
    r.card.metrics["val_ece"] = r.after.ece;
    r.card.metrics["val_ece_uncalibrated"] = r.before.ece;
    r.card.metrics["val_nll"] = r.after.nll;
    r.card.metrics["val_nll_uncalibrated"] = r.before.nll;
    r.card.metrics["val_ood_flagged"] = ood.method == "energy" ? ood.energy.valFlagged : ood.mahalanobis.valFlagged;
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return r;
}

Result<bool> writeCalibratedBundle(const CalibrateOutcome& outcome, const std::string& outPath)
{
    if (!outcome.model.valid())
        return Result<bool>::failure("no calibrated model to write");
    if (outcome.model.isTorchScript())
        return Result<bool>::failure("a TorchScript model cannot be rewritten as a bundle; its card.json is Python's");
    return ml::saveBundle(outcome.model, outcome.card, outPath,
                          outcome.gaussians.valid() ? &outcome.gaussians : nullptr);
}

} // namespace lightbox::jobs
