#pragma once

#include <jobs/TrainingWorker.h>

#include <QPointer>
#include <QString>
#include <QStringList>
#include <QWidget>

class QCheckBox;
class QComboBox;
class QCustomPlot;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTabWidget;
class QTableWidget;
class QThread;

namespace lightbox::ui {

class EvaluationView;

/// The training tab: pick a data set and a task preset, set the network and the
/// optimisation, press Train and watch the curves grow while a jobs::TrainingWorker runs on
/// its own QThread. Shows the data set (class counts per split, image sizes, the leakage
/// check, random samples per class as stored and augmented), live curves (train/val loss and accuracy per epoch, a
/// smoothed per-batch loss and the learning rate), a progress bar with images per second and time left, the evaluation
/// report when the run ends, and a table comparing run folders; an earlier run's curves can
/// be overlaid. Pause, Resume and Stop act between batches; a stopped run resumes from its
/// folder. The tab never blocks the GUI thread on training work and never shows a modal
/// dialog unless interactive (file pickers only).
class TrainingTab : public QWidget {
    Q_OBJECT
public:
    explicit TrainingTab(QWidget* parent = nullptr);
    ~TrainingTab() override;

    /// The run the widgets describe (nothing checked beyond parsing).
    jobs::TrainingRequest request() const;

    /// What the buttons do. startTraining() and resumeRun() return false, with errorText()
    /// set, when the settings or the folder are unusable; a failure later in the run shows up
    /// through trainingFinished(false) and errorText().
    bool startTraining();
    bool resumeRun(const QString& runDir);
    void togglePause();
    void stopTraining();
    /// Adds an earlier run's per-epoch curves (its metrics.csv) to the plots, dashed.
    bool overlayRun(const QString& runDir);
    void clearOverlays();
    /// Rescans the runs folder (the parent of the run folder) and the folders added by hand.
    void refreshRuns();
    void addRunFolder(const QString& dir);
    /// Applies a task preset id ("" = custom): classes, channels, size, augmentation, network.
    void setPreset(const QString& presetId);

    bool isRunning() const { return m_worker != nullptr; }
    bool isPaused() const { return m_paused; }
    QString statusText() const;
    /// The line under the task picker (the preset's classes and lesson, and why it was chosen).
    QString presetNoteText() const;
    QString errorText() const { return m_error; }
    /// The run's log, as shown under the curves.
    QString logText() const;
    QString currentRunDir() const { return m_runDir; }
    /// Suppresses file dialogs (tests, screenshots).
    void setInteractive(bool on) { m_interactive = on; }

    // The widgets, for tests and screenshots.
    QLineEdit* dataPathEdit() const { return m_dataPath; }
    QComboBox* presetCombo() const { return m_preset; }
    QComboBox* architectureCombo() const { return m_arch; }
    QComboBox* optimizerCombo() const { return m_optimizer; }
    QComboBox* scheduleCombo() const { return m_schedule; }
    QComboBox* augmentCombo() const { return m_augment; }
    QComboBox* deviceCombo() const { return m_device; }
    QComboBox* channelsCombo() const { return m_channels; }
    QSpinBox* sizeSpin() const { return m_size; }
    QSpinBox* batchSpin() const { return m_batch; }
    QSpinBox* epochsSpin() const { return m_epochs; }
    QSpinBox* patienceSpin() const { return m_patience; }
    QSpinBox* seedSpin() const { return m_seed; }
    QSpinBox* threadsSpin() const { return m_threads; }
    QSpinBox* processesSpin() const { return m_processes; }
    QDoubleSpinBox* learningRateSpin() const { return m_lr; }
    QDoubleSpinBox* weightDecaySpin() const { return m_weightDecay; }
    QDoubleSpinBox* labelSmoothingSpin() const { return m_smoothing; }
    QDoubleSpinBox* ordinalSigmaSpin() const { return m_ordinalSigma; }
    QComboBox* headCombo() const { return m_head; }
    QCheckBox* classWeightsCheck() const { return m_classWeights; }
    QCheckBox* balancedCheck() const { return m_balanced; }
    QCheckBox* shortcutCheckBox() const { return m_shortcut; }
    QLineEdit* runDirEdit() const { return m_runDirEdit; }
    QPushButton* trainButton() const { return m_train; }
    QPushButton* pauseButton() const { return m_pause; }
    QPushButton* stopButton() const { return m_stop; }
    QPushButton* resumeButton() const { return m_resumeRun; }
    QCustomPlot* lossPlot() const { return m_lossPlot; }
    QCustomPlot* accuracyPlot() const { return m_accPlot; }
    QCustomPlot* batchPlot() const { return m_batchPlot; }
    QCustomPlot* countsPlot() const { return m_countsPlot; }
    QProgressBar* progressBar() const { return m_progress; }
    QLabel* progressLabel() const { return m_progressLabel; }
    QPlainTextEdit* leakageText() const { return m_leakage; }
    QPlainTextEdit* shortcutText() const { return m_shortcutText; }
    QLabel* statsLabel() const { return m_stats; }
    /// The sample grid of the data view (one QLabel with a pixmap per thumbnail).
    QWidget* sampleGallery() const { return m_gallery; }
    QTableWidget* runsTable() const { return m_runs; }
    EvaluationView* evaluationView() const { return m_evaluation; }
    QTabWidget* viewTabs() const { return m_views; }

signals:
    void trainingStarted();
    /// A batch point was plotted (throttled like the worker's batchProgress).
    void batchShown(int epoch, int batch);
    void epochShown(int epoch);
    /// The run ended and its evaluation plots are written: ok is false on failure (errorText()
    /// says why); stopped runs are ok.
    void trainingFinished(bool ok);

private:
    QWidget* buildSettings();
    QWidget* buildCurves();
    QWidget* buildDataView();
    QWidget* buildRuns();
    void startWorker(const jobs::TrainingRequest& request);
    void resetCurves();
    void loadHistory(const QString& runDir);
    void setRunning(bool running);
    /// Mixed precision can be ticked when the device offers it and no run is going on.
    void updateMixedPrecisionBox();
    /// A folder from a dialog, or "" (cancelled, or not interactive).
    QString pickFolder(const QString& caption, const QString& start);
    void showError(const QString& message);
    void setStatus(const QString& text);
    void log(const QString& text);

    void onDataset(const jobs::DatasetSummary& summary);
    void onLeakage(const jobs::LeakageSummary& leakage);
    void onShortcut(const jobs::ShortcutReport& shortcut);
    /// With the Custom task: picks the preset the data set path or its class folders name
    /// (jobs::chooseTask) and says why.
    void guessPreset();
    void onSamples(const jobs::SampleGallery& gallery);
    void onBatch(const ml::BatchMetrics& metrics);
    void onEpoch(const ml::EpochMetrics& metrics);
    void plotEpoch(const ml::EpochMetrics& metrics, double minEpochs);
    void onFinished(const jobs::TrainingOutcome& outcome);
    void onFailed(const QString& message);
    void workerGone();
    /// Emits trainingFinished() once the worker's thread is gone and the plots are written.
    void announceFinished();

    // settings
    QLineEdit* m_dataPath = nullptr;
    QComboBox* m_preset = nullptr;
    QLabel* m_presetNote = nullptr;
    QComboBox* m_arch = nullptr;
    QComboBox* m_optimizer = nullptr;
    QDoubleSpinBox* m_lr = nullptr;
    QDoubleSpinBox* m_weightDecay = nullptr;
    QSpinBox* m_batch = nullptr;
    QSpinBox* m_epochs = nullptr;
    QSpinBox* m_patience = nullptr;
    QComboBox* m_schedule = nullptr;
    QCheckBox* m_classWeights = nullptr;
    QCheckBox* m_balanced = nullptr;
    QCheckBox* m_shortcut = nullptr;
    QDoubleSpinBox* m_smoothing = nullptr;
    QDoubleSpinBox* m_ordinalSigma = nullptr;
    QComboBox* m_head = nullptr;
    QComboBox* m_augment = nullptr;
    QSpinBox* m_size = nullptr;
    QComboBox* m_channels = nullptr;
    QComboBox* m_device = nullptr;
    QSpinBox* m_threads = nullptr;
    QSpinBox* m_processes = nullptr;
    QCheckBox* m_mixed = nullptr;
    QSpinBox* m_seed = nullptr;
    QLineEdit* m_runDirEdit = nullptr;
    QPushButton* m_train = nullptr;
    QPushButton* m_pause = nullptr;
    QPushButton* m_stop = nullptr;
    QPushButton* m_resumeRun = nullptr;
    QPushButton* m_overlay = nullptr;

    // views
    QTabWidget* m_views = nullptr;
    QCustomPlot* m_lossPlot = nullptr;
    QCustomPlot* m_accPlot = nullptr;
    QCustomPlot* m_batchPlot = nullptr;
    QCustomPlot* m_countsPlot = nullptr;
    QProgressBar* m_progress = nullptr;
    QLabel* m_progressLabel = nullptr;
    QLabel* m_status = nullptr;
    QLabel* m_stats = nullptr;
    QPlainTextEdit* m_leakage = nullptr;
    QPlainTextEdit* m_shortcutText = nullptr;
    QWidget* m_gallery = nullptr;
    QPlainTextEdit* m_log = nullptr;
    QTableWidget* m_runs = nullptr;
    EvaluationView* m_evaluation = nullptr;

    // run state
    QThread* m_thread = nullptr;
    QPointer<jobs::TrainingWorker> m_worker;
    QString m_runDir;
    QString m_error;
    QStringList m_extraRuns;
    std::vector<std::string> m_classNames;
    int m_epochsPlanned = 0;
    int m_overlays = 0;
    double m_smoothedLoss = 0.0;
    bool m_haveSmoothed = false;
    bool m_paused = false;
    bool m_lastOk = false;
    bool m_finishPending = false; ///< the run ended; trainingFinished() not yet emitted
    bool m_interactive = true;
};

} // namespace lightbox::ui
