// Splits of a data set (seeded, stratified by class, grouped by patient) and its statistics.
#include "Dataset.h"

#include "DataFiles.h"

#include <QFileInfo>

#include <algorithm>
#include <map>
#include <set>

namespace lightbox::data {

// ---- splits -------------------------------------------------------------------------------

namespace {

/// SplitMix64: a small, fully specified generator, so splits repeat on every platform.
struct SplitMix {
    uint64_t state;
    uint64_t next()
    {
        uint64_t z = (state += 0x9E3779B97F4A7C15ull);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
        return z ^ (z >> 31);
    }
};

template <typename T> void shuffleSeeded(std::vector<T>& v, SplitMix& rng)
{
    for (size_t i = v.size(); i > 1; --i)
        std::swap(v[i - 1], v[size_t(rng.next() % i)]);
}

/// Distributes the samples `pool` (indices) over `targets` (split, fraction), stratified by
/// label and keeping each patient's samples together.
void distribute(Dataset& ds, const std::vector<size_t>& pool, const std::vector<std::pair<Split, double>>& targets,
                bool groupByPatient, uint64_t seed)
{
    if (pool.empty() || targets.empty())
        return;
    double total = 0;
    for (const auto& t : targets)
        total += std::max(0.0, t.second);
    if (!(total > 0))
        return;

    // Groups: one per patient (or per sample without a patient id).
    std::map<std::string, std::vector<size_t>> byPatient;
    std::vector<std::vector<size_t>> groups;
    for (size_t i : pool) {
        const Sample& s = ds.samples[i];
        if (groupByPatient && !s.patientId.empty())
            byPatient[s.patientId].push_back(i);
        else
            groups.push_back({i});
    }
    for (auto& [id, members] : byPatient)
        groups.push_back(std::move(members));

    // Stratum of a group: its most frequent label (lowest index on ties).
    const size_t nClasses = ds.classNames.size();
    std::vector<std::vector<size_t>> strata(nClasses + 1);
    for (size_t g = 0; g < groups.size(); ++g) {
        std::vector<int> hist(nClasses, 0);
        for (size_t i : groups[g])
            if (ds.samples[i].label >= 0 && size_t(ds.samples[i].label) < nClasses)
                ++hist[size_t(ds.samples[i].label)];
        const auto best = std::max_element(hist.begin(), hist.end());
        strata[hist.empty() || *best == 0 ? nClasses : size_t(best - hist.begin())].push_back(g);
    }

    SplitMix rng{seed};
    for (auto& stratum : strata) {
        if (stratum.empty())
            continue;
        shuffleSeeded(stratum, rng);
        size_t stratumSize = 0;
        for (size_t g : stratum)
            stratumSize += groups[g].size();
        std::vector<double> got(targets.size(), 0.0);
        for (size_t g : stratum) {
            // The split furthest below its share takes the group (the first split on ties,
            // so a class with a single sample goes to train).
            size_t best = 0;
            double bestDeficit = -1e300;
            for (size_t t = 0; t < targets.size(); ++t) {
                const double want = std::max(0.0, targets[t].second) / total * double(stratumSize);
                if (want <= 0)
                    continue;
                const double deficit = want - got[t];
                if (deficit > bestDeficit + 1e-9) {
                    bestDeficit = deficit;
                    best = t;
                }
            }
            got[best] += double(groups[g].size());
            for (size_t i : groups[g])
                ds.samples[i].split = targets[best].first;
        }
    }
}

} // namespace

void assignSplits(Dataset& dataset, const SplitOptions& options)
{
    const std::vector<std::pair<Split, double>> all = {
        {Split::Train, options.train}, {Split::Val, options.val}, {Split::Test, options.test}};
    if (!options.keepGivenSplits)
        for (Sample& s : dataset.samples)
            s.split = Split::Unassigned;

    std::vector<size_t> unassigned;
    bool anyGiven = false;
    for (size_t i = 0; i < dataset.samples.size(); ++i) {
        if (dataset.samples[i].split == Split::Unassigned)
            unassigned.push_back(i);
        else
            anyGiven = true;
    }
    distribute(dataset, unassigned, all, options.groupByPatient, options.seed);
    if (!anyGiven)
        return;

    // Given splits: fill a missing val or test split from train (whole patients that lie
    // only in train, so the move adds no overlap).
    const auto counts = [&](Split s) {
        return std::count_if(dataset.samples.begin(), dataset.samples.end(),
                             [&](const Sample& x) { return x.split == s; });
    };
    std::vector<std::pair<Split, double>> targets = {{Split::Train, options.train}};
    if (counts(Split::Val) == 0 && options.val > 0)
        targets.emplace_back(Split::Val, options.val);
    if (counts(Split::Test) == 0 && options.test > 0)
        targets.emplace_back(Split::Test, options.test);
    if (targets.size() == 1)
        return;
    std::set<std::string> outsideTrain;
    for (const Sample& s : dataset.samples)
        if (s.split != Split::Train && !s.patientId.empty())
            outsideTrain.insert(s.patientId);
    std::vector<size_t> pool;
    for (size_t i = 0; i < dataset.samples.size(); ++i) {
        const Sample& s = dataset.samples[i];
        if (s.split == Split::Train && (s.patientId.empty() || !outsideTrain.count(s.patientId)))
            pool.push_back(i);
    }
    distribute(dataset, pool, targets, options.groupByPatient, options.seed);
}

// ---- statistics ---------------------------------------------------------------------------

DatasetStats datasetStats(const Dataset& dataset, int maxFiles)
{
    DatasetStats st;
    st.countsPerSplit = {dataset.classCounts(Split::Train), dataset.classCounts(Split::Val),
                         dataset.classCounts(Split::Test)};
    const size_t n = dataset.samples.size();
    if (n == 0)
        return st;
    const size_t want = maxFiles <= 0 ? n : std::min(n, size_t(maxFiles));
    std::vector<std::pair<int, int>> sizes(want, {0, 0});
    parallelFor(want, 0, [&](size_t k) {
        // Evenly spread over the (class-ordered) list, so every class is measured.
        const size_t i = want == n ? k : size_t(double(k) * double(n) / double(want));
        if (!imageSize(dataset.samples[i].path, sizes[k].first, sizes[k].second))
            sizes[k] = {0, 0};
    });
    double sumW = 0, sumH = 0;
    for (const auto& [w, h] : sizes) {
        if (w <= 0 || h <= 0)
            continue;
        if (st.measured == 0) {
            st.minWidth = st.maxWidth = w;
            st.minHeight = st.maxHeight = h;
        }
        st.minWidth = std::min(st.minWidth, w);
        st.maxWidth = std::max(st.maxWidth, w);
        st.minHeight = std::min(st.minHeight, h);
        st.maxHeight = std::max(st.maxHeight, h);
        sumW += w;
        sumH += h;
        ++st.measured;
    }
    if (st.measured > 0) {
        st.meanWidth = sumW / double(st.measured);
        st.meanHeight = sumH / double(st.measured);
    }
    return st;
}

} // namespace lightbox::data
