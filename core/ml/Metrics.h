#pragma once

// Classification metrics. Torch-free: used by the trainer, the CLI, the evaluation report
// in the GUI and the tests.

#include "Json.h"
#include "Trust.h"

#include <cstdint>
#include <string>
#include <vector>

namespace lightbox::ml {

struct ClassScores {
    double precision = 0.0; ///< 0 when nothing was predicted as this class
    double recall = 0.0;    ///< 0 when the class has no samples
    double f1 = 0.0;
    int64_t support = 0; ///< true samples of this class
};

/// One-vs-rest ROC curve of one class.
struct RocCurve {
    std::vector<double> fpr; ///< increasing, from 0 to 1
    std::vector<double> tpr;
    double auc = 0.0; ///< trapezoidal; NaN (and empty fpr/tpr) when the class has no positives or no negatives
};

/// Everything the evaluation report shows. Samples whose label is out of range or whose
/// probability vector does not have one value per class are left out (and not counted).
/// With no usable sample, accuracy, macroF1, balancedAccuracy, macroAuc, quadraticKappa and
/// meanAbsoluteError are NaN (written as null in JSON). Macro averages follow scikit-learn's
/// default: macroF1 over the classes present in the truth or the predictions, balancedAccuracy
/// over the classes present in the truth.
struct ClassificationReport {
    int numClasses = 0;
    std::vector<std::string> classNames;
    int64_t samples = 0;
    double accuracy = 0.0;
    double macroF1 = 0.0;
    double balancedAccuracy = 0.0;               ///< mean recall
    std::vector<ClassScores> perClass;           ///< one per class
    std::vector<std::vector<int64_t>> confusion; ///< [true][predicted]
    std::vector<RocCurve> roc;                   ///< one per class
    double macroAuc = 0.0;                       ///< mean of the defined AUCs; NaN when none
    bool ordinal = false;
    double quadraticKappa = 0.0;     ///< Cohen's kappa with quadratic weights (ordinal; also computed otherwise)
    double meanAbsoluteError = 0.0;  ///< |predicted - true| in class steps (ordinal)
    std::vector<int64_t> trueCounts; ///< per class
    std::vector<int64_t> predictedCounts;
    /// Expected calibration error (15 bins) and the reliability diagram of these probabilities.
    CalibrationReport calibration;
    /// Where the probabilities went through a temperature (the card's): its value and the
    /// calibration before it (empty bins otherwise).
    double temperature = 1.0;
    CalibrationReport uncalibrated;
    /// Cut points on the expected grade that decided the predictions (empty: argmax).
    std::vector<double> cutPoints;

    Json toJson() const;
    /// Per-class table: class,precision,recall,f1,support (header included).
    std::string perClassCsv() const;
    /// Confusion matrix with a header row of predicted classes.
    std::string confusionCsv() const;
};

/// Quadratic weighted kappa of two label vectors over `numClasses` classes (1 when both agree
/// everywhere; 0 for chance agreement; NaN when undefined, e.g. a single class everywhere).
double quadraticWeightedKappa(const std::vector<int64_t>& truth, const std::vector<int64_t>& predicted, int numClasses);

/// ROC curve and AUC for binary `positive` flags and scores (ties handled as one step, so a
/// tie between a positive and a negative counts one half). A NaN score ranks below all others.
RocCurve rocCurve(const std::vector<bool>& positive, const std::vector<double>& scores);

/// Full report from per-sample probabilities (argmax is the prediction; NaN never wins). With
/// `cutPoints` (graded tasks) the prediction is the grade of the expected grade under them.
ClassificationReport computeReport(const std::vector<int64_t>& truth,
                                   const std::vector<std::vector<float>>& probabilities,
                                   const std::vector<std::string>& classNames, bool ordinal,
                                   const std::vector<double>& cutPoints = {});

} // namespace lightbox::ml
