// Calibration: softmax with a temperature, temperature scaling fitted on validation logits,
// the calibration report (expected calibration error, reliability bins), and the cut points
// that turn an expected grade into a grade.
#include "Trust.h"

#include "Metrics.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace lightbox::ml {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

} // namespace

std::vector<float> softmax(const std::vector<float>& logits, double temperature)
{
    std::vector<float> p(logits.size());
    if (logits.empty())
        return p;
    const double lse = logSumExp(logits, temperature);
    for (size_t i = 0; i < logits.size(); ++i)
        p[i] = static_cast<float>(std::exp(double(logits[i]) / temperature - lse));
    return p;
}

double negativeLogLikelihood(const std::vector<std::vector<float>>& logits, const std::vector<int64_t>& labels,
                             double temperature)
{
    double sum = 0.0;
    int64_t n = 0;
    for (size_t s = 0; s < logits.size() && s < labels.size(); ++s) {
        const int64_t y = labels[s];
        if (y < 0 || y >= int64_t(logits[s].size()))
            continue;
        sum += logSumExp(logits[s], temperature) - double(logits[s][size_t(y)]) / temperature;
        ++n;
    }
    return n ? sum / double(n) : kNaN;
}

double fitTemperature(const std::vector<std::vector<float>>& logits, const std::vector<int64_t>& labels)
{
    auto f = [&](double logT) { return negativeLogLikelihood(logits, labels, std::exp(logT)); };
    double a = std::log(1.0 / 20.0), b = std::log(20.0);
    if (!std::isfinite(f(0.0)))
        return 1.0;
    // The NLL is convex in 1/T, so unimodal in log T: golden-section search.
    const double g = (std::sqrt(5.0) - 1.0) / 2.0;
    double c = b - g * (b - a), d = a + g * (b - a);
    double fc = f(c), fd = f(d);
    for (int i = 0; i < 80 && b - a > 1e-6; ++i) {
        if (fc < fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = f(d);
        }
    }
    return std::exp(0.5 * (a + b));
}

Json CalibrationReport::toJson() const
{
    Json::Array b;
    for (const auto& bin : bins)
        b.emplace_back(Json::Object{{"lower", bin.lower},
                                    {"upper", bin.upper},
                                    {"count", static_cast<long long>(bin.count)},
                                    {"confidence", bin.confidence},
                                    {"accuracy", bin.accuracy}});
    return Json(Json::Object{{"ece", std::isfinite(ece) ? Json(ece) : Json()},
                             {"nll", std::isfinite(nll) ? Json(nll) : Json()},
                             {"bins", Json(b)}});
}

CalibrationReport calibrationReport(const std::vector<int64_t>& labels,
                                    const std::vector<std::vector<float>>& probabilities, int binCount)
{
    CalibrationReport r;
    binCount = std::max(1, binCount);
    r.bins.resize(size_t(binCount));
    for (int i = 0; i < binCount; ++i) {
        r.bins[size_t(i)].lower = double(i) / binCount;
        r.bins[size_t(i)].upper = double(i + 1) / binCount;
    }
    int64_t n = 0;
    double nll = 0.0;
    for (size_t s = 0; s < labels.size() && s < probabilities.size(); ++s) {
        const auto& p = probabilities[s];
        const int64_t y = labels[s];
        if (p.empty() || y < 0 || y >= int64_t(p.size()))
            continue;
        size_t top = 0;
        for (size_t i = 1; i < p.size(); ++i)
            if (p[i] > p[top])
                top = i;
        const double conf = p[top];
        // Bins are (lower, upper]; a confidence of 0 falls in the first.
        int b = static_cast<int>(std::ceil(conf * binCount)) - 1;
        b = std::clamp(b, 0, binCount - 1);
        auto& bin = r.bins[size_t(b)];
        bin.count += 1;
        bin.confidence += conf;
        bin.accuracy += (int64_t(top) == y) ? 1.0 : 0.0;
        nll -= std::log(std::max(1e-12, double(p[size_t(y)])));
        ++n;
    }
    if (n == 0)
        return r;
    double ece = 0.0;
    for (auto& bin : r.bins) {
        if (bin.count == 0)
            continue;
        bin.confidence /= double(bin.count);
        bin.accuracy /= double(bin.count);
        ece += double(bin.count) / double(n) * std::abs(bin.accuracy - bin.confidence);
    }
    r.ece = ece;
    r.nll = nll / double(n);
    return r;
}

} // namespace lightbox::ml

namespace lightbox::ml {

double expectedGrade(const std::vector<float>& probabilities)
{
    double e = 0.0;
    for (size_t i = 0; i < probabilities.size(); ++i)
        e += double(i) * probabilities[i];
    return e;
}

int gradeFromCutPoints(double expected, const std::vector<double>& cutPoints)
{
    int g = 0;
    for (double c : cutPoints)
        g += expected >= c ? 1 : 0;
    return g;
}

std::vector<double> fitCutPoints(const std::vector<double>& expected, const std::vector<int64_t>& labels,
                                 int numClasses)
{
    std::vector<double> cuts;
    for (int i = 0; i + 1 < numClasses; ++i)
        cuts.push_back(i + 0.5);
    if (expected.empty() || expected.size() != labels.size() || numClasses < 2)
        return cuts;
    auto kappa = [&](const std::vector<double>& c) {
        std::vector<int64_t> predicted(expected.size());
        for (size_t i = 0; i < expected.size(); ++i)
            predicted[i] = gradeFromCutPoints(expected[i], c);
        const double k = quadraticWeightedKappa(labels, predicted, numClasses);
        return std::isfinite(k) ? k : -1.0;
    };
    double best = kappa(cuts);
    for (int round = 0; round < 10; ++round) {
        bool improved = false;
        for (size_t j = 0; j < cuts.size(); ++j) {
            const double lo = j == 0 ? 0.0 : cuts[j - 1] + 0.01;
            const double hi = j + 1 == cuts.size() ? double(numClasses - 1) : cuts[j + 1] - 0.01;
            double bestAt = cuts[j];
            for (double v = lo; v <= hi + 1e-9; v += 0.01) {
                std::vector<double> trial = cuts;
                trial[j] = v;
                const double k = kappa(trial);
                if (k > best + 1e-12) {
                    best = k;
                    bestAt = v;
                    improved = true;
                }
            }
            cuts[j] = bestAt;
        }
        if (!improved)
            break;
    }
    return cuts;
}

} // namespace lightbox::ml
