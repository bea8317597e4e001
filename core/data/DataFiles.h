#pragma once

// Small file helpers shared by core/data's data-set, leakage and loader code. Internal to
// core/data (not installed, not used above it).

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace lightbox::data {

/// Natural order, case-insensitive: digit runs compare by value ("img2" < "img10").
bool naturalLess(const std::string& a, const std::string& b);

/// True for a .dcm/.dicom/.dic file, or one without a raster extension whose content is DICOM.
bool looksLikeDicom(const std::string& path);

/// PatientID (0010,0020) of a DICOM file, read from the header only (the pixel data is not
/// loaded); empty when the file has none or cannot be parsed.
std::string dicomPatientId(const std::string& path);

/// Width and height from the file header (PNG, JPEG, BMP, DICOM) without decoding pixels;
/// other formats are decoded. False when the size cannot be read.
bool imageSize(const std::string& path, int& width, int& height);

/// Runs `fn` on `count` threads (this one included) and waits for all.
template <typename F> void runOnThreads(int count, const F& fn)
{
    std::vector<std::thread> pool;
    for (int t = 1; t < count; ++t)
        pool.emplace_back(fn);
    fn();
    for (std::thread& t : pool)
        t.join();
}

/// Calls `fn(i)` for i in [0, n) on up to `threads` threads (<= 0: all cores).
template <typename F> void parallelFor(size_t n, int threads, const F& fn)
{
    if (n == 0)
        return;
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    const int count = int(std::min<size_t>(n, size_t(threads > 0 ? threads : cores)));
    std::atomic<size_t> next{0};
    runOnThreads(count, [&] {
        for (size_t i; (i = next.fetch_add(1)) < n;)
            fn(i);
    });
}

} // namespace lightbox::data
