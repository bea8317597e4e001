#pragma once

// The small interface through which core/ml's trainer and evaluator read data. core/data
// implements it with loader threads (decode, augment, preprocess, batch); tests implement it
// in memory. Torch-free.

#include <cstdint>
#include <string>
#include <vector>

namespace lightbox::ml {

/// One batch of preprocessed images: planar float32, N x C x H x W, already resized and
/// normalised as the model's PreprocessSpec says.
struct Batch {
    int n = 0;
    int channels = 0;
    int height = 0;
    int width = 0;
    std::vector<float> pixels;    ///< n * channels * height * width values
    std::vector<int64_t> labels;  ///< n class indices in [0, class count)
    std::vector<std::string> ids; ///< n sample identifiers (relative paths), for reports; may be empty

    bool valid() const
    {
        return n > 0 && channels > 0 && height > 0 && width > 0 &&
               pixels.size() == static_cast<size_t>(n) * channels * height * width &&
               labels.size() == static_cast<size_t>(n) && (ids.empty() || ids.size() == labels.size());
    }
};

/// A sequence of batches, one epoch at a time. One consumer thread calls it; an
/// implementation may prefetch on its own threads.
class BatchSource {
public:
    virtual ~BatchSource() = default;

    /// Starts epoch `epoch` (0-based): reshuffles when the source shuffles (seeded with its
    /// seed and the epoch, so runs repeat) and starts prefetching.
    virtual void startEpoch(int epoch) = 0;
    /// The next batch of the current epoch; false when the epoch is over or after cancel().
    /// A sample that cannot be read is left out of its batch and reported by skipped().
    virtual bool next(Batch& out) = 0;
    /// Samples per epoch, and batches per epoch (for progress and time left).
    virtual int64_t sampleCount() const = 0;
    virtual int batchCount() const = 0;
    /// "id: reason" for every sample skipped so far because it could not be read.
    virtual std::vector<std::string> skipped() const { return {}; }
    /// Asks prefetching threads to stop; next() returns false soon after. Thread-safe.
    virtual void cancel() {}
    /// Data-parallel sampling: from the next startEpoch() on, read only shard `rank` of
    /// `count`. The epoch's order stays the one a single reader has; its batches become
    /// global batches of batch size x count samples, and this reader's batch k is the
    /// `rank`-th slice (batch size samples) of global batch k, so the ranks together read
    /// exactly what one reader with `count` times the batch size reads, step for step.
    /// sampleCount() is then this shard's, batchCount() the number of global batches; the
    /// last batch of a shard may be short or empty (next() passes over empty batches). False
    /// when the source cannot shard.
    virtual bool shard(int rank, int count)
    {
        (void)rank;
        return count == 1;
    }
};

} // namespace lightbox::ml
