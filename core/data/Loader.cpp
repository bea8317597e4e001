#include "Loader.h"

#include "ModelInput.h"

#include <imaging/ImageLoader.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <thread>
#include <unordered_map>

namespace lightbox::data {
namespace {

/// SplitMix64 step: a fully specified mixer, so orders and augmentations repeat everywhere.
uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

struct Rng {
    uint64_t state;
    uint64_t next() { return mix64(state++ * 0xD1342543DE82EF95ull + 0x632BE59BD9B4E019ull); }
    size_t below(size_t n) { return size_t(next() % n); }
};

} // namespace

struct ImageBatchSource::State {
    std::vector<Sample> samples;
    ml::PreprocessSpec spec;
    LoaderOptions options;
    std::string specError;
    int threadCount = 1;
    std::vector<std::vector<int>> byClass; ///< sample indices per label, for balanced sampling
    int shardRank = 0;                     ///< data-parallel shard read (shard())
    int shardCount = 1;

    // Decoded model views (shared, read-only once inserted) and what could not be read.
    mutable std::mutex cacheMutex;
    mutable std::unordered_map<int, cv::Mat> cache;
    mutable size_t cacheBytes = 0;
    mutable std::vector<char> unreadable;
    mutable std::vector<std::string> skipped;

    // The current epoch: batches are built by index, so their order never depends on threads.
    std::mutex mutex;
    std::condition_variable produced; ///< a batch became ready
    std::condition_variable consumed; ///< a batch was taken (room to prefetch)
    std::vector<int> order;           ///< sample index at each position of the epoch
    int epoch = 0;
    bool started = false;
    int batches = 0;
    int nextBuild = 0;
    int nextConsume = 0;
    std::map<int, ml::Batch> ready;
    std::vector<std::vector<float>> spare; ///< pixel buffers of consumed batches, for reuse
    bool stopping = false;
    std::atomic<bool> cancelled{false};
    std::vector<std::thread> workers;

    int64_t batchSize() const { return std::max(1, options.batchSize); }
    /// Samples of a global batch: one batch of every shard.
    int64_t globalBatch() const { return batchSize() * shardCount; }
    /// Samples all shards read per epoch.
    int64_t epochSamples() const
    {
        const int64_t n = int64_t(samples.size());
        return options.dropLast ? n / globalBatch() * globalBatch() : n;
    }
    /// Positions [first, last) of the epoch's order that batch `b` of this shard reads.
    std::pair<size_t, size_t> batchRange(int64_t b, size_t total) const
    {
        const size_t first = std::min(total, size_t(b * globalBatch() + shardRank * batchSize()));
        return {first, std::min(total, first + size_t(batchSize()))};
    }
    int window() const { return std::max({1, options.prefetch, threadCount}); }

    void stopWorkers()
    {
        {
            std::lock_guard<std::mutex> lock(mutex);
            stopping = true;
        }
        consumed.notify_all();
        produced.notify_all();
        for (std::thread& t : workers)
            t.join();
        workers.clear();
    }

    void planEpoch(int e)
    {
        const size_t n = samples.size();
        order.resize(n);
        Rng rng{options.seed + uint64_t(e)};
        bool anyClass = false;
        for (const auto& c : byClass)
            anyClass = anyClass || !c.empty();
        if (options.balanced && anyClass) {
            std::vector<const std::vector<int>*> classes;
            for (const auto& c : byClass)
                if (!c.empty())
                    classes.push_back(&c);
            for (size_t i = 0; i < n; ++i) {
                const std::vector<int>& c = *classes[rng.below(classes.size())];
                order[i] = c[rng.below(c.size())];
            }
        } else {
            for (size_t i = 0; i < n; ++i)
                order[i] = int(i);
            if (options.shuffle)
                for (size_t i = n; i > 1; --i)
                    std::swap(order[i - 1], order[rng.below(i)]);
        }
        order.resize(size_t(epochSamples()));
        batches = int((int64_t(order.size()) + globalBatch() - 1) / globalBatch());
        if (!specError.empty())
            batches = 0;
    }

    /// The 8-bit model view of sample `index` (cached), or an empty Mat when unreadable.
    cv::Mat view(int index, std::string* error = nullptr) const
    {
        {
            std::lock_guard<std::mutex> lock(cacheMutex);
            if (unreadable[size_t(index)])
                return {};
            if (auto it = cache.find(index); it != cache.end())
                return it->second;
        }
        const Sample& s = samples[size_t(index)];
        std::string reason;
        cv::Mat view;
        auto image = imaging::loadImage(s.path);
        if (!image) {
            reason = image.error();
        } else {
            auto v = modelView(image.value());
            if (!v)
                reason = v.error();
            else
                view = std::move(v.value());
        }
        if (view.empty()) {
            markUnreadable(index, reason);
            if (error)
                *error = reason;
            return {};
        }
        std::lock_guard<std::mutex> lock(cacheMutex);
        const size_t bytes = view.total() * view.elemSize();
        const size_t limit = size_t(std::max(0, options.cacheMiB)) << 20;
        if (cacheBytes + bytes <= limit && cache.emplace(index, view).second)
            cacheBytes += bytes;
        return view;
    }

    void markUnreadable(int index, const std::string& reason) const
    {
        std::lock_guard<std::mutex> lock(cacheMutex);
        if (!unreadable[size_t(index)]) {
            unreadable[size_t(index)] = 1;
            skipped.push_back(samples[size_t(index)].id + ": " + reason);
        }
    }

    /// load(), with anything a decoder or OpenCV throws turned into a skipped sample: one bad
    /// file never ends a loader thread.
    bool loadSafely(int position, int index, float* dst)
    {
        try {
            return load(position, index, dst);
        } catch (const std::exception& e) {
            markUnreadable(index, e.what());
        } catch (...) {
            markUnreadable(index, "unexpected error while reading");
        }
        return false;
    }

    /// Augments and preprocesses one sample into `dst` (C x H x W floats).
    bool load(int position, int index, float* dst)
    {
        cv::Mat v = view(index);
        if (v.empty())
            return false;
        if (options.augment.enabled()) {
            std::mt19937 rng(
                uint32_t(mix64(options.seed ^ mix64(uint64_t(epoch) * 0x10000000ull + uint64_t(position)))));
            v = augment(v, options.augment, rng);
        }
        if (options.blankCentre > 0) {
            if (!options.augment.enabled())
                v = v.clone(); // the cached view stays whole
            blankCentre(v, options.blankCentre);
        }
        auto input = ml::preprocess(toRawImage(v), spec);
        if (!input) {
            markUnreadable(index, input.error());
            return false;
        }
        std::copy(input->data.begin(), input->data.end(), dst);
        return true;
    }

    ml::Batch build(int b)
    {
        const auto [first, last] = batchRange(b, order.size());
        const size_t plane = size_t(spec.channels) * spec.height * spec.width;
        ml::Batch out;
        out.channels = spec.channels;
        out.height = spec.height;
        out.width = spec.width;
        {
            // A buffer the consumer has handed back: its pages are mapped already.
            std::lock_guard<std::mutex> lock(mutex);
            if (!spare.empty()) {
                out.pixels = std::move(spare.back());
                spare.pop_back();
            }
        }
        out.pixels.resize((last - first) * plane);
        for (size_t pos = first; pos < last && !cancelled.load(); ++pos) {
            const int index = order[pos];
            if (!loadSafely(int(pos), index, out.pixels.data() + size_t(out.n) * plane))
                continue;
            const Sample& s = samples[size_t(index)];
            out.labels.push_back(s.label);
            out.ids.push_back(s.id);
            ++out.n;
        }
        out.pixels.resize(size_t(out.n) * plane);
        return out;
    }

    void work()
    {
        std::unique_lock<std::mutex> lock(mutex);
        for (;;) {
            consumed.wait(lock, [&] {
                return stopping || cancelled.load() || nextBuild >= batches || nextBuild < nextConsume + window();
            });
            if (stopping || cancelled.load() || nextBuild >= batches)
                return;
            const int b = nextBuild++;
            lock.unlock();
            ml::Batch batch = build(b);
            lock.lock();
            ready.emplace(b, std::move(batch));
            produced.notify_all();
        }
    }

    void start(int e)
    {
        stopWorkers();
        std::lock_guard<std::mutex> lock(mutex);
        epoch = e;
        started = true;
        planEpoch(e);
        ready.clear();
        nextBuild = nextConsume = 0;
        stopping = false;
        cancelled = false;
        const int n = std::min(threadCount, std::max(1, batches));
        for (int t = 0; t < n && batches > 0; ++t)
            workers.emplace_back([this] { work(); });
    }
};

ImageBatchSource::ImageBatchSource(std::vector<Sample> samples, ml::PreprocessSpec spec, LoaderOptions options)
    : m_state(std::make_unique<State>())
{
    State& s = *m_state;
    s.samples = std::move(samples);
    s.spec = std::move(spec);
    s.options = std::move(options);
    s.specError = s.spec.validate();
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    s.threadCount = s.options.threads > 0 ? s.options.threads : std::max(1, cores - 1);
    s.unreadable.assign(s.samples.size(), 0);
    for (size_t i = 0; i < s.samples.size(); ++i) {
        const int label = s.samples[i].label;
        if (label < 0)
            continue;
        if (size_t(label) >= s.byClass.size())
            s.byClass.resize(size_t(label) + 1);
        s.byClass[size_t(label)].push_back(int(i));
    }
    if (!s.specError.empty())
        s.skipped.push_back("all samples: invalid preprocessing spec: " + s.specError);
}

ImageBatchSource::~ImageBatchSource()
{
    m_state->cancelled = true;
    m_state->stopWorkers();
}

void ImageBatchSource::startEpoch(int epoch)
{
    m_state->start(epoch);
}

bool ImageBatchSource::next(ml::Batch& out)
{
    State& s = *m_state;
    if (!s.started)
        s.start(0);
    std::unique_lock<std::mutex> lock(s.mutex);
    for (;;) {
        if (s.cancelled.load() || s.nextConsume >= s.batches)
            return false;
        s.produced.wait(lock, [&] { return s.cancelled.load() || s.ready.count(s.nextConsume) > 0; });
        if (s.cancelled.load())
            return false;
        auto it = s.ready.find(s.nextConsume);
        ml::Batch batch = std::move(it->second);
        s.ready.erase(it);
        ++s.nextConsume;
        s.consumed.notify_all();
        if (batch.n == 0)
            continue; // every sample of this batch was unreadable
        if (out.pixels.capacity() >= batch.pixels.size() && s.spare.size() < size_t(s.window()) + 1)
            s.spare.push_back(std::move(out.pixels)); // recycled by the loader threads
        out = std::move(batch);
        return true;
    }
}

int64_t ImageBatchSource::sampleCount() const
{
    const State& s = *m_state;
    if (!s.specError.empty())
        return 0;
    const int64_t n = s.epochSamples(), g = s.globalBatch();
    const auto [first, last] = s.batchRange(n / g, size_t(n));
    return n / g * s.batchSize() + int64_t(last - first);
}

int ImageBatchSource::batchCount() const
{
    const State& s = *m_state;
    return s.specError.empty() ? int((s.epochSamples() + s.globalBatch() - 1) / s.globalBatch()) : 0;
}

bool ImageBatchSource::shard(int rank, int count)
{
    if (count < 1 || rank < 0 || rank >= count)
        return false;
    m_state->stopWorkers();
    m_state->shardRank = rank;
    m_state->shardCount = count;
    m_state->started = false;
    return true;
}

std::vector<std::string> ImageBatchSource::skipped() const
{
    std::lock_guard<std::mutex> lock(m_state->cacheMutex);
    return m_state->skipped;
}

void ImageBatchSource::cancel()
{
    State& s = *m_state;
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        s.cancelled = true;
    }
    s.produced.notify_all();
    s.consumed.notify_all();
}

Result<cv::Mat> ImageBatchSource::preview(int index, uint64_t seed) const
{
    const State& s = *m_state;
    if (index < 0 || size_t(index) >= s.samples.size())
        return Result<cv::Mat>::failure("no sample " + std::to_string(index));
    const std::string& id = s.samples[size_t(index)].id;
    try {
        std::string error;
        cv::Mat v = s.view(index, &error);
        if (v.empty())
            return Result<cv::Mat>::failure(id + (error.empty() ? std::string(" cannot be read") : ": " + error));
        std::mt19937 rng(uint32_t(mix64(seed)));
        cv::Mat out = augment(v, s.options.augment, rng);
        if (out.data == v.data)
            out = out.clone();
        blankCentre(out, s.options.blankCentre);
        return out;
    } catch (const std::exception& e) {
        return Result<cv::Mat>::failure(id + ": " + e.what());
    }
}

} // namespace lightbox::data
