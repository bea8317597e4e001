#pragma once

// How far to trust a prediction: an out-of-distribution detector on the network's penultimate
// features, temperature scaling and calibration error. Torch-free: the classifier feeds it
// features and logits, the evaluation and the `calibrate` command fit it, the card stores it.

#include "Json.h"
#include "MlResult.h"

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace lightbox::ml {

/// The out-of-distribution verdict on one image.
struct OodScore {
    bool available = false;                                       ///< the model carries a calibrated detector
    std::string method;                                           ///< "mahalanobis" or "energy"
    double score = std::numeric_limits<double>::quiet_NaN();      ///< higher = less like the training images
    double percentile = std::numeric_limits<double>::quiet_NaN(); ///< 0..100: share of val images scoring lower
    bool flagged = false;                                         ///< score above the threshold calibrated on val
    /// Both scores where they could be computed (for measurement; `score` is the chosen one).
    double mahalanobis = std::numeric_limits<double>::quiet_NaN();
    double energy = std::numeric_limits<double>::quiet_NaN();
    Json toJson() const; ///< {"score", "percentile", "flagged", "method"}
};

/// Class-conditional Gaussians with one shared covariance over one block of features (Lee et
/// al. 2018, without input perturbation). Its score is the smallest squared Mahalanobis
/// distance to a class mean, standardised by the score's mean and SD over val images.
struct MahalanobisBlock {
    int offset = 0; ///< first feature of the block in the whole vector
    int dim = 0;
    std::vector<std::vector<float>> means; ///< one per class with training images
    std::vector<double> precision;         ///< dim x dim, row-major: inverse of the shrunk shared covariance
    double valMean = 0.0, valSd = 1.0;     ///< of the raw score over val, for standardising
    double shrinkage = 0.0;                ///< covariance shrinkage used in the fit (not stored)

    bool valid() const;
    /// Smallest squared distance to a class mean of features[offset, offset + dim).
    double rawScore(const float* features) const;
};

/// The detector on the network's features: two blocks of the input (its channels' means and
/// SDs; an 8 x 8 thumbnail) and one per stage (its channel means, the last being the
/// penultimate layer, and their spatial SDs; see Model::featureBlocks()). The blocks'
/// standardised scores are combined by their sum ("sum", the default: it flagged the most
/// foreign images in the cross-task matrix), only those above their val mean ("excess"), their
/// maximum ("max"), or only the last block counts ("last", the classic penultimate-layer
/// detector). Stored as tensors inside the bundle (too large for the card).
struct MahalanobisModel {
    std::vector<MahalanobisBlock> blocks;

    bool valid() const;
    int totalDim() const; ///< offset + dim of the last block
    /// The standardised score of every block; empty for a vector of the wrong size.
    std::vector<double> blockScores(const std::vector<float>& features) const;
    /// The combined score ("sum", "excess", "max" or "last"); NaN for a vector of the wrong size.
    double score(const std::vector<float>& features, const std::string& combine = "sum") const;
    /// Sets each block's val mean and SD from val features.
    void standardise(const std::vector<std::vector<float>>& valFeatures);
};

/// Fits the Gaussians of each block (`blockDims` sizes, in order; empty = one block of all
/// features). `shrinkage` (0..1) blends each covariance with a scaled identity
/// (Σ' = (1-s) Σ + s·tr(Σ)/D·I) so that it stays invertible with few images per dimension;
/// negative = Ledoit and Wolf's estimate of the best intensity for each block.
/// Fails with fewer than two images, vectors of different sizes or no labelled class.
Result<MahalanobisModel> fitMahalanobis(const std::vector<std::vector<float>>& features,
                                        const std::vector<int64_t>& labels, int numClasses,
                                        const std::vector<int>& blockDims = {}, double shrinkage = -1.0);

/// The free energy of the logits, -T·logsumexp(logits/T) (Liu et al. 2020): higher = less like
/// the training images. Needs nothing but the logits, so every model (TorchScript too) has it.
double energyScore(const std::vector<float>& logits, double temperature = 1.0);
/// log(sum(exp(logit / temperature))), computed without overflow.
double logSumExp(const std::vector<float>& logits, double temperature);

/// One method's thresholds, calibrated on the val split. Stored in the card.
struct OodThreshold {
    std::vector<double> valScores; ///< sorted ascending (at most 2,000, evenly thinned)
    double threshold = std::numeric_limits<double>::infinity();
    double valFlagged = 0.0; ///< share of val images above the threshold

    bool valid() const { return !valScores.empty() && threshold < std::numeric_limits<double>::infinity(); }
    /// Share of val scores below `score`, as a percentile (0..100).
    double percentile(double score) const;
    /// Sets the scores and puts the threshold at `percentile` of them (e.g. 97.5).
    static OodThreshold fromValScores(std::vector<double> scores, double percentile);
};

/// What the card records about the detector: which method is in use and both calibrations.
struct OodCard {
    std::string method;          ///< "mahalanobis", "energy" or empty (no detector)
    std::string combine = "sum"; ///< how the Mahalanobis blocks combine (MahalanobisModel::score)
    double thresholdPercentile = 97.5;
    OodThreshold mahalanobis; ///< valid only when the bundle holds the Gaussians
    OodThreshold energy;
    std::string fittedOn; ///< e.g. "train 2566 / val 826 images of ../shared/data/knee-kl"
    bool valid() const { return !method.empty() && (method == "energy" ? energy.valid() : mahalanobis.valid()); }
    Json toJson() const;
    static Result<OodCard> fromJson(const Json& json);
};

/// The verdict from the card's calibration, the Gaussians (may be invalid: energy only) and
/// one image's penultimate features (may be empty) and logits.
OodScore scoreOod(const OodCard& card, const MahalanobisModel& gaussians, const std::vector<float>& features,
                  const std::vector<float>& logits);

// ---------------------------------------------------------------------------------------
// Calibration

/// Softmax of logits / temperature.
std::vector<float> softmax(const std::vector<float>& logits, double temperature = 1.0);

/// Mean negative log-likelihood of the labels under softmax(logits / temperature).
double negativeLogLikelihood(const std::vector<std::vector<float>>& logits, const std::vector<int64_t>& labels,
                             double temperature);

/// Temperature scaling (Guo et al. 2017): the T > 0 that minimises the NLL of the labels,
/// searched on log T in [1/20, 20]. Returns 1 when there is nothing to fit.
double fitTemperature(const std::vector<std::vector<float>>& logits, const std::vector<int64_t>& labels);

/// One bin of a reliability diagram.
struct ReliabilityBin {
    double lower = 0.0, upper = 0.0; ///< confidence range
    int64_t count = 0;
    double confidence = 0.0; ///< mean top-class probability in the bin
    double accuracy = 0.0;   ///< share of the bin's images whose top class is right
};

/// Expected calibration error over equal-width confidence bins (Naeini et al. 2015; Guo et
/// al. use 15), with the bins for a reliability diagram.
struct CalibrationReport {
    double ece = std::numeric_limits<double>::quiet_NaN(); ///< sum over bins of count/N * |accuracy - confidence|
    double nll =
        std::numeric_limits<double>::quiet_NaN(); ///< mean NLL of the true class (probabilities floored at 1e-12)
    std::vector<ReliabilityBin> bins;
    Json toJson() const;
};

CalibrationReport calibrationReport(const std::vector<int64_t>& labels,
                                    const std::vector<std::vector<float>>& probabilities, int bins = 15);

} // namespace lightbox::ml

namespace lightbox::ml {

// ---------------------------------------------------------------------------------------
// Ordinal decoding

/// The expected grade sum(p_i * i) of one probability vector.
double expectedGrade(const std::vector<float>& probabilities);

/// The grade of an expected grade under cut points c_0 < c_1 < ... (K - 1 of them for K
/// grades): the number of cut points at or below it.
int gradeFromCutPoints(double expected, const std::vector<double>& cutPoints);

/// Cut points on the expected grade that maximise the quadratic weighted kappa of the labels
/// (coordinate ascent from 0.5, 1.5, ...; each point searched between its neighbours in steps
/// of 0.01). Returns the initial points when there is nothing to fit.
std::vector<double> fitCutPoints(const std::vector<double>& expected, const std::vector<int64_t>& labels,
                                 int numClasses);

} // namespace lightbox::ml
