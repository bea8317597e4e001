#pragma once

#include "Dataset.h"

#include <ml/BatchSource.h>
#include <ml/Preprocess.h>

#include <opencv2/core.hpp>

#include <memory>
#include <random>
#include <string>
#include <vector>

namespace lightbox::data {

/// Random geometric and photometric changes applied to training images on loader threads.
/// Ranges are symmetric: rotation in [-rotationDeg, rotationDeg], etc.
struct AugmentOptions {
    double rotationDeg = 0.0;
    double shift = 0.0; ///< fraction of the size
    double shearDeg = 0.0;
    double zoom = 0.0; ///< scale in [1 - zoom, 1 + zoom]
    bool horizontalFlip = false;
    bool verticalFlip = false; ///< only where up and down carry no meaning (dermoscopy)
    double brightness = 0.0;   ///< additive, fraction of full scale
    double contrast = 0.0;     ///< multiplicative in [1 - c, 1 + c]
    /// Never move image content out of the frame: rotation and shear are combined with the
    /// zoom-out that keeps the whole rotated image inside, zoom-in is not applied and shifts
    /// are limited to the free margin. Set by the "medical-safe" preset.
    bool keepContent = false;

    bool enabled() const;
    /// "none", "light", "standard", "medical-safe" (no crop or zoom that could cut a lesion out:
    /// small rotation, flip, brightness and contrast only, borders replicated), "dermoscopy"
    /// (medical-safe plus vertical flips: a dermoscopic photograph has no up or down).
    static bool fromPreset(const std::string& name, AugmentOptions& out);
    static std::vector<std::string> presetNames();
};

/// Applies `options` to an 8-bit grey or RGB image (same size out).
cv::Mat augment(const cv::Mat& view8, const AugmentOptions& options, std::mt19937& rng);

/// Options of an ImageBatchSource.
struct LoaderOptions {
    int batchSize = 32;
    bool shuffle = true;
    bool balanced = false; ///< sample classes equally (with replacement) instead of shuffling
    AugmentOptions augment;
    int threads = 0;  ///< loader threads; 0 = max(1, cores - 1)
    int prefetch = 4; ///< batches ready ahead
    uint64_t seed = 42;
    bool dropLast = false;
    /// Cache decoded model views (8-bit, before augmentation) in memory up to this many MiB.
    int cacheMiB = 1024;
    /// Blank the centre of every image (after augmentation): this fraction of the width and of
    /// the height, centred, is set to black, so only borders, corners, markers and burnt-in
    /// text remain. The shortcut check trains on such views; 0 = off.
    double blankCentre = 0.0;
};

/// Sets the centred `fraction` of the width and of the height of an 8-bit image to 0 (in place).
void blankCentre(cv::Mat& view8, double fraction);

/// Reads the samples of one split: decodes each file (imaging::loadImage, then modelView, the
/// same rendering inference uses), augments, preprocesses to `spec` (ml::preprocess) and
/// batches, on loader threads that prefetch. A file that cannot be read is skipped and listed
/// once by skipped(); its batch comes out smaller, and a batch left empty is passed over.
///
/// Batches are built by index (each thread takes the next batch number), so the order of
/// samples, and their augmentation (seeded by seed, epoch and position), is the same for any
/// thread count. Decoded 8-bit views are cached up to LoaderOptions::cacheMiB, first come
/// first kept (no eviction), so later epochs skip decoding. startEpoch() may be called at any
/// time (it stops the current epoch's threads first) and clears an earlier cancel(). One
/// consumer thread calls startEpoch()/next(); cancel(), skipped() and preview() may be called
/// from any thread. shard() splits each global batch between data-parallel ranks; a sample's
/// augmentation is seeded by its position in the global order, so it is the same whichever
/// rank reads it. Does not resample images to a cache size: a view is kept as decoded.
class ImageBatchSource : public ml::BatchSource {
public:
    ImageBatchSource(std::vector<Sample> samples, ml::PreprocessSpec spec, LoaderOptions options);
    ~ImageBatchSource() override;

    void startEpoch(int epoch) override;
    bool next(ml::Batch& out) override;
    int64_t sampleCount() const override;
    int batchCount() const override;
    std::vector<std::string> skipped() const override;
    void cancel() override;
    bool shard(int rank, int count) override;

    /// One augmented 8-bit sample, for preview grids (index into the samples).
    Result<cv::Mat> preview(int index, uint64_t seed) const;

private:
    struct State;
    std::unique_ptr<State> m_state;
};

} // namespace lightbox::data
