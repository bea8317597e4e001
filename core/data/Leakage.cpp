#include "Leakage.h"

#include "DataFiles.h"
#include "Dataset.h"
#include "ModelInput.h"

#include <imaging/ImageLoader.h>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <atomic>
#include <bitset>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <unordered_map>

namespace lightbox::data {

cv::Mat leakageThumbnail(const cv::Mat& view8)
{
    if (view8.empty())
        return {};
    cv::Mat grey, small;
    if (view8.channels() == 3)
        cv::cvtColor(view8, grey, cv::COLOR_RGB2GRAY);
    else if (view8.channels() == 4)
        cv::cvtColor(view8, grey, cv::COLOR_RGBA2GRAY);
    else
        grey = view8;
    cv::resize(grey, small, cv::Size(32, 32), 0, 0, cv::INTER_AREA);
    return small;
}

uint64_t thumbnailHash(const cv::Mat& thumb)
{
    if (thumb.empty())
        return 0;
    cv::Mat f, freq;
    thumb.convertTo(f, CV_32F);
    cv::dct(f, freq);
    float coeffs[64];
    for (int y = 0; y < 8; ++y)
        for (int x = 0; x < 8; ++x)
            coeffs[y * 8 + x] = freq.at<float>(y, x);
    // Median of the 63 AC terms (the DC term only says how bright the image is).
    float ac[63];
    std::copy(coeffs + 1, coeffs + 64, ac);
    std::nth_element(ac, ac + 31, ac + 63);
    const float median = ac[31];
    uint64_t hash = 0;
    for (int i = 1; i < 64; ++i)
        if (coeffs[i] > median)
            hash |= uint64_t(1) << i;
    return hash;
}

uint64_t perceptualHash(const cv::Mat& view8)
{
    return thumbnailHash(leakageThumbnail(view8));
}

double thumbnailCorrelation(const cv::Mat& a, const cv::Mat& b)
{
    if (a.empty() || b.empty() || a.size() != b.size())
        return 0.0;
    cv::Mat fa, fb;
    a.convertTo(fa, CV_64F);
    b.convertTo(fb, CV_64F);
    fa -= cv::mean(fa);
    fb -= cv::mean(fb);
    const double na = cv::norm(fa), nb = cv::norm(fb);
    if (na < 1e-9 || nb < 1e-9) // flat images: alike when their brightness is
        return std::abs(cv::mean(a)[0] - cv::mean(b)[0]) < 8.0 ? 1.0 : 0.0;
    return fa.dot(fb) / (na * nb);
}

uint64_t pixelHash(const cv::Mat& view8)
{
    uint64_t h = 1469598103934665603ull;
    const auto mix = [&h](uint64_t v) {
        h ^= v;
        h *= 1099511628211ull;
    };
    mix(uint64_t(view8.cols));
    mix(uint64_t(view8.rows));
    mix(uint64_t(view8.type()));
    const size_t rowBytes = size_t(view8.cols) * view8.elemSize();
    for (int y = 0; y < view8.rows; ++y) {
        const uint8_t* p = view8.ptr<uint8_t>(y);
        size_t x = 0;
        for (; x + 8 <= rowBytes; x += 8) {
            uint64_t v;
            std::memcpy(&v, p + x, 8);
            mix(v);
        }
        for (; x < rowBytes; ++x)
            mix(p[x]);
    }
    return h;
}

int hammingDistance(uint64_t a, uint64_t b)
{
    return int(std::bitset<64>(a ^ b).count());
}

std::string LeakageReport::summary() const
{
    std::string s;
    if (clean())
        s = "No leakage found: no duplicate images and no patient in more than one split.";
    else
        s = "Leakage: " + std::to_string(exactDuplicates) + " identical image pair(s) and " +
            std::to_string(nearDuplicates) + " near-duplicate pair(s) across splits, " +
            std::to_string(patientsInSeveralSplits) + " patient(s) in more than one split.";
    if (!unreadable.empty())
        s += " " + std::to_string(unreadable.size()) + " file(s) could not be read.";
    return s;
}

namespace {

struct Hashes {
    uint64_t pixels = 0;
    uint64_t perceptual = 0;
    cv::Mat thumbnail; ///< 32 x 32 grey, to confirm hash matches
    bool ok = false;
};

constexpr size_t kMaxExamples = 20;

/// Up to kMaxExamples lines of one kind.
void addExample(std::vector<std::string>& lines, std::string line)
{
    if (lines.size() < kMaxExamples)
        lines.push_back(std::move(line));
}

/// The examples of every kind, taken in turn, so one kind cannot crowd out the others.
std::vector<std::string> interleave(const std::vector<std::vector<std::string>>& kinds)
{
    std::vector<std::string> out;
    for (size_t i = 0; out.size() < kMaxExamples; ++i) {
        bool any = false;
        for (const auto& k : kinds)
            if (i < k.size() && out.size() < kMaxExamples) {
                out.push_back(k[i]);
                any = true;
            }
        if (!any)
            break;
    }
    return out;
}

} // namespace

LeakageReport checkLeakage(const Dataset& dataset, int maxHamming, int threads)
{
    LeakageReport report;
    const std::vector<Sample>& samples = dataset.samples;
    const size_t n = samples.size();

    // Hash every assigned sample on `threads` threads (decode once, model view, two hashes).
    std::vector<size_t> todo;
    for (size_t i = 0; i < n; ++i)
        if (samples[i].split != Split::Unassigned)
            todo.push_back(i);
    std::vector<Hashes> hashes(n);
    std::vector<std::string> errors(n);
    int workers = threads > 0 ? threads : int(std::max(1u, std::thread::hardware_concurrency()));
    workers = std::max(1, std::min<int>(workers, int(todo.size())));
    std::atomic<size_t> next{0};
    const auto work = [&] {
        for (size_t k; (k = next.fetch_add(1)) < todo.size();) {
            const size_t i = todo[k];
            try {
                auto image = imaging::loadImage(samples[i].path);
                if (!image) {
                    errors[i] = image.error();
                    continue;
                }
                auto view = modelView(image.value());
                if (!view) {
                    errors[i] = view.error();
                    continue;
                }
                hashes[i].pixels = pixelHash(view.value());
                hashes[i].thumbnail = leakageThumbnail(view.value());
                hashes[i].perceptual = thumbnailHash(hashes[i].thumbnail);
                hashes[i].ok = true;
            } catch (const std::exception& e) {
                errors[i] = e.what();
            }
        }
    };
    runOnThreads(workers, work);

    std::vector<size_t> ok;
    for (size_t i : todo) {
        if (hashes[i].ok)
            ok.push_back(i);
        else
            report.unreadable.push_back(samples[i].id + ": " + errors[i]);
    }

    std::vector<std::string> exactLines, nearLines, patientLines;

    // Identical pixels: pairs within one hash group that lie in different splits.
    std::unordered_map<uint64_t, std::vector<size_t>> byPixels;
    for (size_t i : ok)
        byPixels[hashes[i].pixels].push_back(i);
    for (const auto& [hash, group] : byPixels)
        for (size_t a = 0; a < group.size(); ++a)
            for (size_t b = a + 1; b < group.size(); ++b)
                if (samples[group[a]].split != samples[group[b]].split) {
                    ++report.exactDuplicates;
                    addExample(exactLines, samples[group[a]].id + " <-> " + samples[group[b]].id +
                                               " (identical pixels, " + toString(samples[group[a]].split) + " and " +
                                               toString(samples[group[b]].split) + ")");
                }

    // Near duplicates: every cross-split pair within maxHamming that is not identical.
    // Pairs are compared split against split (train x val, train x test, val x test).
    std::vector<size_t> bySplit[3];
    for (size_t i : ok)
        bySplit[int(samples[i].split) - 1].push_back(i);
    // Each thread keeps its first matches by (row, column) so the examples do not depend on
    // thread timing.
    struct Match {
        size_t a, b;
        int distance;
        double correlation;
        bool operator<(const Match& o) const { return a != o.a ? a < o.a : b < o.b; }
    };
    std::mutex reportMutex;
    std::vector<Match> examples;
    for (int sa = 0; sa < 3; ++sa)
        for (int sb = sa + 1; sb < 3; ++sb) {
            const std::vector<size_t>& A = bySplit[sa];
            const std::vector<size_t>& B = bySplit[sb];
            if (A.empty() || B.empty())
                continue;
            std::atomic<size_t> nextRow{0};
            const auto compare = [&] {
                int64_t found = 0;
                std::vector<Match> mine;
                for (size_t r; (r = nextRow.fetch_add(1)) < A.size();) {
                    const Hashes& ha = hashes[A[r]];
                    for (size_t j : B) {
                        const Hashes& hb = hashes[j];
                        if (ha.pixels == hb.pixels)
                            continue;
                        const int d = hammingDistance(ha.perceptual, hb.perceptual);
                        if (d > maxHamming)
                            continue;
                        const double corr = thumbnailCorrelation(ha.thumbnail, hb.thumbnail);
                        if (corr < kNearDuplicateCorrelation)
                            continue;
                        ++found;
                        mine.push_back({A[r], j, d, corr});
                    }
                }
                std::lock_guard<std::mutex> lock(reportMutex);
                report.nearDuplicates += found;
                examples.insert(examples.end(), mine.begin(), mine.end());
            };
            runOnThreads(workers, compare);
        }
    std::sort(examples.begin(), examples.end());
    for (const Match& m : examples)
        addExample(nearLines, samples[m.a].id + " <-> " + samples[m.b].id + " (near duplicate, hash distance " +
                                  std::to_string(m.distance) + ", correlation " +
                                  std::to_string(int(m.correlation * 100 + 0.5)) + " %)");

    // Patients in more than one split.
    std::map<std::string, std::set<Split>> patientSplits;
    for (size_t i : todo)
        // Groups of identical files (loadDataset's "same-image:" ids) are counted as duplicates above.
        if (!samples[i].patientId.empty() && samples[i].patientId.rfind("same-image:", 0) != 0)
            patientSplits[samples[i].patientId].insert(samples[i].split);
    for (const auto& [patient, splits] : patientSplits) {
        if (splits.size() < 2)
            continue;
        ++report.patientsInSeveralSplits;
        std::string where;
        for (Split s : splits)
            where += (where.empty() ? "" : ", ") + std::string(toString(s));
        addExample(patientLines, "patient " + patient + " in " + where);
    }
    report.examples = interleave({exactLines, nearLines, patientLines});
    std::sort(report.unreadable.begin(), report.unreadable.end());
    return report;
}

} // namespace lightbox::data
