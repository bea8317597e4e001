// Classification metrics (torch-free).
#include "Metrics.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

namespace lightbox::ml {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// A NaN score ranks below every number, so a broken probability never counts as confident.
double rankable(double s)
{
    return std::isnan(s) ? -std::numeric_limits<double>::infinity() : s;
}

std::string number(double v)
{
    if (!std::isfinite(v))
        return std::isnan(v) ? "nan" : (v > 0 ? "inf" : "-inf");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
std::string csvField(const std::string& s)
{
    if (s.find_first_of(",\"\n\r") == std::string::npos)
        return s;
    std::string out = "\"";
    for (char c : s) {
        if (c == '"')
            out += '"';
        out += c;
    }
    return out + '"';
}

std::string className(const ClassificationReport& r, int i)
{
    return static_cast<size_t>(i) < r.classNames.size() ? r.classNames[static_cast<size_t>(i)] : std::to_string(i);
}

/// Index of the largest probability (NaN never wins); -1 for an empty vector.
int argmax(const std::vector<float>& p)
{
    int best = -1;
    for (int i = 0; i < static_cast<int>(p.size()); ++i)
        if (best < 0 || rankable(p[static_cast<size_t>(i)]) > rankable(p[static_cast<size_t>(best)]))
            best = i;
    return best;
}

Json numbers(const std::vector<double>& v)
{
    Json::Array a;
    a.reserve(v.size());
    for (double x : v)
        a.emplace_back(x);
    return Json(std::move(a));
}

Json counts(const std::vector<int64_t>& v)
{
    Json::Array a;
    a.reserve(v.size());
    for (int64_t x : v)
        a.emplace_back(static_cast<long long>(x));
    return Json(std::move(a));
}

/// Quadratic weighted kappa from a confusion matrix [true][predicted].
double kappaFromConfusion(const std::vector<std::vector<int64_t>>& o)
{
    const size_t k = o.size();
    if (k < 2)
        return kNaN;
    std::vector<double> rows(k, 0.0), cols(k, 0.0);
    double n = 0.0;
    for (size_t i = 0; i < k; ++i)
        for (size_t j = 0; j < k; ++j) {
            rows[i] += static_cast<double>(o[i][j]);
            cols[j] += static_cast<double>(o[i][j]);
            n += static_cast<double>(o[i][j]);
        }
    if (n <= 0.0)
        return kNaN;
    const double scale = static_cast<double>((k - 1) * (k - 1));
    double observed = 0.0, expected = 0.0;
    for (size_t i = 0; i < k; ++i)
        for (size_t j = 0; j < k; ++j) {
            const double d = static_cast<double>(i) - static_cast<double>(j);
            const double w = d * d / scale;
            observed += w * static_cast<double>(o[i][j]);
            expected += w * rows[i] * cols[j] / n;
        }
    if (!(expected > 0.0))
        return kNaN; // every rating in one class on both sides: agreement by chance is total
    return 1.0 - observed / expected;
}

} // namespace

double quadraticWeightedKappa(const std::vector<int64_t>& truth, const std::vector<int64_t>& predicted, int numClasses)
{
    if (numClasses < 2)
        return kNaN;
    std::vector<std::vector<int64_t>> o(static_cast<size_t>(numClasses),
                                        std::vector<int64_t>(static_cast<size_t>(numClasses), 0));
    const size_t n = std::min(truth.size(), predicted.size());
    for (size_t i = 0; i < n; ++i) {
        if (truth[i] < 0 || truth[i] >= numClasses || predicted[i] < 0 || predicted[i] >= numClasses)
            continue;
        ++o[static_cast<size_t>(truth[i])][static_cast<size_t>(predicted[i])];
    }
    return kappaFromConfusion(o);
}

RocCurve rocCurve(const std::vector<bool>& positive, const std::vector<double>& scores)
{
    RocCurve roc;
    const size_t n = std::min(positive.size(), scores.size());
    std::vector<size_t> order(n);
    std::iota(order.begin(), order.end(), size_t{0});
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return rankable(scores[a]) > rankable(scores[b]); });
    double positives = 0.0;
    for (size_t i = 0; i < n; ++i)
        positives += positive[i] ? 1.0 : 0.0;
    const double negatives = static_cast<double>(n) - positives;
    if (positives == 0.0 || negatives == 0.0) {
        roc.auc = kNaN;
        return roc;
    }
    roc.fpr.push_back(0.0);
    roc.tpr.push_back(0.0);
    double tp = 0.0, fp = 0.0, auc = 0.0;
    for (size_t i = 0; i < n;) {
        // All samples with the same score pass the threshold together: one (diagonal) step.
        const double s = rankable(scores[order[i]]);
        while (i < n && rankable(scores[order[i]]) == s) {
            if (positive[order[i]])
                tp += 1.0;
            else
                fp += 1.0;
            ++i;
        }
        const double x = fp / negatives, y = tp / positives;
        auc += (x - roc.fpr.back()) * (y + roc.tpr.back()) / 2.0;
        roc.fpr.push_back(x);
        roc.tpr.push_back(y);
    }
    roc.auc = auc;
    return roc;
}

ClassificationReport computeReport(const std::vector<int64_t>& truth,
                                   const std::vector<std::vector<float>>& probabilities,
                                   const std::vector<std::string>& classNames, bool ordinal,
                                   const std::vector<double>& cutPoints)
{
    ClassificationReport r;
    const int k = static_cast<int>(classNames.size());
    const size_t kk = static_cast<size_t>(std::max(k, 0));
    r.numClasses = k;
    r.classNames = classNames;
    r.ordinal = ordinal;
    r.confusion.assign(kk, std::vector<int64_t>(kk, 0));
    r.trueCounts.assign(kk, 0);
    r.predictedCounts.assign(kk, 0);
    r.perClass.assign(kk, ClassScores{});

    // Usable samples: a label in range and one probability per class.
    std::vector<int64_t> labels, predicted;
    std::vector<const std::vector<float>*> probs;
    const size_t n = std::min(truth.size(), probabilities.size());
    for (size_t i = 0; i < n; ++i) {
        if (truth[i] < 0 || truth[i] >= k || probabilities[i].size() != kk)
            continue;
        labels.push_back(truth[i]);
        predicted.push_back(
            cutPoints.empty()
                ? argmax(probabilities[i])
                : std::min<int64_t>(k - 1, gradeFromCutPoints(expectedGrade(probabilities[i]), cutPoints)));
        probs.push_back(&probabilities[i]);
    }
    r.samples = static_cast<int64_t>(labels.size());
    if (r.samples == 0 || k < 1) {
        r.accuracy = r.macroF1 = r.balancedAccuracy = r.macroAuc = kNaN;
        r.quadraticKappa = r.meanAbsoluteError = kNaN;
        r.roc.assign(kk, RocCurve{{}, {}, kNaN});
        return r;
    }

    int64_t correct = 0;
    double absError = 0.0;
    for (size_t i = 0; i < labels.size(); ++i) {
        const auto t = static_cast<size_t>(labels[i]), p = static_cast<size_t>(predicted[i]);
        ++r.confusion[t][p];
        ++r.trueCounts[t];
        ++r.predictedCounts[p];
        correct += t == p ? 1 : 0;
        absError += std::abs(static_cast<double>(labels[i] - predicted[i]));
    }
    r.accuracy = static_cast<double>(correct) / static_cast<double>(r.samples);
    r.meanAbsoluteError = absError / static_cast<double>(r.samples);

    // Macro averages run over the classes that occur (sklearn's default for labels it sees):
    // F1 over classes present in the truth or the predictions, recall over true classes.
    double f1Sum = 0.0, recallSum = 0.0;
    int f1Classes = 0, recallClasses = 0;
    for (size_t c = 0; c < kk; ++c) {
        ClassScores& s = r.perClass[c];
        const double tp = static_cast<double>(r.confusion[c][c]);
        s.support = r.trueCounts[c];
        s.precision = r.predictedCounts[c] > 0 ? tp / static_cast<double>(r.predictedCounts[c]) : 0.0;
        s.recall = s.support > 0 ? tp / static_cast<double>(s.support) : 0.0;
        s.f1 = s.precision + s.recall > 0.0 ? 2.0 * s.precision * s.recall / (s.precision + s.recall) : 0.0;
        if (s.support > 0 || r.predictedCounts[c] > 0) {
            f1Sum += s.f1;
            ++f1Classes;
        }
        if (s.support > 0) {
            recallSum += s.recall;
            ++recallClasses;
        }
    }
    r.macroF1 = f1Classes > 0 ? f1Sum / f1Classes : kNaN;
    r.balancedAccuracy = recallClasses > 0 ? recallSum / recallClasses : kNaN;

    double aucSum = 0.0;
    int aucClasses = 0;
    for (size_t c = 0; c < kk; ++c) {
        std::vector<bool> positive(labels.size());
        std::vector<double> scores(labels.size());
        for (size_t i = 0; i < labels.size(); ++i) {
            positive[i] = static_cast<size_t>(labels[i]) == c;
            scores[i] = static_cast<double>((*probs[i])[c]);
        }
        r.roc.push_back(rocCurve(positive, scores));
        if (std::isfinite(r.roc.back().auc)) {
            aucSum += r.roc.back().auc;
            ++aucClasses;
        }
    }
    r.macroAuc = aucClasses > 0 ? aucSum / aucClasses : kNaN;
    r.quadraticKappa = kappaFromConfusion(r.confusion);
    r.calibration = calibrationReport(truth, probabilities);
    r.cutPoints = cutPoints;
    return r;
}

Json ClassificationReport::toJson() const
{
    Json::Array names, classes, rocs, matrix;
    for (int c = 0; c < numClasses; ++c) {
        const size_t i = static_cast<size_t>(c);
        names.emplace_back(className(*this, c));
        const ClassScores s = i < perClass.size() ? perClass[i] : ClassScores{};
        const double auc = i < roc.size() ? roc[i].auc : kNaN;
        classes.emplace_back(Json::Object{{"class", className(*this, c)},
                                          {"precision", s.precision},
                                          {"recall", s.recall},
                                          {"f1", s.f1},
                                          {"support", static_cast<long long>(s.support)},
                                          {"auc", auc}});
        if (i < roc.size())
            rocs.emplace_back(Json::Object{{"class", className(*this, c)},
                                           {"auc", auc},
                                           {"fpr", numbers(roc[i].fpr)},
                                           {"tpr", numbers(roc[i].tpr)}});
    }
    for (const auto& row : confusion)
        matrix.push_back(counts(row));
    Json::Object doc{{"num_classes", numClasses},
                     {"class_names", Json(names)},
                     {"samples", static_cast<long long>(samples)},
                     {"accuracy", accuracy},
                     {"macro_f1", macroF1},
                     {"balanced_accuracy", balancedAccuracy},
                     {"macro_auc", macroAuc},
                     {"ordinal", ordinal},
                     {"quadratic_kappa", quadraticKappa},
                     {"mean_absolute_error", meanAbsoluteError},
                     {"per_class", Json(classes)},
                     {"confusion", Json(matrix)},
                     {"roc", Json(rocs)},
                     {"true_counts", counts(trueCounts)},
                     {"predicted_counts", counts(predictedCounts)}};
    if (numClasses == 2 && perClass.size() == 2) {
        // Two classes: the operating point is the argmax (probability of the second class at
        // least 0.5), the second class counts as positive (pneumonia, male).
        doc["operating_point"] = Json(Json::Object{{"threshold", 0.5},
                                                   {"positive_class", className(*this, 1)},
                                                   {"sensitivity", perClass[1].recall},
                                                   {"specificity", perClass[0].recall}});
    }
    if (!cutPoints.empty()) {
        Json::Array cuts;
        for (double c : cutPoints)
            cuts.emplace_back(c);
        doc["cut_points"] = Json(cuts);
    }
    const Json cal = calibration.toJson();
    doc["ece"] = cal["ece"];
    doc["nll"] = cal["nll"];
    doc["reliability"] = cal["bins"];
    if (temperature != 1.0) {
        const Json before = uncalibrated.toJson();
        doc["temperature"] = temperature;
        doc["ece_uncalibrated"] = before["ece"];
        doc["nll_uncalibrated"] = before["nll"];
        doc["reliability_uncalibrated"] = before["bins"];
    }
    return Json(doc);
}

std::string ClassificationReport::perClassCsv() const
{
    std::string out = "class,precision,recall,f1,support\n";
    for (int c = 0; c < numClasses && static_cast<size_t>(c) < perClass.size(); ++c) {
        const ClassScores& s = perClass[static_cast<size_t>(c)];
        out += csvField(className(*this, c)) + "," + number(s.precision) + "," + number(s.recall) + "," + number(s.f1) +
               "," + std::to_string(s.support) + "\n";
    }
    return out;
}

std::string ClassificationReport::confusionCsv() const
{
    std::string out = "true\\predicted";
    for (int c = 0; c < numClasses; ++c)
        out += "," + csvField(className(*this, c));
    out += "\n";
    for (size_t t = 0; t < confusion.size(); ++t) {
        out += csvField(className(*this, static_cast<int>(t)));
        for (int64_t v : confusion[t])
            out += "," + std::to_string(v);
        out += "\n";
    }
    return out;
}

} // namespace lightbox::ml
