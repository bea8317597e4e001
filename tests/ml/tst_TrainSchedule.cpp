// The trainer's schedules on their own (core/ml/TrainSchedule.cpp, torch-free): cosine rates,
// PyTorch's ReduceLROnPlateau rule, the best epoch for each monitor, and early stopping.
#include <ml/detail/TrainState.h>

#include <QtTest>

#include <cmath>

using namespace lightbox::ml;
using namespace lightbox::ml::detail;

namespace {

EpochMetrics epoch(int e, double valLoss, double valAccuracy = 0.5, double trainLoss = 1.0)
{
    EpochMetrics m;
    m.epoch = e;
    m.trainLoss = trainLoss;
    m.valLoss = valLoss;
    m.valAccuracy = valAccuracy;
    m.valQwk = kNaN;
    return m;
}

} // namespace

class TestTrainSchedule : public QObject {
    Q_OBJECT
private slots:
    void cosineRunsFromTheRateToTheMinimum()
    {
        TrainConfig c;
        c.schedule = "cosine";
        c.epochs = 10;
        c.learningRate = 1e-2;
        c.minLearningRate = 1e-4;
        RunState s;
        QCOMPARE(learningRateForEpoch(s, c, 0), 1e-2);
        QVERIFY(std::abs(learningRateForEpoch(s, c, 5) - (1e-4 + (1e-2 - 1e-4) / 2)) < 1e-12);
        double previous = 1.0;
        for (int e = 0; e < 10; ++e) {
            const double lr = learningRateForEpoch(s, c, e);
            QVERIFY(lr < previous);
            QVERIFY(lr > c.minLearningRate);
            QCOMPARE(s.learningRate, lr);
            previous = lr;
        }
    }

    void plateauLowersAfterThePatience()
    {
        TrainConfig c;
        c.schedule = "plateau";
        c.plateauPatience = 2;
        c.plateauFactor = 0.5;
        c.minLearningRate = 0.2;
        RunState s;
        s.learningRate = 1.0;
        QVERIFY(recordEpoch(s, c, epoch(0, 1.0), true).message.empty());
        // Within PyTorch's relative threshold (1e-4) is not an improvement: bad epochs 1, 2, 3.
        QVERIFY(recordEpoch(s, c, epoch(1, 0.99995), true).message.empty());
        QVERIFY(recordEpoch(s, c, epoch(2, 1.0), true).message.empty());
        QCOMPARE(s.learningRate, 1.0);
        const EpochVerdict v = recordEpoch(s, c, epoch(3, 1.0), true);
        QCOMPARE(s.learningRate, 0.5);
        QVERIFY(v.message.find("epoch 4: learning rate lowered to 0.5") != std::string::npos);
        QCOMPARE(s.plateauBad, 0);
        // Never below the minimum, and no message once there.
        for (int e = 4; e < 7; ++e)
            recordEpoch(s, c, epoch(e, 1.0), true);
        QCOMPARE(s.learningRate, 0.25);
        for (int e = 7; e < 14; ++e)
            recordEpoch(s, c, epoch(e, 1.0), true);
        QCOMPARE(s.learningRate, 0.2);
        // The plateau rule leaves the cosine schedule's rate alone, and vice versa.
        c.schedule = "none";
        s.learningRate = 0.7;
        for (int e = 14; e < 20; ++e)
            recordEpoch(s, c, epoch(e, 1.0), true);
        QCOMPARE(learningRateForEpoch(s, c, 20), 0.7);
    }

    void bestEpochFollowsTheMonitor()
    {
        TrainConfig c;
        c.schedule = "none";
        c.earlyStopPatience = 0;
        RunState byLoss;
        c.monitor = "val_loss";
        QVERIFY(recordEpoch(byLoss, c, epoch(0, 0.9, 0.6), true).best);
        QVERIFY(!recordEpoch(byLoss, c, epoch(1, 1.1, 0.9), true).best);
        QVERIFY(recordEpoch(byLoss, c, epoch(2, 0.5, 0.1), true).best);
        QCOMPARE(byLoss.bestEpoch, 2);
        QCOMPARE(byLoss.bestScore, 0.5);

        RunState byAccuracy;
        c.monitor = "val_accuracy";
        QVERIFY(recordEpoch(byAccuracy, c, epoch(0, 0.9, 0.6), true).best);
        QVERIFY(recordEpoch(byAccuracy, c, epoch(1, 1.1, 0.9), true).best);
        QVERIFY(!recordEpoch(byAccuracy, c, epoch(2, 0.5, 0.1), true).best);
        QCOMPARE(byAccuracy.bestEpoch, 1);
        QCOMPARE(byAccuracy.sinceBest, 1);

        // A NaN score never beats a number; without validation every epoch is the latest best.
        QVERIFY(!recordEpoch(byAccuracy, c, epoch(3, 0.5, kNaN), true).best);
        RunState noVal;
        QVERIFY(recordEpoch(noVal, c, epoch(0, kNaN, kNaN, 2.0), false).best);
        QVERIFY(recordEpoch(noVal, c, epoch(1, kNaN, kNaN, 3.0), false).best);
        QCOMPARE(noVal.bestEpoch, 1);
        QCOMPARE(noVal.bestScore, 3.0);
    }

    void earlyStoppingAfterThePatience()
    {
        TrainConfig c;
        c.schedule = "none";
        c.earlyStopPatience = 2;
        RunState s;
        QVERIFY(!recordEpoch(s, c, epoch(0, 1.0), true).stopEarly);
        QVERIFY(!recordEpoch(s, c, epoch(1, 1.2), true).stopEarly);
        QVERIFY(!recordEpoch(s, c, epoch(2, 0.8), true).stopEarly); // improved: the count starts again
        QVERIFY(!recordEpoch(s, c, epoch(3, 0.9), true).stopEarly);
        const EpochVerdict v = recordEpoch(s, c, epoch(4, 0.9), true);
        QVERIFY(v.stopEarly);
        QVERIFY(s.stoppedEarly);
        QCOMPARE(s.bestEpoch, 2);
        // Without validation data there is nothing to stop on.
        RunState noVal;
        for (int e = 0; e < 5; ++e)
            QVERIFY(!recordEpoch(noVal, c, epoch(e, kNaN, kNaN, 1.0 + e), false).stopEarly);
    }
};

QTEST_APPLESS_MAIN(TestTrainSchedule)
#include "tst_TrainSchedule.moc"
