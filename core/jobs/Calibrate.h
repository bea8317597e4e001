#pragma once

#include <base/Result.h>
#include <data/Dataset.h>
#include <ml/Bundle.h>
#include <ml/Metrics.h>
#include <ml/Trust.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lightbox::jobs {

/// How `calibrateBundle` fits a model's trust figures.
struct CalibrateOptions {
    /// Out-of-distribution score in use: "auto" (Mahalanobis where the network gives
    /// penultimate features, else energy), "mahalanobis" or "energy". Both are calibrated.
    std::string method = "auto";
    /// How the Mahalanobis blocks' scores combine: "sum", "excess", "max" or "last" (the
    /// penultimate layer alone); see ml::MahalanobisModel::score.
    std::string combine = "sum";
    double percentile = 97.5; ///< val percentile of the threshold: about 2.5 % of val is flagged
    double shrinkage = -1.0;  ///< covariance shrinkage towards a scaled identity; < 0: Ledoit-Wolf
    bool fitTemperature = true;
    /// Graded tasks: tune cut points on the expected grade for the QWK on val, and keep them
    /// when they beat the top class there (the card's val figures then describe them).
    bool cutPoints = false;
    /// Evaluate the final model on the test split and record its figures in the card (a
    /// report only: nothing is chosen on test).
    bool recordTest = false;
    std::string device = "auto";
    int threads = 0;
    int batchSize = 32;
};

/// A model's trust figures fitted without re-training: the Gaussians of its penultimate
/// features over the train split, the temperature and the detector's thresholds on val.
struct CalibrateOutcome {
    ml::Model model;                ///< the network, as loaded
    ml::ModelCard card;             ///< the bundle's card with temperature, ood and ECE metrics set
    ml::MahalanobisModel gaussians; ///< invalid for a TorchScript model (energy only)
    int64_t trainImages = 0;
    int64_t valImages = 0;
    double temperature = 1.0;
    ml::CalibrationReport before; ///< val, temperature 1
    ml::CalibrationReport after;  ///< val, fitted temperature
    double valQwkArgmax = 0.0;    ///< graded tasks: val QWK of the top class
    double valQwkCutPoints = 0.0; ///< and of the tuned cut points (when asked for)
    bool cutPointsKept = false;
    ml::ClassificationReport test; ///< with recordTest
    double valFlaggedMahalanobis = 0.0;
    double valFlaggedEnergy = 0.0;
    std::vector<std::string> skipped; ///< unreadable samples
    double seconds = 0.0;
};

/// Runs the bundle over the train and val splits of `dataset` (splits already assigned, the
/// model's own: see readSplits) without augmentation and fits the figures above. Synchronous,
/// never throws; fails when a split is empty or the classes do not match the card.
Result<CalibrateOutcome> calibrateBundle(const std::string& modelPath, const data::Dataset& dataset,
                                         const CalibrateOptions& options = {});

/// Writes the outcome's network with its card and Gaussians to `outPath` (may be the bundle it
/// came from; written atomically).
Result<bool> writeCalibratedBundle(const CalibrateOutcome& outcome, const std::string& outPath);

} // namespace lightbox::jobs
