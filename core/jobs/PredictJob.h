#pragma once

#include <base/Result.h>
#include <imaging/Image.h>
#include <ml/Classifier.h>
#include <ml/ModelCard.h>

#include <QMetaType>
#include <QObject>
#include <QRect>
#include <QSize>
#include <QString>
#include <QStringList>

#include <memory>
#include <optional>
#include <vector>

class QThreadPool;

namespace lightbox::jobs {

/// What to classify, with which model, where, and which map to compute.
struct PredictRequest {
    QString modelPath;                       ///< bundle (.lbx) or TorchScript (.pt) file
    QString device = QStringLiteral("auto"); ///< "auto", "cpu", "cuda" or "cuda:N" (case-insensitive)
    bool halfPrecision = false;              ///< float16 on a GPU, bfloat16 on a CPU with it (ml::ClassifierOptions)
    std::shared_ptr<const imaging::Image> image;
    std::optional<QRect> roi;   ///< region in stored-image pixels; none = the whole image
    ml::PredictOptions options; ///< map method, target class (-1 = top), layer (empty = last block)
    /// Test-time augmentation with the transforms the model's task was trained with (ttaFor());
    /// overrides options.tta.
    bool tta = false;
};

/// The test-time augmentation that fits a model: the flips of its task preset's augmentation,
/// and shifts of up to 3 % where that augmentation shifts. A model of an unknown task gets a
/// horizontal flip alone when `fallbackFlip` is set, else nothing.
ml::TtaOptions ttaFor(const ml::ModelCard& card, bool fallbackFlip = false);

/// A loaded model as the GUI describes it.
struct ModelInfo {
    QString path;
    ml::ModelCard card;
    QStringList layers; ///< Grad-CAM layers, input side first; the last is the default
    QString device;     ///< where it runs, e.g. "cpu" or "cuda:0"
    double loadMs = 0;  ///< time the load took; 0 when it came from the cache

    QStringList classNames() const;
    /// One line: task, architecture, input size and channels, validation/test metrics.
    QString summary() const;
    /// Several lines: the summary plus classes, training summary, date and file.
    QString details() const;
};

/// One classification, as a value: everything the panel and the viewer draw.
struct PredictResult {
    quint64 requestId = 0;
    QString error; ///< empty on success, else a message the user can act on
    bool ok() const { return error.isEmpty(); }

    ModelInfo model;
    std::vector<float> probabilities; ///< softmax, one per class, in card order
    std::vector<int> ranking;         ///< class indices by falling probability (top-k = first k)
    int topClass = -1;
    double expectedGrade = -1; ///< sum(p_i * i) for ordinal models, else -1
    int grade = -1;            ///< the model's answer: the cut-point grade where the card has cut points, else topClass
    double temperature = 1.0;  ///< the card's temperature, applied to the probabilities
    ml::OodScore ood;          ///< out-of-distribution verdict (available with a calibrated detector)
    QString device;
    double latencyMs = 0;    ///< forward pass and map, as the classifier measured it
    int views = 1;           ///< images averaged (test-time augmentation: more than one)
    int members = 1;         ///< networks averaged (an ensemble: more than one)
    int membersAgreeing = 0; ///< members whose own top class is the ensemble's
    double memberSpread = 0; ///< SD of the members' probabilities of the top class
    double singleViewMs = 0; ///< the plain view alone, for the extra cost of TTA
    double totalMs = 0;      ///< the whole job: load (when not cached), render, crop, preprocess, predict

    ml::CamMethod camMethod = ml::CamMethod::None;
    int camClass = -1; ///< class the map explains, -1 when there is no map
    QString camLayer;
    QRect camRect;  ///< the image pixels the map covers: the ROI, or the whole image
    ml::CamMap cam; ///< the map over camRect (its size, or scaled down to at most kMaxCamSide a side)
    bool hasCam() const { return !cam.empty() && camRect.isValid(); }
};

/// Classifies images with a model bundle off the GUI thread and hands the result back as a
/// value (PredictResult) through a signal. A typical use is the classify panel: predict()
/// on Run, again when the crop moves; only the latest request's result is emitted, older
/// ones are dropped (and skipped when they have not started yet).
///
/// The work runs on a private one-thread pool, so one model never runs two passes at once.
/// Loaded classifiers are cached by file (path, size, modification time), device and
/// precision: re-running, or changing the crop or map options, does not reload. The image
/// goes through data::modelInput (the same rendering and crop as the CLI and training); the
/// map is brought back onto the ROI in image pixels.
///
/// Failures (a missing or corrupt model, a model that does not fit its card, an ROI outside
/// the image, out of memory) come back as PredictResult::error, never as an exception. It
/// does not cancel a pass that is already running; destroying the job waits for it.
class PredictJob : public QObject {
    Q_OBJECT
public:
    /// Largest side of PredictResult::cam; a larger ROI is covered by a scaled-down map.
    static constexpr int kMaxCamSide = 1024;

    explicit PredictJob(QObject* parent = nullptr);
    ~PredictJob() override;

    /// Queues a prediction and returns its id; predicted() follows unless a newer request
    /// (predict() or discardPending()) comes first.
    quint64 predict(const PredictRequest& request);
    /// The same work on the calling thread (screenshots, tests); uses the same cache.
    PredictResult predictNow(const PredictRequest& request);
    /// Loads (or finds in the cache) a model in the background; modelLoaded() or
    /// modelFailed() follows for the latest call.
    quint64 loadModel(const QString& path, const QString& device = QStringLiteral("auto"), bool halfPrecision = false);
    /// loadModel() on the calling thread.
    Result<ModelInfo> loadModelNow(const QString& path, const QString& device = QStringLiteral("auto"),
                                   bool halfPrecision = false);

    /// Drops the results of every request made so far (another model or device chosen).
    void discardPending();
    /// Drops the predictions still on their way but keeps a model load (another image
    /// opened: the model picked for it may be loading).
    void discardPendingPredictions();
    /// True while a request is queued or running.
    bool isBusy() const { return m_running > 0; }
    /// How many times a model file was actually read (not served from the cache).
    int loadCount() const;
    /// Forgets the cached models (frees their memory, GPU memory included).
    void clearCache();

    /// The map of a prediction (at the network input size) resized onto a region of
    /// `region` pixels, bilinearly, keeping at most kMaxCamSide pixels a side.
    static ml::CamMap camOnRegion(const ml::CamMap& inputMap, QSize region);
    /// Class indices by falling probability.
    static std::vector<int> rankClasses(const std::vector<float>& probabilities);

signals:
    void predicted(const lightbox::jobs::PredictResult& result);
    void modelLoaded(const lightbox::jobs::ModelInfo& info);
    void modelFailed(const QString& path, const QString& message);
    void busyChanged(bool busy);

private:
    struct Engine;
    void setRunning(int delta);

    std::shared_ptr<Engine> m_engine;
    QThreadPool* m_pool = nullptr;
    quint64 m_nextId = 0;
    quint64 m_latestPredict = 0;
    quint64 m_latestLoad = 0;
    int m_running = 0;
};

} // namespace lightbox::jobs

Q_DECLARE_METATYPE(lightbox::jobs::PredictResult)
Q_DECLARE_METATYPE(lightbox::jobs::ModelInfo)
