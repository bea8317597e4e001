#include "Commands.h"
#include "Shared.h"

#include <data/TaskPreset.h>
#include <jobs/Calibrate.h>
#include <jobs/TrainingWorker.h>
#include <ml/Bundle.h>

#include <cstdio>

namespace lightbox::cli {

int runCalibrate(const QStringList& argv)
{
    CommandLine cl("calibrate", QString(),
                   "Fits, without re-training, an out-of-distribution detector on the network's features of the train "
                   "split (class Gaussians with a shared covariance over blocks of the input and of every stage, the "
                   "blocks' scores combined; the energy score is calibrated too), its threshold at the P-th percentile "
                   "of val and a temperature on val; writes the bundle to OUT (default: over M).");
    cl.option("model", "M", "Model bundle.", true);
    cl.option("data", "DIR", "The data set the model was trained on.", true);
    cl.option("out", "OUT", "Where to write the calibrated bundle (default: over M).");
    cl.option("method", "M", "auto (default), mahalanobis or energy.");
    cl.option("combine", "C", "How the blocks' scores are combined: sum, excess, max or last.");
    cl.option("percentile", "P", "Threshold at this val percentile (50 to 100; default 97.5).");
    cl.option("splits", "CSV|DIR", "The splits.csv to use (or the run folder holding it).");
    cl.option("seed", "N", "Seed of the 8:1:1 carve when the data set has no splits (default 42).");
    cl.option("preset", "P", "Task preset (default: the model card's task).");
    addDeviceOption(cl);
    cl.option("threads", "N", "LibTorch CPU threads (0 to 1024; 0 = all cores).");
    cl.option("batch", "N", "Batch size (1 to 65536).");
    cl.flag("cut-points", "Graded tasks get cut points on the expected grade tuned for QWK on val, kept when they "
                          "beat the top class there.");
    cl.flag("record-test", "Evaluate the result on test and record it in the card.");
    if (!cl.parse(argv, 0, 0))
        return cl.exitCode();
    jobs::CalibrateOptions o;
    int seed = 42;
    QString method = QString::fromStdString(o.method), combine = QString::fromStdString(o.combine);
    if (!cl.integer("seed", 0, CommandLine::kIntMax, seed) || !cl.integer("threads", 0, 1024, o.threads) ||
        !cl.integer("batch", 1, 65536, o.batchSize) || !cl.real("percentile", 50.0, 100.0, o.percentile) ||
        !cl.choice("method", {"auto", "mahalanobis", "energy"}, method) ||
        !cl.choice("combine", {"sum", "excess", "max", "last"}, combine))
        return cl.exitCode();
    const std::string modelPath = cl.value("model").toStdString();
    auto card = ml::readModelCard(modelPath);
    if (!card)
        return fail(cl.value("model"), card.error());
    const data::TaskPreset* preset =
        data::findTaskPreset(cl.has("preset") ? cl.value("preset").toStdString() : card->task);
    if (cl.has("preset") && !preset)
        return fail("calibrate", "unknown preset '" + cl.value("preset").toStdString() + "'");
    auto dataset =
        data::loadDataset(cl.value("data").toStdString(), jobs::datasetOptionsForModel(preset, card.value()));
    if (!dataset)
        return fail(cl.value("data"), dataset.error());
    o.method = method.toStdString();
    o.combine = combine.toStdString();
    o.cutPoints = cl.has("cut-points");
    o.recordTest = cl.has("record-test");
    if (cl.has("device"))
        o.device = cl.value("device").toStdString();
    auto splitSource = applyModelSplits(cl, dataset.value(), seed);
    if (!splitSource)
        return fail("calibrate", splitSource.error());
    std::printf("calibrating %s on %s (%s)\n", modelPath.c_str(), qPrintable(cl.value("data")), splitSource->c_str());
    std::fflush(stdout);
    auto r = jobs::calibrateBundle(modelPath, dataset.value(), o);
    if (!r)
        return fail("calibrate", r.error());
    const std::string out = cl.has("out") ? cl.value("out").toStdString() : modelPath;
    if (auto w = jobs::writeCalibratedBundle(r.value(), out); !w)
        return fail("calibrate", w.error());
    std::printf("features of %lld train and %lld val images, %.1f s\n", static_cast<long long>(r->trainImages),
                static_cast<long long>(r->valImages), r->seconds);
    std::printf("temperature %.3f: val ECE %.4f -> %.4f, NLL %.4f -> %.4f\n", r->temperature, r->before.ece,
                r->after.ece, r->before.nll, r->after.nll);
    const ml::OodCard& ood = r->card.ood;
    if (ood.mahalanobis.valid())
        std::printf("mahalanobis: threshold %.4g at the %.1fth val percentile (%.1f %% of val flagged)\n",
                    ood.mahalanobis.threshold, ood.thresholdPercentile, 100.0 * ood.mahalanobis.valFlagged);
    std::printf("energy: threshold %.4g at the %.1fth val percentile (%.1f %% of val flagged)\n", ood.energy.threshold,
                ood.thresholdPercentile, 100.0 * ood.energy.valFlagged);
    if (r->card.ordinal)
        std::printf("val QWK: top class %.4f%s\n", r->valQwkArgmax,
                    o.cutPoints ? QString(", cut points %1 (%2)")
                                      .arg(r->valQwkCutPoints, 0, 'f', 4)
                                      .arg(r->cutPointsKept ? "kept" : "not kept: the top class wins on val")
                                      .toUtf8()
                                      .constData()
                                : "");
    if (o.recordTest)
        std::printf("test (recorded in the card): accuracy %.4f, QWK %.4f, ECE %.4f on %lld images\n", r->test.accuracy,
                    r->test.quadraticKappa, r->test.calibration.ece, static_cast<long long>(r->test.samples));
    std::printf("detector in use: %s (%s); wrote %s\n", ood.method.c_str(), ood.combine.c_str(), out.c_str());
    if (!r->skipped.empty())
        std::printf("%zu unreadable sample(s) skipped, e.g. %s\n", r->skipped.size(), r->skipped[0].c_str());
    return 0;
}

} // namespace lightbox::cli
