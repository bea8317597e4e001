// Classification metrics against values worked out by hand (torch-free).
#include <ml/Metrics.h>

#include <QtTest>

#include <cmath>
#include <random>

using namespace lightbox::ml;

class tst_Metrics : public QObject {
    Q_OBJECT
private slots:
    void perClassScores();
    void kappaWorkedExample();
    void kappaExtremes();
    void aucWithTies();
    void aucUndefined();
    void reportHandlesBadInput();
    void exports();
};

namespace {

// Three classes, ten samples:
//   truth     0 0 0 0 1 1 1 2 2 2
//   predicted 0 0 1 2 1 1 0 2 2 1
// confusion [true][predicted] = [[2,1,1],[1,2,0],[0,1,2]]
const std::vector<int64_t> kTruth{0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
const std::vector<int64_t> kPredicted{0, 0, 1, 2, 1, 1, 0, 2, 2, 1};
const std::vector<std::string> kNames{"none", "mild", "severe"};

/// Probabilities whose argmax is `predicted` (0.6 on it, 0.2 elsewhere).
std::vector<std::vector<float>> probabilitiesFor(const std::vector<int64_t>& predicted, int k)
{
    std::vector<std::vector<float>> p;
    for (int64_t c : predicted) {
        std::vector<float> v(static_cast<size_t>(k), 0.4f / (k - 1));
        v[static_cast<size_t>(c)] = 0.6f;
        p.push_back(v);
    }
    return p;
}

} // namespace

void tst_Metrics::perClassScores()
{
    const auto r = computeReport(kTruth, probabilitiesFor(kPredicted, 3), kNames, true);
    QCOMPARE(r.samples, int64_t(10));
    const std::vector<std::vector<int64_t>> confusion{{2, 1, 1}, {1, 2, 0}, {0, 1, 2}};
    QCOMPARE(r.confusion, confusion);
    QCOMPARE(r.trueCounts, (std::vector<int64_t>{4, 3, 3}));
    QCOMPARE(r.predictedCounts, (std::vector<int64_t>{3, 4, 3}));
    QCOMPARE(r.accuracy, 0.6);
    // class 0: precision 2/3, recall 2/4, F1 = 2 * (1/3) / (7/6) = 4/7
    // class 1: precision 2/4, recall 2/3, F1 = 4/7;  class 2: 2/3, 2/3, 2/3
    const double expected[3][3] = {{2.0 / 3, 0.5, 4.0 / 7}, {0.5, 2.0 / 3, 4.0 / 7}, {2.0 / 3, 2.0 / 3, 2.0 / 3}};
    for (int c = 0; c < 3; ++c) {
        QVERIFY(std::abs(r.perClass[c].precision - expected[c][0]) < 1e-12);
        QVERIFY(std::abs(r.perClass[c].recall - expected[c][1]) < 1e-12);
        QVERIFY(std::abs(r.perClass[c].f1 - expected[c][2]) < 1e-12);
        QCOMPARE(r.perClass[c].support, r.trueCounts[c]);
    }
    QVERIFY(std::abs(r.macroF1 - 38.0 / 63) < 1e-12);          // (4/7 + 4/7 + 2/3) / 3
    QVERIFY(std::abs(r.balancedAccuracy - 11.0 / 18) < 1e-12); // (1/2 + 2/3 + 2/3) / 3
    // |error|: 0 0 1 2 0 0 1 0 0 1 -> 5 / 10
    QVERIFY(std::abs(r.meanAbsoluteError - 0.5) < 1e-12);
}

void tst_Metrics::kappaWorkedExample()
{
    // Weights w_ij = (i - j)^2 / (K - 1)^2 = (i - j)^2 / 4.
    // Observed, weighted: (0,1) 1 x 1/4 + (0,2) 1 x 1 + (1,0) 1 x 1/4 + (2,1) 1 x 1/4 = 1.75
    // Expected E_ij = rows_i * cols_j / N with rows 4 3 3, cols 3 4 3, N 10, weighted:
    //   (0,1) 1/4*16/10 = 0.4   (0,2) 1*12/10 = 1.2   (1,0) 1/4*9/10 = 0.225
    //   (1,2) 1/4*9/10 = 0.225  (2,0) 1*9/10 = 0.9    (2,1) 1/4*12/10 = 0.3   sum 3.25
    // kappa = 1 - 1.75 / 3.25 = 6/13
    const double k = quadraticWeightedKappa(kTruth, kPredicted, 3);
    QVERIFY2(std::abs(k - 6.0 / 13) < 1e-12, qPrintable(QString::number(k, 'g', 12)));
    const auto r = computeReport(kTruth, probabilitiesFor(kPredicted, 3), kNames, true);
    QVERIFY(std::abs(r.quadraticKappa - 6.0 / 13) < 1e-12);
}

void tst_Metrics::kappaExtremes()
{
    const std::vector<int64_t> grades{0, 1, 2, 3, 4, 4, 2};
    QCOMPARE(quadraticWeightedKappa(grades, grades, 5), 1.0);

    // Reversed 0..4: observed sum of (2i - 4)^2 / 16 = 2.5; expected: every cell 1/5, sum of
    // (i - j)^2 over 5x5 is 100, /16 /5 = 1.25; kappa = 1 - 2.5 / 1.25 = -1.
    const std::vector<int64_t> up{0, 1, 2, 3, 4}, down{4, 3, 2, 1, 0};
    QVERIFY(std::abs(quadraticWeightedKappa(up, down, 5) + 1.0) < 1e-12);

    std::mt19937 rng(7);
    std::uniform_int_distribution<int> grade(0, 4);
    std::vector<int64_t> a, b;
    for (int i = 0; i < 20000; ++i) {
        a.push_back(grade(rng));
        b.push_back(grade(rng));
    }
    const double chance = quadraticWeightedKappa(a, b, 5);
    QVERIFY2(std::abs(chance) < 0.03, qPrintable(QString::number(chance)));

    // One class everywhere on both sides: kappa is undefined.
    QVERIFY(std::isnan(quadraticWeightedKappa({2, 2, 2}, {2, 2, 2}, 5)));
    QVERIFY(std::isnan(quadraticWeightedKappa({}, {}, 5)));
}

void tst_Metrics::aucWithTies()
{
    // Positives score 0.8 and 0.5, negatives 0.5 and 0.5. Pairs (positive above negative):
    // 0.8 beats both (2), 0.5 ties both (2 x 1/2) -> 3 / 4 = 0.75. Curve: (0,0), (0,0.5) after
    // the 0.8 threshold, then the tied group at 0.5 as one diagonal step to (1,1).
    const auto roc = rocCurve({true, true, false, false}, {0.8, 0.5, 0.5, 0.5});
    QVERIFY2(std::abs(roc.auc - 0.75) < 1e-12, qPrintable(QString::number(roc.auc)));
    QCOMPARE(roc.fpr, (std::vector<double>{0.0, 0.0, 1.0}));
    QCOMPARE(roc.tpr, (std::vector<double>{0.0, 0.5, 1.0}));

    QCOMPARE(rocCurve({true, false}, {0.9, 0.1}).auc, 1.0);
    QCOMPARE(rocCurve({true, false}, {0.1, 0.9}).auc, 0.0);
    QCOMPARE(rocCurve({true, false, true, false}, {0.3, 0.3, 0.3, 0.3}).auc, 0.5);
    // A NaN score ranks lowest: the positive with NaN sits below the negative.
    QCOMPARE(rocCurve({true, false}, {std::nan(""), 0.2}).auc, 0.0);
}

void tst_Metrics::aucUndefined()
{
    QVERIFY(std::isnan(rocCurve({true, true}, {0.2, 0.4}).auc));
    QVERIFY(std::isnan(rocCurve({false, false}, {0.2, 0.4}).auc));
    QVERIFY(rocCurve({false, false}, {0.2, 0.4}).fpr.empty());

    // Class 2 never occurs in the truth: its AUC is NaN and the macro AUC averages the others.
    const std::vector<int64_t> truth{0, 0, 1, 1};
    const std::vector<std::vector<float>> p{
        {0.7f, 0.2f, 0.1f}, {0.5f, 0.3f, 0.2f}, {0.1f, 0.8f, 0.1f}, {0.6f, 0.3f, 0.1f}};
    const auto r = computeReport(truth, p, kNames, false);
    QVERIFY(std::isnan(r.roc[2].auc));
    // class 0: positives 0.7, 0.5 vs negatives 0.1, 0.6 -> (1 + 1 + 1 + 0) / 4 = 0.75
    // class 1: positives 0.8, 0.3 vs negatives 0.2, 0.3 -> (1 + 1 + 1 + 0.5) / 4 = 0.875
    QVERIFY(std::abs(r.roc[0].auc - 0.75) < 1e-12);
    QVERIFY(std::abs(r.roc[1].auc - 0.875) < 1e-12);
    QVERIFY(std::abs(r.macroAuc - 0.8125) < 1e-12);
    // Class 2 was neither true nor predicted: it stays out of the macro F1 and balanced accuracy.
    QCOMPARE(r.perClass[2].support, int64_t(0));
    QCOMPARE(r.perClass[2].precision, 0.0);
    QVERIFY(std::abs(r.balancedAccuracy - (1.0 + 0.5) / 2) < 1e-12);
}

void tst_Metrics::reportHandlesBadInput()
{
    // A label out of range and a probability vector of the wrong length are left out.
    const std::vector<int64_t> truth{0, 7, 1, 1};
    const std::vector<std::vector<float>> p{{0.9f, 0.1f, 0.f}, {0.5f, 0.5f, 0.f}, {0.1f, 0.9f}, {0.2f, 0.8f, 0.f}};
    const auto r = computeReport(truth, p, kNames, false);
    QCOMPARE(r.samples, int64_t(2));
    QCOMPARE(r.accuracy, 1.0);

    const auto empty = computeReport({}, {}, kNames, true);
    QCOMPARE(empty.samples, int64_t(0));
    QVERIFY(std::isnan(empty.accuracy));
    QVERIFY(std::isnan(empty.quadraticKappa));
    QVERIFY(std::isnan(empty.macroAuc));
    QCOMPARE(empty.roc.size(), size_t(3));
    // NaN is written as null, so the JSON stays valid.
    Json parsed;
    std::string error;
    QVERIFY2(Json::parse(empty.toJson().dump(), parsed, error), error.c_str());
    QVERIFY(parsed["accuracy"].isNull());
}

void tst_Metrics::exports()
{
    auto names = kNames;
    names[1] = "mild, \"early\"";
    const auto r = computeReport(kTruth, probabilitiesFor(kPredicted, 3), names, true);

    const std::string perClass = r.perClassCsv();
    QVERIFY(perClass.rfind("class,precision,recall,f1,support\n", 0) == 0);
    QCOMPARE(std::count(perClass.begin(), perClass.end(), '\n'), 4L);
    QVERIFY(perClass.find("\"mild, \"\"early\"\"\",0.5,0.666667,0.571429,3\n") != std::string::npos);

    const std::string confusion = r.confusionCsv();
    QVERIFY(confusion.find("\nnone,2,1,1\n") != std::string::npos);
    QVERIFY(confusion.find("\nsevere,0,1,2\n") != std::string::npos);

    Json j;
    std::string error;
    QVERIFY2(Json::parse(r.toJson().dump(), j, error), error.c_str());
    QCOMPARE(j["accuracy"].toNumber(), 0.6);
    QCOMPARE(j["samples"].toInt(), 10);
    QCOMPARE(j["per_class"].array().size(), size_t(3));
    QCOMPARE(j["per_class"].array()[1]["class"].toString(), names[1]);
    QCOMPARE(j["confusion"].array()[0].array()[2].toInt(), 1);
    QVERIFY(std::abs(j["quadratic_kappa"].toNumber() - 6.0 / 13) < 1e-12);
    QCOMPARE(j["roc"].array()[0]["fpr"].array().front().toNumber(), 0.0);
    QCOMPARE(j["roc"].array()[0]["tpr"].array().back().toNumber(), 1.0);
    QCOMPARE(j["predicted_counts"].array()[1].toInt(), 4);
}

QTEST_APPLESS_MAIN(tst_Metrics)
#include "tst_Metrics.moc"
