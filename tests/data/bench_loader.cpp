// Loader throughput: images per second through ImageBatchSource (decode, model view,
// augmentation, preprocessing to 224 x 224 x 3, batching) on the knee-kl train split.
// Prints wall-clock and per-CPU-second figures for the first (decoding) and second (cached)
// epoch. `--quick` reads a slice, for CI; `--data DIR` and `--threads N` override.
#include <data/Dataset.h>
#include <data/Loader.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <string>

using namespace lightbox;

int main(int argc, char** argv)
{
    std::string dir = LIGHTBOX_SHARED_DATA "/knee-kl/train";
    bool quick = false;
    int threads = 2;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--quick"))
            quick = true;
        else if (!std::strcmp(argv[i], "--data") && i + 1 < argc)
            dir = argv[++i];
        else if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = std::atoi(argv[++i]);
    }
    auto ds = data::loadDataset(dir);
    if (!ds) {
        std::printf("bench_loader: %s (skipped)\n", ds.error().c_str());
        return 0;
    }
    std::vector<data::Sample> samples;
    for (size_t i = 0; i < ds->samples.size(); i += quick ? 16 : 1)
        samples.push_back(ds->samples[i]);
    std::printf("bench_loader: %zu images from %s, batch 32, 224x224x3 float, %d loader thread(s)\n", samples.size(),
                dir.c_str(), threads);
    for (const char* preset : {"none", "standard"}) {
        data::LoaderOptions o;
        o.batchSize = 32;
        o.threads = threads;
        data::AugmentOptions::fromPreset(preset, o.augment);
        data::ImageBatchSource source(samples, ml::PreprocessSpec{}, o);
        for (int epoch = 0; epoch < 2; ++epoch) {
            const auto t0 = std::chrono::steady_clock::now();
            const std::clock_t c0 = std::clock();
            source.startEpoch(epoch);
            ml::Batch b;
            int64_t n = 0;
            double checksum = 0;
            while (source.next(b)) {
                n += b.n;
                checksum += b.pixels[b.pixels.size() / 2];
            }
            const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            const double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
            std::printf("  %-9s epoch %d (%s): %6.0f images/s wall, %6.0f images per CPU-second (%lld images, "
                        "checksum %.3f)\n",
                        preset, epoch, epoch == 0 ? "decode" : "cached", double(n) / wall, double(n) / cpu,
                        static_cast<long long>(n), checksum);
        }
    }
    return 0;
}
