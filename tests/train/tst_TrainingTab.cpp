// The training tab, driven through its widgets under the offscreen platform: a short cnn5
// run on a synthetic two-class folder grows the curves while it runs, Pause freezes the
// progress and Resume continues it, the end shows an evaluation, and the GUI event loop
// never stalls for long. A data set that does not exist, or is no data set, only shows an
// error.
// Over 600 lines: the functions share the window and the synthetic data set it trains on.

#include "../StallMeter.h"
#include "SyntheticDataset.h"

#include <EvaluationView.h>
#include <TrainingTab.h>

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTimer>
#include <data/TaskPreset.h>
#include <jobs/TrainingWorker.h>
#include <ml/Bundle.h>
#include <ml/Runtime.h>

#include <QtTest>

#include <qcustomplot.h>

#include <cmath>

using namespace lightbox;

namespace {

void configure(ui::TrainingTab& tab, const QString& data, const QString& runDir, int epochs, int batch)
{
    tab.dataPathEdit()->clear();
    QTest::keyClicks(tab.dataPathEdit(), data);
    tab.presetCombo()->setCurrentIndex(0); // custom: the folder names are the classes
    tab.architectureCombo()->setCurrentIndex(tab.architectureCombo()->findText("cnn5"));
    tab.sizeSpin()->setValue(32);
    tab.channelsCombo()->setCurrentIndex(tab.channelsCombo()->findData(1));
    tab.epochsSpin()->setValue(epochs);
    tab.batchSpin()->setValue(batch);
    tab.patienceSpin()->setValue(0);
    tab.augmentCombo()->setCurrentIndex(tab.augmentCombo()->findText("none"));
    tab.deviceCombo()->setCurrentIndex(tab.deviceCombo()->findText("cpu"));
    tab.runDirEdit()->clear();
    QTest::keyClicks(tab.runDirEdit(), runDir);
}

} // namespace

class TstTrainingTab : public QObject {
    Q_OBJECT

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_data = m_tmp.filePath("squares");
        QVERIFY(test::makeSquaresDataset(m_data, 20));
    }

    /// The shipped knee model's evaluation on its val split: the view shows the calibration error
    /// before and after its temperature and draws both reliability diagrams; the figures match
    /// the card's. With LIGHTBOX_SCREENSHOT_DIR set, saves evaluation-reliability-knee.png.
    void reliabilityDiagramOfTheShippedKneeModel()
    {
        const std::string model = LIGHTBOX_SOURCE_DIR "/models/knee-kl-resnet10s.lbx";
        const QString data = LIGHTBOX_SHARED_DATA "/knee-kl";
        if (!QFileInfo::exists(data))
            QSKIP("the shared knee data is missing");
        auto card = ml::readModelCard(model);
        QVERIFY(card.ok());
        if (card->temperature == 1.0)
            QSKIP("the shipped knee model has no temperature yet");
        const data::TaskPreset* preset = data::findTaskPreset("knee-kl");
        auto dataset = data::loadDataset(data.toStdString(), jobs::datasetOptionsForModel(preset, card.value()));
        QVERIFY(dataset.ok());
        data::SplitOptions so;
        so.seed = 7;
        data::assignSplits(dataset.value(), so);
        auto r = jobs::evaluateBundle(model, dataset.value(), data::Split::Val, "cpu", 1, 64);
        QVERIFY2(r.ok(), r.ok() ? "" : r.error().c_str());
        const ml::ClassificationReport& rep = r->report;
        QCOMPARE(rep.temperature, card->temperature);
        QCOMPARE(static_cast<int>(rep.calibration.bins.size()), 15);
        QVERIFY(std::abs(rep.calibration.ece - card->metrics.at("val_ece")) < 1e-6);
        QVERIFY(std::abs(rep.uncalibrated.ece - card->metrics.at("val_ece_uncalibrated")) < 1e-6);
        QCOMPARE(r->oodMethod, std::string("mahalanobis"));
        QVERIFY(r->oodFlaggedShare() < 0.05);

        ui::EvaluationView view;
        view.resize(1280, 720);
        view.show();
        view.setReport(rep, QStringLiteral("knee-kl-resnet10s.lbx on the val split of ../shared/data/knee-kl"));
        QVERIFY(view.summaryText().contains(QStringLiteral("ECE")));
        QVERIFY(view.summaryText().contains(QStringLiteral("temperature")));
        QCOMPARE(view.reliabilityPlot()->plottableCount(), 3); // the diagonal, before and after the temperature
        if (const QString out = qEnvironmentVariable("LIGHTBOX_SCREENSHOT_DIR"); !out.isEmpty()) {
            QTest::qWait(100); // layout and the queued replots
            for (QCustomPlot* plot : view.findChildren<QCustomPlot*>())
                plot->replot();
            QVERIFY(view.grab().save(QDir(out).filePath("evaluation-reliability-knee.png")));
        }
    }

    void trainPauseResumeEvaluate()
    {
        ui::TrainingTab tab;
        tab.setInteractive(false);
        tab.resize(1280, 820);
        tab.show();
        QVERIFY(QTest::qWaitForWindowExposed(&tab)); // the window's first paint is not part of the run
        const QString runDir = m_tmp.filePath("run-gui");
        configure(tab, m_data, runDir, 3, 4);

        // What the widgets say is what runs.
        const jobs::TrainingRequest req = tab.request();
        QCOMPARE(QString::fromStdString(req.config.architecture), QString("cnn5"));
        QCOMPARE(req.config.preprocess.width, 32);
        QCOMPARE(req.config.preprocess.channels, 1);
        QCOMPARE(req.config.epochs, 3);
        QCOMPARE(QString::fromStdString(req.config.runDir), runDir);
        QVERIFY(!req.config.mixedPrecision);

        // Mixed precision can be ticked on the CPU only where it computes bfloat16 in hardware.
        auto* mixed = tab.findChild<QCheckBox*>(QStringLiteral("mixedPrecision"));
        QVERIFY(mixed);
        QCOMPARE(mixed->isEnabled(), ml::cpuHasFastBFloat16());
        mixed->setChecked(true);
        QCOMPARE(tab.request().config.mixedPrecision, ml::cpuHasFastBFloat16());
        mixed->setChecked(false);
        tab.ordinalSigmaSpin()->setValue(0.5);
        QCOMPARE(tab.request().config.ordinalSigma, 0.5);
        tab.ordinalSigmaSpin()->setValue(0.0);
        QCOMPARE(tab.request().config.ordinalSigma, 0.0);
        auto* head = tab.findChild<QComboBox*>(QStringLiteral("headCombo"));
        QVERIFY(head);
        QCOMPARE(QString::fromStdString(tab.request().config.head), QString("softmax"));
        head->setCurrentIndex(head->findData(QStringLiteral("corn")));
        QCOMPARE(QString::fromStdString(tab.request().config.head), QString("corn"));
        head->setCurrentIndex(head->findData(QStringLiteral("softmax")));

        QSignalSpy started(&tab, &ui::TrainingTab::trainingStarted);
        QSignalSpy batches(&tab, &ui::TrainingTab::batchShown);
        QSignalSpy epochs(&tab, &ui::TrainingTab::epochShown);
        QSignalSpy finished(&tab, &ui::TrainingTab::trainingFinished);

        // Looked up each time: starting a run rebuilds the plots' graphs, so a pointer taken
        // before the click would dangle.
        auto batchLoss = [&tab] { return tab.batchPlot()->graph(0); };
        bool pausedOnce = false;
        int lossPointsAtFirstEpoch = -1;
        bool runningAtFirstEpoch = false;
        // Pause as soon as the first batch is on the plot, while the run is surely going on.
        connect(&tab, &ui::TrainingTab::batchShown, this, [&] {
            if (!pausedOnce) {
                pausedOnce = true;
                QTest::mouseClick(tab.pauseButton(), Qt::LeftButton);
            }
        });
        connect(&tab, &ui::TrainingTab::epochShown, this, [&](int epoch) {
            if (epoch == 0) {
                lossPointsAtFirstEpoch = tab.lossPlot()->graph(0)->dataCount();
                runningAtFirstEpoch = tab.isRunning();
            }
        });

        test::StallMeter stall;
        QElapsedTimer clock;
        clock.start();
        QTest::mouseClick(tab.trainButton(), Qt::LeftButton);
        QCOMPARE(started.count(), 1);
        QVERIFY(tab.isRunning());
        tab.viewTabs()->setCurrentIndex(1); // the data view, so that its plot and gallery are drawn
        QVERIFY(!tab.trainButton()->isEnabled());
        QVERIFY(!tab.architectureCombo()->isEnabled());

        QTRY_VERIFY_WITH_TIMEOUT(pausedOnce, 45000);
        QVERIFY(tab.isPaused());
        QCOMPARE(tab.pauseButton()->text(), QString("Resume"));
        QVERIFY(batchLoss()->dataCount() >= 1);
        QVERIFY(tab.progressBar()->value() >= 1);

        // Paused: once the batch in flight is on the plot (a batch can take a second on a
        // loaded machine, so wait for 1.5 s without a new point), nothing moves. A pause that does not hold lets the
        // short run finish instead.
        int settled = batchLoss()->dataCount();
        for (int quiet = 0, i = 0; quiet < 15 && i < 300; ++i) {
            QTest::qWait(100);
            quiet = batchLoss()->dataCount() == settled ? quiet + 1 : 0;
            settled = batchLoss()->dataCount();
        }
        const int frozenPoints = batchLoss()->dataCount();
        const int frozenProgress = tab.progressBar()->value();
        QTest::qWait(1500);
        QCOMPARE(batchLoss()->dataCount(), frozenPoints);
        QCOMPARE(tab.progressBar()->value(), frozenProgress);
        QVERIFY(tab.isRunning());
        QCOMPARE(finished.count(), 0);

        // Resume: the curves grow again.
        QTest::mouseClick(tab.pauseButton(), Qt::LeftButton);
        QVERIFY(!tab.isPaused());
        QTRY_VERIFY_WITH_TIMEOUT(batchLoss()->dataCount() > frozenPoints, 20000);

        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        const double seconds = clock.elapsed() / 1000.0;
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(tab.errorText()));
        QVERIFY(!tab.isRunning());
        QVERIFY(tab.trainButton()->isEnabled());

        // The per-epoch curves gained their points while the run was going on.
        QVERIFY(runningAtFirstEpoch);
        QCOMPARE(lossPointsAtFirstEpoch, 1);
        QCOMPARE(epochs.count(), 3);
        QCOMPARE(tab.lossPlot()->graph(0)->dataCount(), 3);
        QCOMPARE(tab.lossPlot()->graph(1)->dataCount(), 3); // val loss
        QCOMPARE(tab.accuracyPlot()->graph(0)->dataCount(), 3);
        QCOMPARE(tab.accuracyPlot()->graph(1)->dataCount(), 3);
        QVERIFY(tab.batchPlot()->graph(1)->dataCount() == batchLoss()->dataCount()); // smoothed
        QVERIFY(tab.batchPlot()->graph(2)->dataCount() >= 1);                        // learning rate
        QVERIFY(batchLoss()->dataCount() >= 3);
        QCOMPARE(tab.progressBar()->value(), tab.progressBar()->maximum());

        // Data view: two classes over three splits, and the leakage check ran.
        QVERIFY(tab.countsPlot()->plottableCount() == 3);
        QVERIFY(tab.statsLabel()->text().contains("40 images"));
        QVERIFY(tab.leakageText()->toPlainText().contains("Leakage", Qt::CaseInsensitive));
        int thumbnails = 0;
        for (const QLabel* l : tab.sampleGallery()->findChildren<QLabel*>())
            thumbnails += l->pixmap().isNull() ? 0 : 1;
        QCOMPARE(thumbnails, 2 * 4 * 2); // two classes, four samples, as stored and augmented

        // The evaluation on the held-out split.
        ui::EvaluationView* ev = tab.evaluationView();
        QVERIFY(ev->hasReport());
        QCOMPARE(tab.viewTabs()->currentWidget(), static_cast<QWidget*>(ev));
        QVERIFY(ev->summaryText().startsWith("Accuracy"));
        QCOMPARE(ev->report().numClasses, 2);
        QVERIFY(ev->report().samples >= 2);
        QVERIFY(ev->report().accuracy >= 0.0 && ev->report().accuracy <= 1.0);
        QCOMPARE(ev->classTable()->rowCount(), 2);
        QVERIFY(ev->confusionPlot()->plottableCount() == 1);
        for (const char* f : {"report.json", "per_class.csv", "confusion.csv", "confusion.png", "roc.png",
                              "distribution.png", "metrics.csv", "best.lbx", "config.json"})
            QVERIFY2(QFileInfo(QDir(runDir).filePath(f)).size() > 0, f);

        const QString exportDir = m_tmp.filePath("export");
        QCOMPARE(ev->exportData(exportDir).size(), 3);
        QCOMPARE(ev->exportPlots(exportDir).size(), 4);
        QVERIFY(QFileInfo(QDir(exportDir).filePath("reliability.png")).size() > 0);
        QFile exported(QDir(exportDir).filePath("report.json"));
        QVERIFY(exported.open(QIODevice::ReadOnly));
        const QJsonObject exportedReport = QJsonDocument::fromJson(exported.readAll()).object();
        QCOMPARE(exportedReport["accuracy"].toDouble(-1), ev->report().accuracy);
        // Calibration: the ECE over 15 bins, shown in the summary and drawn as a reliability diagram.
        QCOMPARE(exportedReport["reliability"].toArray().size(), 15);
        QVERIFY(std::abs(exportedReport["ece"].toDouble(-1) - ev->report().calibration.ece) < 1e-9);
        QVERIFY(ev->report().calibration.ece >= 0.0 && ev->report().calibration.ece <= 1.0);
        QVERIFY2(ev->summaryText().contains("ECE"), qPrintable(ev->summaryText()));
        QCOMPARE(ev->reliabilityPlot()->plottableCount(), 2); // the diagonal and the bins

        // The runs table lists the run, with the epoch the trainer kept as best.lbx.
        QVERIFY(tab.runsTable()->rowCount() >= 1);
        auto history = jobs::readMetricsCsv(QDir(runDir).filePath("metrics.csv").toStdString());
        QVERIFY(history && history->size() == 3);
        int kept = -1;
        for (const auto& e : history.value())
            if (e.best)
                kept = e.epoch;
        QVERIFY(kept >= 0);
        int row = -1;
        for (int r = 0; r < tab.runsTable()->rowCount(); ++r)
            if (tab.runsTable()->item(r, 0)->data(Qt::UserRole).toString() == runDir)
                row = r;
        QVERIFY(row >= 0);
        QCOMPARE(tab.runsTable()->item(row, 4)->data(Qt::DisplayRole).toInt(), kept + 1);
        QCOMPARE(tab.runsTable()->item(row, 1)->text(), QString("cnn5"));
        QVERIFY(tab.overlayRun(runDir));
        QCOMPARE(tab.lossPlot()->graphCount(), 4);

        qInfo("training tab: 3 epochs of cnn5 (32 px, 32 training images) in %.1f s with a pause; longest GUI "
              "event-loop stall %lld ms (%lld ms on the clock, waits for a CPU included)",
              seconds, static_cast<long long>(stall.maxStallMs()), static_cast<long long>(stall.maxGapMs()));
        // The data view, the plots and the evaluation at the end draw one plot per turn of the
        // event loop (10-20 ms each) and write their files in the background.
        QVERIFY2(stall.maxStallMs() < 50 * LIGHTBOX_TIME_FACTOR,
                 qPrintable(QString("GUI stalled %1 ms").arg(stall.maxStallMs())));
    }

    void stopAndResumeRun()
    {
        ui::TrainingTab tab;
        tab.setInteractive(false);
        tab.show();
        const QString runDir = m_tmp.filePath("run-stop");
        configure(tab, m_data, runDir, 6, 8);
        connect(&tab, &ui::TrainingTab::epochShown, this, [&](int epoch) {
            if (epoch == 0 && tab.stopButton()->isEnabled())
                QTest::mouseClick(tab.stopButton(), Qt::LeftButton);
        });
        QSignalSpy finished(&tab, &ui::TrainingTab::trainingFinished);
        QTest::mouseClick(tab.trainButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QVERIFY(finished.at(0).at(0).toBool());
        QVERIFY2(tab.statusText().startsWith("Stopped"), qPrintable(tab.statusText()));
        QVERIFY(!tab.evaluationView()->hasReport()); // a stopped run is not evaluated
        const int done = tab.lossPlot()->graph(0)->dataCount();
        QVERIFY2(done >= 1 && done < 6, qPrintable(QString::number(done)));

        // Resume from the folder: the finished epochs come back on the plot, then the rest.
        disconnect(&tab, &ui::TrainingTab::epochShown, this, nullptr);
        QSignalSpy epochs(&tab, &ui::TrainingTab::epochShown);
        QVERIFY2(tab.resumeRun(runDir), qPrintable(tab.errorText()));
        QCOMPARE(tab.lossPlot()->graph(0)->dataCount(), done);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 2, 60000);
        QVERIFY2(finished.at(1).at(0).toBool(), qPrintable(tab.errorText()));
        QCOMPARE(epochs.count(), 6 - done);
        QCOMPARE(epochs.first().at(0).toInt(), done); // continues with the next epoch
        QCOMPARE(tab.lossPlot()->graph(0)->dataCount(), 6);
        QVERIFY(tab.evaluationView()->hasReport());
    }

    /// Two processes from the tab: this one is rank 0 (the curves come from it), the other a
    /// lightbox-cli rank; run.json records the world size, the runs table shows it, and the
    /// epochs are those of the whole data set.
    void twoProcesses()
    {
        qputenv("LIGHTBOX_CLI", LIGHTBOX_BINARY_DIR "/app/lightbox-cli");
        ui::TrainingTab tab;
        tab.setInteractive(false);
        tab.show();
        const QString runDir = m_tmp.filePath("run-two-processes");
        configure(tab, m_data, runDir, 2, 4);
        tab.processesSpin()->setValue(2);
        QSignalSpy finished(&tab, &ui::TrainingTab::trainingFinished);
        QSignalSpy epochs(&tab, &ui::TrainingTab::epochShown);
        QTest::mouseClick(tab.trainButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000 * LIGHTBOX_TIME_FACTOR);
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(tab.errorText()));
        QCOMPARE(epochs.count(), 2);
        QFile runJson(runDir + "/run.json");
        QVERIFY(runJson.open(QIODevice::ReadOnly));
        QCOMPARE(QJsonDocument::fromJson(runJson.readAll()).object().value("worldSize").toInt(), 2);
        QFile metrics(runDir + "/metrics.csv");
        QVERIFY(metrics.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(metrics.readAll()).trimmed().split('\n').size(), 3); // header and 2 epochs
        QVERIFY2(tab.logText().contains("rank 0 of 2"), qPrintable(tab.logText().right(2000)));
        auto info = jobs::readRunFolder(runDir.toStdString());
        QVERIFY(info);
        QCOMPARE(info->worldSize, 2);
        QVERIFY(tab.evaluationView()->hasReport());
        QVERIFY(!tab.processesSpin()->isEnabled() == tab.isRunning());
    }

    void missingDataset()
    {
        ui::TrainingTab tab;
        tab.setInteractive(false);
        tab.show();
        configure(tab, m_tmp.filePath("no-such-folder"), m_tmp.filePath("run-missing"), 1, 4);
        QTest::mouseClick(tab.trainButton(), Qt::LeftButton);
        QVERIFY(!tab.isRunning());
        QVERIFY2(tab.errorText().contains("does not exist"), qPrintable(tab.errorText()));
        QCOMPARE(tab.statusText(), tab.errorText());

        // A folder that exists but holds no classes fails in the worker, and says so.
        const QString empty = m_tmp.filePath("empty");
        QVERIFY(QDir().mkpath(empty));
        configure(tab, empty, m_tmp.filePath("run-empty"), 1, 4);
        QSignalSpy finished(&tab, &ui::TrainingTab::trainingFinished);
        QTest::mouseClick(tab.trainButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 20000);
        QCOMPARE(finished.at(0).at(0).toBool(), false);
        QVERIFY(!tab.errorText().isEmpty());
        QTRY_VERIFY(!tab.isRunning());
        QVERIFY(tab.trainButton()->isEnabled());
        qInfo("error shown: %s", qPrintable(tab.errorText()));
    }

    /// A task class without images: the tab asks before training. Cancel trains nothing;
    /// "Train on 3 classes" trains the others and the model's card says what it does not cover.
    void emptyClassDialog()
    {
        const QString data = m_tmp.filePath("chest3");
        QVERIFY(test::makeSquaresDataset(m_tmp.filePath("sq-a"), 10));
        QVERIFY(test::makeSquaresDataset(m_tmp.filePath("sq-b"), 10, 48, 5));
        QVERIFY(QDir().mkpath(data));
        QVERIFY(QDir().rename(m_tmp.filePath("sq-a/left"), data + "/normal"));
        QVERIFY(QDir().rename(m_tmp.filePath("sq-a/right"), data + "/pneumonia"));
        QVERIFY(QDir().rename(m_tmp.filePath("sq-b/left"), data + "/covid19"));

        ui::TrainingTab tab;
        tab.setInteractive(false);
        tab.show();
        const QString runDir = m_tmp.filePath("run-chest3");
        configure(tab, data, runDir, 1, 4);
        const int preset = tab.presetCombo()->findData(QStringLiteral("chest-4class"));
        QVERIFY(preset >= 0);
        tab.presetCombo()->setCurrentIndex(preset);
        tab.architectureCombo()->setCurrentIndex(tab.architectureCombo()->findText("cnn5"));
        tab.sizeSpin()->setValue(32);
        tab.augmentCombo()->setCurrentIndex(tab.augmentCombo()->findText("none"));

        // Answers the dialog when it opens: the named button, or Cancel.
        QString asked;
        auto answer = [&](const QString& buttonName) {
            auto* poll = new QTimer(&tab);
            connect(poll, &QTimer::timeout, poll, [&asked, poll, buttonName] {
                auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget());
                if (!box || box->objectName() != QLatin1String("emptyClassDialog"))
                    return;
                asked = box->text() + " " + box->informativeText();
                QAbstractButton* b = buttonName.isEmpty() ? box->button(QMessageBox::Cancel)
                                                          : box->findChild<QAbstractButton*>(buttonName);
                if (b)
                    b->click();
                poll->deleteLater();
            });
            poll->start(20);
        };

        answer(QString());
        QTest::mouseClick(tab.trainButton(), Qt::LeftButton);
        QVERIFY2(asked.contains("no images of Tuberculosis"), qPrintable(asked));
        QVERIFY2(asked.contains("3 classes"), qPrintable(asked));
        QVERIFY(!tab.isRunning());
        QVERIFY(!QFileInfo::exists(runDir));

        asked.clear();
        QSignalSpy finished(&tab, &ui::TrainingTab::trainingFinished);
        answer(QStringLiteral("trainPresentClasses"));
        QTest::mouseClick(tab.trainButton(), Qt::LeftButton);
        QVERIFY(!asked.isEmpty());
        QVERIFY(tab.isRunning());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 60000);
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(tab.errorText()));
        auto model = ml::loadModel((runDir + "/best.lbx").toStdString());
        QVERIFY2(model, model ? "" : model.error().c_str());
        QCOMPARE(model->card.classNames, (std::vector<std::string>{"Normal", "Pneumonia", "COVID-19"}));
        QCOMPARE(model->card.notCovered, std::vector<std::string>{"Tuberculosis"});
        QTRY_VERIFY(!tab.isRunning());
    }

    /// Ticked, the shortcut check runs before training and its result shows in the data view,
    /// beside the leakage check.
    void shortcutCheckShowsBesideLeakage()
    {
        ui::TrainingTab tab;
        tab.setInteractive(false);
        tab.show();
        const QString runDir = m_tmp.filePath("run-shortcut");
        configure(tab, m_data, runDir, 1, 8);
        QVERIFY(tab.shortcutText()->toPlainText().isEmpty());
        tab.shortcutCheckBox()->setChecked(true);
        QVERIFY(tab.request().checkShortcut);
        QSignalSpy finished(&tab, &ui::TrainingTab::trainingFinished);
        QTest::mouseClick(tab.trainButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(tab.errorText()));
        const QString text = tab.shortcutText()->toPlainText();
        qInfo("%s", qPrintable(text));
        QVERIFY2(text.contains("balanced accuracy") && text.contains("chance 0.50"), qPrintable(text));
        QVERIFY(text.contains("left: recall") && text.contains("right: recall"));
        QVERIFY(!tab.leakageText()->toPlainText().isEmpty());
        auto model = ml::loadModel((runDir + "/best.lbx").toStdString());
        QVERIFY(model);
        QVERIFY(model->card.metrics.count("shortcut_balanced_accuracy"));
        QCOMPARE(model->card.metrics.at("shortcut_chance"), 0.5);
        if (const QString out = qEnvironmentVariable("LIGHTBOX_SCREENSHOT_DIR"); !out.isEmpty()) {
            tab.resize(1280, 820);
            tab.viewTabs()->setCurrentIndex(1); // Data
            QTest::qWait(200);
            QVERIFY(tab.grab().save(out + "/training-shortcut.png"));
        }
    }

    /// With LIGHTBOX_SCREENSHOT_DIR set: the real chest-4class data with its empty class and
    /// the shortcut check ticked; saves the data view (training-shortcut-chest.png).
    void shortcutScreenshotOnChest()
    {
        const QString out = qEnvironmentVariable("LIGHTBOX_SCREENSHOT_DIR");
        const QString data = QStringLiteral(LIGHTBOX_SHARED_DATA "/chest-4class");
        if (out.isEmpty() || !QFileInfo::exists(data))
            QSKIP("set LIGHTBOX_SCREENSHOT_DIR (and have the shared chest-4class data) to render it");
        ui::TrainingTab tab;
        tab.setInteractive(false);
        tab.resize(1400, 900);
        tab.show();
        const QString runDir = m_tmp.filePath("run-chest-shot");
        configure(tab, data, runDir, 1, 32);
        tab.presetCombo()->setCurrentIndex(tab.presetCombo()->findData(QStringLiteral("chest-4class")));
        tab.architectureCombo()->setCurrentIndex(tab.architectureCombo()->findText("cnn5"));
        tab.sizeSpin()->setValue(64);
        tab.shortcutCheckBox()->setChecked(true);
        auto* poll = new QTimer(&tab);
        connect(poll, &QTimer::timeout, poll, [poll] {
            if (auto* box = qobject_cast<QMessageBox*>(QApplication::activeModalWidget())) {
                if (auto* b = box->findChild<QAbstractButton*>(QStringLiteral("trainPresentClasses")))
                    b->click();
                poll->deleteLater();
            }
        });
        poll->start(20);
        QSignalSpy finished(&tab, &ui::TrainingTab::trainingFinished);
        QTest::mouseClick(tab.trainButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 600000);
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(tab.errorText()));
        tab.viewTabs()->setCurrentIndex(1);
        QTest::qWait(300);
        QVERIFY(tab.grab().save(out + "/training-shortcut-chest.png"));
        qInfo("%s", qPrintable(tab.shortcutText()->toPlainText()));
    }

    /// With the Custom task, a data set whose path or class folders name a task selects that
    /// preset and says why; a chosen task stays.
    void dataSetChoosesItsTask()
    {
        ui::TrainingTab tab;
        tab.setInteractive(false);
        tab.show();
        const QString kermany = m_tmp.filePath("chest_xray");
        QVERIFY(QDir().mkpath(kermany + "/train/NORMAL") && QDir().mkpath(kermany + "/train/PNEUMONIA"));
        tab.presetCombo()->setCurrentIndex(0);
        tab.dataPathEdit()->setText(kermany);
        emit tab.dataPathEdit()->editingFinished();
        QCOMPARE(tab.presetCombo()->currentData().toString(), QString("chest-pneumonia"));
        QCOMPARE(QString::fromStdString(tab.request().presetId), QString("chest-pneumonia"));
        QVERIFY2(tab.presetNoteText().contains("NORMAL, PNEUMONIA"), qPrintable(tab.presetNoteText()));
        // A task chosen by hand is not overridden.
        const int knee = tab.presetCombo()->findData(QStringLiteral("knee-kl"));
        tab.presetCombo()->setCurrentIndex(knee);
        emit tab.dataPathEdit()->editingFinished();
        QCOMPARE(tab.presetCombo()->currentIndex(), knee);
        // Nothing to go by: Custom stays.
        tab.presetCombo()->setCurrentIndex(0);
        tab.dataPathEdit()->setText(m_data);
        emit tab.dataPathEdit()->editingFinished();
        QCOMPARE(tab.presetCombo()->currentIndex(), 0);
        const QString hand = QStringLiteral(LIGHTBOX_SHARED_DATA "/hand-sex/boneage.csv");
        if (QFileInfo::exists(hand)) {
            tab.dataPathEdit()->setText(hand);
            emit tab.dataPathEdit()->editingFinished();
            QCOMPARE(tab.presetCombo()->currentData().toString(), QString("hand-sex"));
        }
    }

    void fitsSmallWindows()
    {
        // The main window's --screenshot renders 1000 x 700 with the docks: the tab must not
        // force it wider.
        ui::TrainingTab tab;
        const QSize min = tab.minimumSizeHint();
        qInfo("minimum size %d x %d", min.width(), min.height());
        QVERIFY(min.width() <= 640);
        QVERIFY(min.height() <= 560);
    }

    void resumeFolderThatIsNoRun()
    {
        ui::TrainingTab tab;
        tab.setInteractive(false);
        QVERIFY(!tab.resumeRun(m_tmp.filePath("empty")));
        QVERIFY(!tab.errorText().isEmpty());
        QVERIFY(!tab.isRunning());
    }

    /// Real radiographs: a run on a slice of the shared knee data (five grades, 20 training
    /// images each, 224 px files) with the data view and its gallery shown while it runs, then
    /// the evaluation. The GUI thread never stalls for 50 ms.
    void kneeSliceRunKeepsTheGuiResponsive()
    {
        if (!QDir(QStringLiteral(LIGHTBOX_SHARED_DATA "/knee-kl")).exists("train/0"))
            QSKIP("no knee-kl data");
        const QString slice = m_tmp.filePath("knee-slice-stall");
        QVERIFY(makeKneeSlice(slice, 20));
        ui::TrainingTab tab;
        tab.setInteractive(false);
        tab.resize(1400, 860);
        tab.show();
        QVERIFY(QTest::qWaitForWindowExposed(&tab));
        configure(tab, slice, m_tmp.filePath("run-knee-stall"), 2, 16);
        tab.presetCombo()->setCurrentIndex(tab.presetCombo()->findData(QString("knee-kl")));
        tab.architectureCombo()->setCurrentIndex(tab.architectureCombo()->findText("cnn5"));
        tab.sizeSpin()->setValue(64);
        tab.augmentCombo()->setCurrentIndex(tab.augmentCombo()->findText("none"));
        QSignalSpy finished(&tab, &ui::TrainingTab::trainingFinished);
        QSignalSpy epochs(&tab, &ui::TrainingTab::epochShown);
        test::StallMeter stall;
        QElapsedTimer clock;
        clock.start();
        QTest::mouseClick(tab.trainButton(), Qt::LeftButton);
        QVERIFY(tab.isRunning());
        tab.viewTabs()->setCurrentIndex(1); // the data view: counts plot and gallery
        QTRY_VERIFY_WITH_TIMEOUT(epochs.count() >= 1, 120000);
        tab.viewTabs()->setCurrentIndex(0); // the curves
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 120000);
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(tab.errorText()));
        QTest::qWait(200); // the evaluation's plots, drawn one per turn of the event loop
        QVERIFY(tab.evaluationView()->hasReport());
        int thumbnails = 0;
        for (const QLabel* l : tab.sampleGallery()->findChildren<QLabel*>())
            thumbnails += l->pixmap().isNull() ? 0 : 1;
        QCOMPARE(thumbnails, 5 * 4 * 2); // five grades, four samples, as stored and augmented
        qInfo("knee slice (100 training images, 64 px): %.1f s; longest GUI event-loop stall %lld ms (%lld ms on "
              "the clock, waits for a CPU included)",
              clock.elapsed() / 1000.0, static_cast<long long>(stall.maxStallMs()),
              static_cast<long long>(stall.maxGapMs()));
        QVERIFY2(stall.maxStallMs() < 50 * LIGHTBOX_TIME_FACTOR,
                 qPrintable(QString("GUI stalled %1 ms").arg(stall.maxStallMs())));
    }

    /// With LIGHTBOX_SCREENSHOT_DIR set: trains on a slice of the knee set and saves the tab
    /// mid-run (training-live.png) and its evaluation (training-report.png) there.
    void screenshots()
    {
        const QString out = qEnvironmentVariable("LIGHTBOX_SCREENSHOT_DIR");
        if (out.isEmpty())
            QSKIP("set LIGHTBOX_SCREENSHOT_DIR to render the screenshots");
        if (!QDir(QStringLiteral(LIGHTBOX_SHARED_DATA "/knee-kl")).exists("train/0"))
            QSKIP("no knee-kl data");
        const int perClass = qEnvironmentVariableIntValue("LIGHTBOX_SCREENSHOT_PER_CLASS") > 0
                                 ? qEnvironmentVariableIntValue("LIGHTBOX_SCREENSHOT_PER_CLASS")
                                 : 60;
        const QString slice = m_tmp.filePath("knee-slice");
        QVERIFY(makeKneeSlice(slice, perClass));
        ui::TrainingTab tab;
        tab.setInteractive(false);
        tab.resize(1400, 860);
        tab.show();
        tab.presetCombo()->setCurrentIndex(tab.presetCombo()->findData(QString("knee-kl")));
        QTest::keyClicks(tab.dataPathEdit(), slice);
        tab.architectureCombo()->setCurrentIndex(tab.architectureCombo()->findText("cnn5"));
        tab.sizeSpin()->setValue(64);
        tab.epochsSpin()->setValue(10);
        tab.batchSpin()->setValue(16);
        tab.patienceSpin()->setValue(0);
        tab.learningRateSpin()->setValue(0.002);
        tab.deviceCombo()->setCurrentIndex(tab.deviceCombo()->findText("cpu"));
        if (auto* mixed = tab.findChild<QCheckBox*>(QStringLiteral("mixedPrecision")); mixed && mixed->isEnabled())
            mixed->setChecked(true);
        QTest::keyClicks(tab.runDirEdit(), m_tmp.filePath("runs/knee-cnn5-64px"));
        QSignalSpy finished(&tab, &ui::TrainingTab::trainingFinished);
        bool grabbed = false;
        connect(&tab, &ui::TrainingTab::batchShown, this, [&](int epoch, int batch) {
            if (!grabbed && epoch == 6 && batch >= 6) {
                grabbed = true;
                QApplication::processEvents();
                tab.lossPlot()->replot();
                tab.accuracyPlot()->replot();
                tab.batchPlot()->replot();
                QVERIFY(tab.grab().save(out + "/training-live.png"));
            }
        });
        test::StallMeter stall;
        QElapsedTimer clock;
        clock.start();
        QTest::mouseClick(tab.trainButton(), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 600000);
        QVERIFY2(finished.at(0).at(0).toBool(), qPrintable(tab.errorText()));
        QVERIFY(grabbed);
        qInfo("knee slice: %.1f s for the run; longest GUI event-loop stall %lld ms (grabs included)",
              clock.elapsed() / 1000.0, static_cast<long long>(stall.maxStallMs()));
        QTest::qWait(200);
        QVERIFY(tab.grab().save(out + "/training-report.png"));
        tab.viewTabs()->setCurrentIndex(1);
        QTest::qWait(100);
        QVERIFY(tab.grab().save(out + "/training-data.png"));
        qInfo("evaluation: %s", qPrintable(tab.evaluationView()->summaryText()));
    }

private:
    /// Copies the first `perClass` training and `perClass / 3` validation images of each grade
    /// of the shared knee data into `slice`.
    static bool makeKneeSlice(const QString& slice, int perClass)
    {
        const QDir knee(QStringLiteral(LIGHTBOX_SHARED_DATA "/knee-kl"));
        for (const char* split : {"train", "val"})
            for (int grade = 0; grade < 5; ++grade) {
                const QString from = knee.filePath(QString("%1/%2").arg(split).arg(grade));
                const QString to = QString("%1/%2/%3").arg(slice, split).arg(grade);
                if (!QDir().mkpath(to))
                    return false;
                const int n = std::string(split) == "train" ? perClass : perClass / 3;
                const QStringList files = QDir(from).entryList({"*.png"}, QDir::Files, QDir::Name).mid(0, n);
                for (const QString& f : files)
                    if (!QFile::copy(from + "/" + f, to + "/" + f))
                        return false;
            }
        return true;
    }

    QTemporaryDir m_tmp;
    QString m_data;
};

QTEST_MAIN(TstTrainingTab)
#include "tst_TrainingTab.moc"
