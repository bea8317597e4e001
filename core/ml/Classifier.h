#pragma once

#include "Bundle.h"
#include "MlResult.h"
#include "Preprocess.h"
#include "Trust.h"

#include <memory>
#include <string>
#include <vector>

namespace lightbox::ml {

/// Which class-activation map to compute with a prediction.
enum class CamMethod {
    None,
    GradCam,         ///< Selvaraju et al. 2017: channel weights = mean gradient
    GradCamPlusPlus, ///< Chattopadhay et al. 2018: weights from positive gradients with pixel-wise alphas
};

const char* toString(CamMethod method);

/// How a classifier runs.
struct ClassifierOptions {
    std::string device = "auto"; ///< "auto" (first GPU, else CPU), "cpu", "cuda" or "cuda:N"
    /// Reduced precision: autocast to float16 on a GPU, to bfloat16 on a CPU that computes it in
    /// hardware (cpuHasFastBFloat16()); ignored elsewhere. Probabilities differ slightly.
    bool halfPrecision = false;
    int threads = 0; ///< CPU threads: 0 = all cores, < 0 = leave LibTorch's setting
    /// Run a few passes on a blank image at load (with and without a map), so the first real
    /// prediction is not slowed by TorchScript's profiling runs and one-time allocations.
    bool warmUp = true;
    /// Divide the logits by the card's temperature (fitted on val) before the softmax.
    bool calibrated = true;
};

/// Test-time augmentation: the image is also classified mirrored and shifted, as the model saw
/// its training images, and the softmax outputs are averaged; each view's heat map is mapped
/// back (the flip undone, the shift taken back) before the maps are averaged. Use only the
/// transforms the model was trained with (see jobs::ttaFor).
struct TtaOptions {
    bool horizontalFlip = false;
    bool verticalFlip = false;
    double shift = 0.0; ///< fraction of the width and height: views shifted left, right, up and down by it
    bool enabled() const { return horizontalFlip || verticalFlip || shift > 0.0; }
    int views() const { return 1 + (horizontalFlip ? 1 : 0) + (verticalFlip ? 1 : 0) + (shift > 0.0 ? 4 : 0); }
};

/// What to compute for one prediction.
struct PredictOptions {
    CamMethod cam = CamMethod::None;
    int targetClass = -1; ///< class the map explains; -1 = the top class
    std::string layer;    ///< block to take the map at (Model::layerNames()); empty = last conv block
    TtaOptions tta;       ///< test-time augmentation (off by default)
};

/// A heat map in 0..1 (row-major, height x width).
struct CamMap {
    int width = 0;
    int height = 0;
    std::vector<float> values;
    bool empty() const { return values.empty(); }
};

/// One classification result.
struct Prediction {
    std::vector<float> probabilities; ///< softmax, one per class
    int topClass = -1;
    float topProbability = 0.f;
    std::string topClassName;
    double expectedGrade = -1.0; ///< sum(p_i * i) for ordinal models, else -1
    /// The model's answer: the grade of the expected grade under the card's cut points
    /// (graded tasks that have them), else topClass.
    int grade = -1;
    std::vector<float> logits;   ///< raw network output, before the temperature
    std::vector<float> features; ///< the detector's features (pooled stage outputs; empty for TorchScript)
    /// An ensemble's members' softmax outputs (temperature 1), one per member; empty for one network.
    std::vector<std::vector<float>> memberProbabilities;
    double memberSpread = 0.0; ///< SD of the members' probabilities of the top class (an uncertainty cue)
    int membersAgreeing = 0;   ///< members whose own top class is the ensemble's
    double temperature = 1.0;  ///< the card's temperature, applied to the probabilities (1 = none)
    /// Out-of-distribution verdict: `available` only when the model carries a calibrated
    /// detector; when `flagged`, the image is unlike the images the model learned from and the
    /// probabilities must not be trusted.
    OodScore ood;
    double latencyMs = 0.0;    ///< forward pass (and map) time, every TTA view included
    int views = 1;             ///< images averaged (test-time augmentation: more than one)
    double singleViewMs = 0.0; ///< the plain view's time, for the extra cost of TTA
    std::string device;        ///< "cpu", "cuda:0", with " (bfloat16)" or " (float16)" in reduced precision

    int camClass = -1;    ///< class the map explains (-1: no map)
    std::string camLayer; ///< block the map was taken at
    CamMap cam;           ///< at the block's resolution
    CamMap camUpsampled;  ///< bilinearly resized to the network input size
};

/// Runs a loaded model on preprocessed images and explains the result with Grad-CAM or
/// Grad-CAM++. Synchronous: call it from a worker thread, one predict() at a time per
/// instance (copies share the network). It does not crop, window or resize raw images
/// itself beyond preprocess(); the caller hands it the region to classify.
class Classifier {
public:
    Classifier() = default;

    /// Loads a bundle or TorchScript file (see loadModel()) and moves it to the chosen device.
    static Result<Classifier> load(const std::string& path, const ClassifierOptions& options = {});
    /// Wraps an already loaded model.
    static Result<Classifier> create(LoadedModel model, const ClassifierOptions& options = {});

    bool valid() const { return m_state != nullptr; }
    const ModelCard& card() const;
    const Model& model() const;
    /// The out-of-distribution detector's Gaussians (invalid when the bundle has none).
    const MahalanobisModel& gaussians() const;
    /// The device in use, e.g. "cpu" or "cuda:0".
    std::string device() const;

    /// Classifies one image already brought to card().preprocess (size and channels).
    Result<Prediction> predict(const InputImage& input, const PredictOptions& options = {}) const;
    /// Preprocesses raw pixels with the card's spec, then predicts.
    Result<Prediction> predictRaw(const RawImage& raw, const PredictOptions& options = {}) const;

private:
    /// One view, no augmentation.
    Result<Prediction> predictView(const InputImage& input, const PredictOptions& options) const;
    struct State;
    std::shared_ptr<State> m_state;
};

} // namespace lightbox::ml
