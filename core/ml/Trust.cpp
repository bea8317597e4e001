// How far to trust a prediction: the out-of-distribution detector (class-conditional
// Gaussians over feature blocks, the energy score) and its card. Temperature scaling,
// calibration and ordinal cut points are in Calibration.cpp.
#include "Trust.h"

#include "Metrics.h"

#include <algorithm>
#include <cmath>

namespace lightbox::ml {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr size_t kMaxStoredScores = 2000;

Json numbers(const std::vector<double>& v)
{
    Json::Array a;
    a.reserve(v.size());
    for (double x : v)
        a.emplace_back(x);
    return Json(a);
}

/// In-place Cholesky factor (lower) of a symmetric positive definite matrix; false when not SPD.
bool cholesky(std::vector<double>& a, int n)
{
    for (int j = 0; j < n; ++j) {
        double d = a[size_t(j) * n + j];
        for (int k = 0; k < j; ++k)
            d -= a[size_t(j) * n + k] * a[size_t(j) * n + k];
        if (!(d > 0.0))
            return false;
        d = std::sqrt(d);
        a[size_t(j) * n + j] = d;
        for (int i = j + 1; i < n; ++i) {
            double s = a[size_t(i) * n + j];
            for (int k = 0; k < j; ++k)
                s -= a[size_t(i) * n + k] * a[size_t(j) * n + k];
            a[size_t(i) * n + j] = s / d;
        }
        for (int k = j + 1; k < n; ++k)
            a[size_t(j) * n + k] = 0.0;
    }
    return true;
}

/// Inverse of A = L L^T from its Cholesky factor.
std::vector<double> choleskyInverse(const std::vector<double>& l, int n)
{
    // Linv: forward substitution column by column.
    std::vector<double> li(size_t(n) * n, 0.0);
    for (int c = 0; c < n; ++c) {
        for (int i = c; i < n; ++i) {
            double s = (i == c) ? 1.0 : 0.0;
            for (int k = c; k < i; ++k)
                s -= l[size_t(i) * n + k] * li[size_t(k) * n + c];
            li[size_t(i) * n + c] = s / l[size_t(i) * n + i];
        }
    }
    // A^-1 = Linv^T Linv
    std::vector<double> inv(size_t(n) * n, 0.0);
    for (int i = 0; i < n; ++i)
        for (int j = 0; j <= i; ++j) {
            double s = 0.0;
            for (int k = i; k < n; ++k)
                s += li[size_t(k) * n + i] * li[size_t(k) * n + j];
            inv[size_t(i) * n + j] = s;
            inv[size_t(j) * n + i] = s;
        }
    return inv;
}

} // namespace

double logSumExp(const std::vector<float>& logits, double temperature)
{
    double hi = -std::numeric_limits<double>::infinity();
    for (float v : logits)
        hi = std::max(hi, static_cast<double>(v) / temperature);
    if (!std::isfinite(hi))
        return hi;
    double sum = 0.0;
    for (float v : logits)
        sum += std::exp(static_cast<double>(v) / temperature - hi);
    return hi + std::log(sum);
}

Json OodScore::toJson() const
{
    Json::Object o{{"flagged", flagged}, {"method", method}};
    o["score"] = std::isfinite(score) ? Json(score) : Json();
    o["percentile"] = std::isfinite(percentile) ? Json(percentile) : Json();
    return Json(o);
}

bool MahalanobisBlock::valid() const
{
    return dim > 0 && offset >= 0 && !means.empty() && precision.size() == size_t(dim) * size_t(dim) && valSd > 0.0 &&
           std::isfinite(valMean);
}

double MahalanobisBlock::rawScore(const float* f) const
{
    double best = std::numeric_limits<double>::infinity();
    std::vector<double> d(static_cast<size_t>(dim));
    for (const auto& mu : means) {
        for (int i = 0; i < dim; ++i)
            d[size_t(i)] = double(f[offset + i]) - double(mu[size_t(i)]);
        double q = 0.0;
        for (int i = 0; i < dim; ++i) {
            const double* row = precision.data() + size_t(i) * dim;
            double s = 0.0;
            for (int j = 0; j < dim; ++j)
                s += row[j] * d[size_t(j)];
            q += d[size_t(i)] * s;
        }
        best = std::min(best, q);
    }
    return best;
}

bool MahalanobisModel::valid() const
{
    if (blocks.empty())
        return false;
    int next = 0;
    for (const auto& b : blocks) {
        if (!b.valid() || b.offset != next)
            return false;
        for (const auto& m : b.means)
            if (m.size() != size_t(b.dim))
                return false;
        next += b.dim;
    }
    return true;
}

int MahalanobisModel::totalDim() const
{
    return blocks.empty() ? 0 : blocks.back().offset + blocks.back().dim;
}

std::vector<double> MahalanobisModel::blockScores(const std::vector<float>& f) const
{
    std::vector<double> out;
    if (!valid() || f.size() != size_t(totalDim()))
        return out;
    for (const auto& b : blocks)
        out.push_back((b.rawScore(f.data()) - b.valMean) / b.valSd);
    return out;
}

double MahalanobisModel::score(const std::vector<float>& f, const std::string& combine) const
{
    const auto s = blockScores(f);
    if (s.empty())
        return kNaN;
    if (combine == "last")
        return s.back();
    if (combine == "sum") {
        double sum = 0.0;
        for (double v : s)
            sum += v;
        return sum;
    }
    if (combine == "excess") {
        // Only scores above their val mean add up: a block that looks unusually typical cannot
        // cancel one that looks foreign.
        double sum = 0.0;
        for (double v : s)
            sum += std::max(0.0, v);
        return sum;
    }
    return *std::max_element(s.begin(), s.end());
}

void MahalanobisModel::standardise(const std::vector<std::vector<float>>& valFeatures)
{
    for (auto& b : blocks) {
        double sum = 0.0, sum2 = 0.0;
        int64_t n = 0;
        for (const auto& f : valFeatures) {
            if (f.size() < size_t(b.offset + b.dim))
                continue;
            const double v = b.rawScore(f.data());
            if (!std::isfinite(v))
                continue;
            sum += v;
            sum2 += v * v;
            ++n;
        }
        if (n < 2)
            continue;
        b.valMean = sum / double(n);
        const double var = (sum2 - sum * sum / double(n)) / double(n - 1);
        b.valSd = var > 1e-24 ? std::sqrt(var) : 1.0;
    }
}

namespace {

Result<MahalanobisBlock> fitBlock(const std::vector<std::vector<float>>& features, const std::vector<int64_t>& labels,
                                  int numClasses, int offset, int dimension, double shrinkage)
{
    using R = Result<MahalanobisBlock>;
    const size_t dim = static_cast<size_t>(dimension);
    std::vector<std::vector<double>> sums(size_t(std::max(numClasses, 0)), std::vector<double>(dim, 0.0));
    std::vector<int64_t> counts(sums.size(), 0);
    for (size_t s = 0; s < features.size(); ++s) {
        const int64_t c = labels[s];
        if (c < 0 || c >= numClasses)
            continue;
        const float* f = features[s].data() + offset;
        for (size_t i = 0; i < dim; ++i)
            sums[size_t(c)][i] += f[i];
        ++counts[size_t(c)];
    }
    MahalanobisBlock m;
    m.offset = offset;
    m.dim = dimension;
    std::vector<int> meanOf(sums.size(), -1);
    for (size_t c = 0; c < sums.size(); ++c) {
        if (counts[c] == 0)
            continue;
        std::vector<float> mu(dim);
        for (size_t i = 0; i < dim; ++i)
            mu[i] = static_cast<float>(sums[c][i] / double(counts[c]));
        meanOf[c] = static_cast<int>(m.means.size());
        m.means.push_back(std::move(mu));
    }
    if (m.means.empty())
        return R::failure("no training image has a label of the model's classes");

    // Sample s centred on its class mean, into d; false for a sample without a class.
    std::vector<double> d(dim);
    auto centre = [&](size_t s) {
        const int64_t c = labels[s];
        if (c < 0 || c >= numClasses)
            return false;
        const auto& mu = m.means[size_t(meanOf[size_t(c)])];
        const float* f = features[s].data() + offset;
        for (size_t i = 0; i < dim; ++i)
            d[i] = double(f[i]) - double(mu[i]);
        return true;
    };

    // Shared covariance of the class-centred features.
    std::vector<double> cov(dim * dim, 0.0);
    int64_t n = 0;
    for (size_t s = 0; s < features.size(); ++s) {
        if (!centre(s))
            continue;
        for (size_t i = 0; i < dim; ++i) {
            const double di = d[i];
            double* row = cov.data() + i * dim;
            for (size_t j = 0; j <= i; ++j)
                row[j] += di * d[j];
        }
        ++n;
    }
    double trace = 0.0;
    for (size_t i = 0; i < dim; ++i)
        for (size_t j = 0; j <= i; ++j) {
            const double v = cov[i * dim + j] / double(std::max<int64_t>(1, n - 1));
            cov[i * dim + j] = v;
            cov[j * dim + i] = v;
            if (i == j)
                trace += v;
        }
    const double ridge = std::max(trace / double(dim), 1e-12);
    if (shrinkage < 0.0) {
        // Ledoit and Wolf (2004): the intensity that minimises the expected Frobenius loss
        // towards ridge * I, from the data (S is the covariance divided by n here).
        const double scale = double(n - 1) / double(std::max<int64_t>(1, n));
        double delta = 0.0, normS = 0.0;
        for (size_t i = 0; i < dim; ++i)
            for (size_t j = 0; j < dim; ++j) {
                const double sij = cov[i * dim + j] * scale;
                normS += sij * sij;
                const double t = sij - (i == j ? ridge * scale : 0.0);
                delta += t * t;
            }
        double beta = 0.0;
        for (size_t s = 0; s < features.size(); ++s) {
            if (!centre(s))
                continue;
            double norm2 = 0.0;
            for (size_t i = 0; i < dim; ++i)
                norm2 += d[i] * d[i];
            double dsd = 0.0;
            for (size_t i = 0; i < dim; ++i) {
                const double* row = cov.data() + i * dim;
                double t = 0.0;
                for (size_t j = 0; j < dim; ++j)
                    t += row[j] * d[j];
                dsd += d[i] * t * scale;
            }
            beta += norm2 * norm2 - 2.0 * dsd + normS;
        }
        beta /= double(n) * double(n);
        shrinkage = delta > 0.0 ? std::min(beta, delta) / delta : 1.0;
    }
    m.shrinkage = shrinkage;
    for (size_t i = 0; i < dim; ++i)
        for (size_t j = 0; j < dim; ++j)
            cov[i * dim + j] = (1.0 - shrinkage) * cov[i * dim + j] + (i == j ? shrinkage * ridge : 0.0);
    // A little more ridge until the factorisation succeeds (all-constant features, say).
    for (double extra = 0.0; extra < 1.0; extra = extra == 0.0 ? 1e-6 : extra * 10) {
        std::vector<double> l = cov;
        for (size_t i = 0; i < dim; ++i)
            l[i * dim + i] += extra * ridge;
        if (cholesky(l, m.dim)) {
            m.precision = choleskyInverse(l, m.dim);
            return m;
        }
    }
    return R::failure("the features' covariance cannot be inverted");
}

} // namespace

Result<MahalanobisModel> fitMahalanobis(const std::vector<std::vector<float>>& features,
                                        const std::vector<int64_t>& labels, int numClasses,
                                        const std::vector<int>& blockDims, double shrinkage)
{
    using R = Result<MahalanobisModel>;
    if (features.size() < 2 || features.size() != labels.size())
        return R::failure("the detector needs at least two training images with features");
    const size_t dim = features[0].size();
    if (dim == 0)
        return R::failure("the model gives no penultimate features (TorchScript): use the energy score");
    for (const auto& f : features)
        if (f.size() != dim)
            return R::failure("feature vectors of different sizes");
    std::vector<int> dims = blockDims.empty() ? std::vector<int>{static_cast<int>(dim)} : blockDims;
    int total = 0;
    for (int d : dims) {
        if (d <= 0)
            return R::failure("a feature block is empty");
        total += d;
    }
    if (total != static_cast<int>(dim))
        return R::failure("the feature blocks add up to " + std::to_string(total) + ", the features have " +
                          std::to_string(dim));
    MahalanobisModel m;
    int offset = 0;
    for (int d : dims) {
        auto b = fitBlock(features, labels, numClasses, offset, d, shrinkage < 0.0 ? -1.0 : std::min(shrinkage, 1.0));
        if (!b)
            return R::failure(b.error());
        m.blocks.push_back(std::move(b.value()));
        offset += d;
    }
    m.standardise(features); // provisional: calibrate on val with standardise()
    return m;
}

double energyScore(const std::vector<float>& logits, double temperature)
{
    if (logits.empty() || !(temperature > 0.0))
        return kNaN;
    return -temperature * logSumExp(logits, temperature);
}

double OodThreshold::percentile(double score) const
{
    if (valScores.empty() || !std::isfinite(score))
        return std::isnan(score) ? kNaN : (score > 0 ? 100.0 : 0.0);
    const auto below = std::lower_bound(valScores.begin(), valScores.end(), score) - valScores.begin();
    const auto notAbove = std::upper_bound(valScores.begin(), valScores.end(), score) - valScores.begin();
    // Ties count half, so a score equal to every val score sits at the 50th percentile.
    return 100.0 * (double(below) + 0.5 * double(notAbove - below)) / double(valScores.size());
}

OodThreshold OodThreshold::fromValScores(std::vector<double> scores, double percentile)
{
    OodThreshold t;
    scores.erase(std::remove_if(scores.begin(), scores.end(), [](double v) { return !std::isfinite(v); }),
                 scores.end());
    if (scores.empty())
        return t;
    std::sort(scores.begin(), scores.end());
    // Linear interpolation between order statistics (numpy's default).
    const double pos = std::clamp(percentile, 0.0, 100.0) / 100.0 * double(scores.size() - 1);
    const size_t lo = static_cast<size_t>(std::floor(pos));
    const size_t hi = std::min(lo + 1, scores.size() - 1);
    t.threshold = scores[lo] + (pos - double(lo)) * (scores[hi] - scores[lo]);
    t.valFlagged =
        double(scores.end() - std::upper_bound(scores.begin(), scores.end(), t.threshold)) / double(scores.size());
    if (scores.size() > kMaxStoredScores) {
        std::vector<double> thin(kMaxStoredScores);
        for (size_t i = 0; i < kMaxStoredScores; ++i)
            thin[i] = scores[i * (scores.size() - 1) / (kMaxStoredScores - 1)];
        scores = std::move(thin);
    }
    t.valScores = std::move(scores);
    return t;
}

Json OodCard::toJson() const
{
    auto one = [](const OodThreshold& t) {
        return Json(Json::Object{{"threshold", t.valid() ? Json(t.threshold) : Json()},
                                 {"val_flagged", t.valFlagged},
                                 {"val_scores", numbers(t.valScores)}});
    };
    Json::Object o{{"method", method},
                   {"combine", combine},
                   {"threshold_percentile", thresholdPercentile},
                   {"fitted_on", fittedOn}};
    if (mahalanobis.valid())
        o["mahalanobis"] = one(mahalanobis);
    if (energy.valid())
        o["energy"] = one(energy);
    return Json(o);
}

Result<OodCard> OodCard::fromJson(const Json& j)
{
    using R = Result<OodCard>;
    if (!j.isObject())
        return R::failure("the card's ood section is not an object");
    OodCard c;
    c.method = j["method"].toString();
    if (c.method != "mahalanobis" && c.method != "energy")
        return R::failure("the card's ood method '" + c.method + "' is unknown");
    c.combine = j["combine"].toString("sum");
    if (c.combine != "max" && c.combine != "sum" && c.combine != "excess" && c.combine != "last")
        return R::failure("the card's ood combination '" + c.combine + "' is unknown");
    c.thresholdPercentile = j["threshold_percentile"].toNumber(97.5);
    c.fittedOn = j["fitted_on"].toString();
    auto one = [](const Json& t, OodThreshold& out) -> bool {
        if (!t.isObject())
            return true; // absent
        if (!t["threshold"].isNumber())
            return false;
        out.threshold = t["threshold"].toNumber();
        out.valFlagged = t["val_flagged"].toNumber();
        for (const auto& v : t["val_scores"].array()) {
            if (!v.isNumber())
                return false;
            out.valScores.push_back(v.toNumber());
        }
        if (out.valScores.size() > kMaxStoredScores || !std::is_sorted(out.valScores.begin(), out.valScores.end()))
            return false;
        return true;
    };
    if (!one(j["mahalanobis"], c.mahalanobis) || !one(j["energy"], c.energy))
        return R::failure("the card's ood thresholds are malformed");
    if (!c.valid())
        return R::failure("the card's ood section has no calibration for its method '" + c.method + "'");
    return c;
}

OodScore scoreOod(const OodCard& card, const MahalanobisModel& gaussians, const std::vector<float>& features,
                  const std::vector<float>& logits)
{
    OodScore s;
    s.energy = energyScore(logits);
    if (gaussians.valid() && !features.empty())
        s.mahalanobis = gaussians.score(features, card.combine);
    if (!card.valid())
        return s;
    const bool maha = card.method == "mahalanobis";
    const OodThreshold& t = maha ? card.mahalanobis : card.energy;
    const double v = maha ? s.mahalanobis : s.energy;
    if (maha && !std::isfinite(v) && !std::isinf(v))
        return s; // no features for this model: no verdict
    s.available = true;
    s.method = card.method;
    s.score = v;
    s.percentile = t.percentile(v);
    s.flagged = !(v <= t.threshold); // NaN or above the threshold
    return s;
}

} // namespace lightbox::ml
