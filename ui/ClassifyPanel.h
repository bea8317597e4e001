#pragma once

#include "ImageViewer.h"

#include <jobs/ModelChoice.h>
#include <jobs/PredictJob.h>

#include <QFutureWatcher>
#include <QHash>

#include <QString>
#include <QStringList>
#include <QWidget>

#include <optional>
#include <vector>

class QCheckBox;
class QComboBox;
class QGridLayout;
class QLabel;
class QProgressBar;
class QPushButton;
class QSlider;
class QTimer;

namespace lightbox::ui {

/// The classify dock: picks a model (the bundles and TorchScript files of the models
/// folders, or any file), a device (Auto / CPU / CUDA:n) and half precision, runs it on the
/// viewer's image or crop through jobs::PredictJob (never on the GUI thread unless made
/// synchronous), and shows one probability bar per class (the top class highlighted), the
/// expected grade of ordinal models, the device and the latency. Its heat-map controls
/// choose the map (off, Grad-CAM, Grad-CAM++), the class it explains, the layer, the
/// colormap, whether it shows and its opacity; the map goes to the viewer as an overlay on
/// the ROI. Failures (missing or corrupt model, wrong input, out of memory) show as a
/// message in the panel.
///
/// MainWindow tells it when the image or the crop changes; once Run has been pressed it runs
/// again on those when "re-run when the crop changes" is on, and whenever a map option
/// changes. Remembers its settings (QSettings, group "classify"). It does not save reports.
class ClassifyPanel : public QWidget {
    Q_OBJECT
public:
    explicit ClassifyPanel(QWidget* parent = nullptr);
    ~ClassifyPanel() override;

    /// The viewer whose image and crop are classified and which shows the heat map. With two
    /// viewers (CompareView) the panel follows the active one: the result of the viewer left
    /// is kept with its heat map and shown again when its viewer comes back with the same
    /// image, and a prediction still running for the viewer left goes to that viewer.
    void setViewer(ImageViewer* viewer);
    ImageViewer* viewer() const { return m_viewer; }

    /// Where models are looked for: <executable>/../share/lightbox/models, the source
    /// tree's models/ and the folders in $LIGHTBOX_MODELS (colon separated), those that exist.
    static QStringList defaultModelFolders();
    /// Replaces the folders and lists their *.lbx and *.pt files again.
    void setModelFolders(const QStringList& folders);
    QStringList modelFolders() const { return m_folders; }
    /// The model files in the picker, folders first, then files opened by hand.
    QStringList modelPaths() const;
    /// Selects `path` (adding it to the picker when it is not listed) and loads it in the
    /// background to describe it; false when the file does not exist (the panel says so).
    bool selectModel(const QString& path);
    QString modelPath() const;

    /// What is known about the image being read (crop panel task, DICOM body part, modality
    /// and age, its folder): with "Pick the model for each image" on, the panel switches to
    /// the listed model whose card's task fits (jobs::chooseModel) and says why. Call it
    /// before imageChanged(), so a re-run uses the picked model.
    /// `rerun`: when the pick changes the model and Run was pressed, classify again with it
    /// (the crop panel's task changed on the same image).
    void setImageContext(const jobs::ImageContext& context, bool rerun = false);
    void setAutoPick(bool on);
    bool autoPick() const;
    /// Why the current model was picked, or why none fitted.
    QString pickReason() const;
    /// The task of a listed model's card ("" when it has none or cannot be read). The cards
    /// of the listed models are read in the background after each rescan; this waits for that.
    QString taskOf(const QString& path);
    /// Picks the model for the current image now (waiting for the cards if they are still
    /// being read), as setImageContext() does; for --classify and tests.
    void pickModelNow();

    /// "auto", "cpu" or "cuda:N".
    QString device() const;
    bool setDevice(const QString& device);
    /// Ticks or clears "Reduced precision"; false when the chosen device has none.
    bool setReducedPrecision(bool on);
    /// Test-time augmentation with the transforms the model was trained with (jobs::ttaFor).
    void setTestTimeAugmentation(bool on);
    void setCamMethod(ml::CamMethod method);
    ml::CamMethod camMethod() const;
    /// -1: the top class.
    void setCamClass(int classIndex);
    void setAutoRerun(bool on);
    bool autoRerun() const;
    void setOverlayShown(bool on);
    bool overlayShown() const;
    /// 0..1, the slider's value.
    void setOpacity(double opacity);
    double opacity() const;

    /// Runs on the calling thread instead of in the background (screenshots).
    void setSynchronous(bool on) { m_synchronous = on; }
    /// Lets "Open model file..." show a file dialog (off in tests and screenshots).
    void setInteractive(bool on) { m_interactive = on; }

    /// The latest result applied (success or failure), if any.
    const std::optional<jobs::PredictResult>& lastResult() const { return m_result; }
    /// The error shown, empty when none.
    QString errorText() const;
    /// The device and latency line.
    QString infoText() const;
    /// The out-of-distribution banner's text; empty while it is hidden.
    QString oodBannerText() const;
    /// The bars' values in percent, class order; the top class's index.
    std::vector<double> barValues() const;
    /// The bars' class labels as shown (the card's display names in the interface language).
    QStringList barLabels() const;
    int highlightedClass() const { return m_highlighted; }
    QString expectedGradeText() const;
    QString modelSummary() const;
    bool isRunning() const;
    jobs::PredictJob* job() const { return m_job; }

public slots:
    /// Classifies the viewer's crop (or whole image) with the chosen model.
    void run();
    /// The viewer shows another image: drops pending results and the bars; re-runs when armed.
    void imageChanged();
    /// The crop moved or was resized or cleared: re-runs (debounced) when armed.
    void roiChanged();

signals:
    /// A result (or failure) was applied to the panel and the viewer.
    void resultApplied(const lightbox::jobs::PredictResult& result);
    /// The model was described (loaded) or failed to load.
    void modelDescribed(bool ok);

private:
    void rescan();
    void pickModel();
    /// pickModel(), then classify again with the new model when Run was pressed.
    void repick();
    /// Waits for the background read of the listed cards and keeps their tasks.
    void finishCardScan();
    void modelActivated(int index);
    void describeModel();
    void applyModelInfo(const jobs::ModelInfo& info);
    void modelFailed(const QString& path, const QString& message);
    void applyResult(const jobs::PredictResult& result);
    /// The job's result: to the panel, or kept for the viewer it was asked for.
    void resultArrived(const jobs::PredictResult& result);
    void showHeatMap(ImageViewer* viewer, const jobs::PredictResult& result) const;
    void rebuildBars(const QStringList& names);
    void clearResult(const QString& status, bool clearMap = true);
    void showError(const QString& text);
    void updateHalfEnabled();
    void rerunIfArmed();
    void store() const;
    jobs::PredictRequest request() const;
    ImageViewer::Colormap colormap() const;

    ImageViewer* m_viewer = nullptr;
    /// The results of the viewers not followed now, with the image they were for.
    struct Kept {
        std::shared_ptr<const imaging::Image> image;
        jobs::PredictResult result;
    };
    QHash<ImageViewer*, Kept> m_kept;
    ImageViewer* m_runViewer = nullptr; ///< the viewer of the latest prediction asked for
    std::shared_ptr<const imaging::Image> m_runImage;
    jobs::PredictJob* m_job = nullptr;
    QStringList m_folders;
    QStringList m_openedFiles;
    QStringList m_classNames;
    QString m_describedPath;
    std::optional<jobs::PredictResult> m_result;
    bool m_synchronous = false;
    bool m_interactive = true;
    bool m_armed = false; ///< Run was pressed: re-run on crop, image and option changes
    bool m_updating = false;
    int m_lastModelIndex = -1;
    int m_highlighted = -1;

    QComboBox* m_model = nullptr;
    QLabel* m_card = nullptr;
    QCheckBox* m_autoPick = nullptr;
    QLabel* m_pickReason = nullptr;
    QHash<QString, QString> m_tasks;                               ///< model path -> card task, read once
    QFutureWatcher<QHash<QString, QString>>* m_cardScan = nullptr; ///< reading the listed cards
    jobs::ImageContext m_context;
    bool m_haveContext = false;
    QComboBox* m_device = nullptr;
    QCheckBox* m_half = nullptr;
    QPushButton* m_run = nullptr;
    QCheckBox* m_auto = nullptr;
    QCheckBox* m_tta = nullptr;
    QGridLayout* m_bars = nullptr;
    std::vector<QLabel*> m_barNames;
    std::vector<QProgressBar*> m_barValues;
    QLabel* m_oodBanner = nullptr; ///< "unlike the images this model was trained on"
    QLabel* m_grade = nullptr;
    QLabel* m_info = nullptr;
    QLabel* m_error = nullptr;
    QComboBox* m_camMethod = nullptr;
    QComboBox* m_camClass = nullptr;
    QComboBox* m_camLayer = nullptr;
    QCheckBox* m_overlay = nullptr;
    QComboBox* m_colormap = nullptr;
    QSlider* m_opacity = nullptr;
    QLabel* m_opacityLabel = nullptr;
    QTimer* m_rerunTimer = nullptr;
};

} // namespace lightbox::ui
