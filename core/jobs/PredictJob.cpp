#include "PredictJob.h"

#include <data/Loader.h>
#include <data/ModelInput.h>
#include <data/TaskPreset.h>
#include <ml/Bundle.h>

#include <QDateTime>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QFutureWatcher>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrent>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <new>
#include <numeric>

namespace lightbox::jobs {

ml::TtaOptions ttaFor(const ml::ModelCard& card, bool fallbackFlip)
{
    ml::TtaOptions t;
    const data::TaskPreset* preset = data::findTaskPreset(card.task);
    data::AugmentOptions a;
    if (!preset || !data::AugmentOptions::fromPreset(preset->augmentation, a)) {
        t.horizontalFlip = fallbackFlip;
        return t;
    }
    t.horizontalFlip = a.horizontalFlip;
    t.verticalFlip = a.verticalFlip;
    t.shift = a.shift > 0.0 ? std::min(a.shift, 0.03) : 0.0;
    return t;
}
namespace {

constexpr std::size_t kCachedModels = 2; // e.g. the same model on the CPU and on a GPU

QString qs(const std::string& s)
{
    return QString::fromStdString(s);
}

QString metricsText(const std::map<std::string, double>& metrics, bool all)
{
    QStringList parts;
    // The one-line summary keeps the headline figures of val and test; the tooltip has all.
    static const QStringList headline{
        QStringLiteral("accuracy"),          QStringLiteral("auc"), QStringLiteral("qwk"), QStringLiteral("macro_f1"),
        QStringLiteral("balanced_accuracy"), QStringLiteral("ece")};
    for (const auto& [name, value] : metrics) {
        const QString n = qs(name);
        if (!all) {
            const int split = n.indexOf(QLatin1Char('_'));
            const QString prefix = n.left(split), rest = n.mid(split + 1);
            if ((prefix != QLatin1String("val") && prefix != QLatin1String("test")) || !headline.contains(rest))
                continue;
        }
        // Counts (samples, epoch) read as whole numbers, scores with three decimals.
        const bool count = std::abs(value) >= 2 && value == std::floor(value);
        parts << QStringLiteral("%1 %2")
                     .arg(QString(n).replace(QLatin1Char('_'), QLatin1Char(' ')))
                     .arg(count ? QString::number(static_cast<qint64>(value)) : QString::number(value, 'f', 3));
    }
    return parts.join(QStringLiteral(", "));
}

} // namespace

// ---------------------------------------------------------------------------------------
// ModelInfo

QStringList ModelInfo::classNames() const
{
    QStringList names;
    for (const std::string& c : card.classNames)
        names << qs(c);
    return names;
}

QString ModelInfo::summary() const
{
    const ml::PreprocessSpec& p = card.preprocess;
    QStringList parts;
    if (!card.task.empty())
        parts << qs(card.task);
    parts << qs(card.architecture);
    parts << QStringLiteral("%1×%2, %3 ch").arg(p.width).arg(p.height).arg(p.channels);
    parts << QStringLiteral("%1 classes%2")
                 .arg(card.numClasses())
                 .arg(card.ordinal ? QStringLiteral(", ordinal") : QString());
    const QString metrics = metricsText(card.metrics, false);
    if (!metrics.isEmpty())
        parts << metrics;
    if (const auto f = card.metrics.find("shortcut_flagged"); f != card.metrics.end()) {
        const auto b = card.metrics.find("shortcut_balanced_accuracy");
        const auto c = card.metrics.find("shortcut_chance");
        const QString figures = b != card.metrics.end() && c != card.metrics.end()
                                    ? QStringLiteral(" (%1 from the borders, chance %2)")
                                          .arg(b->second, 0, 'f', 2)
                                          .arg(c->second, 0, 'f', 2)
                                    : QString();
        parts << (f->second > 0.5 ? QStringLiteral("shortcut check flagged%1").arg(figures)
                                  : QStringLiteral("shortcut check passed%1").arg(figures));
    }
    if (card.ood.valid())
        parts << QStringLiteral("out-of-distribution check (%1)").arg(qs(card.ood.method));
    if (card.members > 1)
        parts << QStringLiteral("ensemble of %1").arg(card.members);
    if (!card.notCovered.empty()) {
        QStringList missing;
        for (const auto& n : card.notCovered)
            missing << qs(n);
        parts << QStringLiteral("does not cover %1").arg(missing.join(QStringLiteral(", ")));
    }
    return parts.join(QStringLiteral(" · "));
}

QString ModelInfo::details() const
{
    QStringList lines{summary()};
    lines << QStringLiteral("Classes: %1").arg(classNames().join(QStringLiteral(", ")));
    if (!card.metrics.empty())
        lines << QStringLiteral("Metrics: %1").arg(metricsText(card.metrics, true));
    if (!card.trainingSummary.empty())
        lines << QStringLiteral("Training: %1").arg(qs(card.trainingSummary));
    if (!card.created.empty())
        lines << QStringLiteral("Created: %1").arg(qs(card.created));
    lines << QStringLiteral("Device: %1").arg(device);
    lines << QStringLiteral("File: %1").arg(path);
    return lines.join(QLatin1Char('\n'));
}

// ---------------------------------------------------------------------------------------
// Engine: the cache and the work, shared with the tasks so that it outlives none of them.

struct PredictJob::Engine {
    struct Entry {
        QString key;
        ml::Classifier classifier;
        ModelInfo info;
    };

    std::mutex mutex; ///< guards the cache; the pool's single thread serialises the passes
    std::vector<Entry> cache;
    std::atomic<quint64> latestPredict{0};
    std::atomic<int> loads{0};

    static QString keyFor(const QString& path, const QString& device, bool half)
    {
        const QFileInfo f(path);
        return QStringLiteral("%1|%2|%3|%4|%5")
            .arg(f.absoluteFilePath(), device)
            .arg(half)
            .arg(f.size())
            .arg(f.lastModified().toMSecsSinceEpoch());
    }

    /// The classifier for the file, from the cache or loaded now.
    Result<Entry> classifier(const QString& path, const QString& deviceIn, bool half)
    {
        using R = Result<Entry>;
        if (path.isEmpty())
            return R::failure("choose a model first");
        const QFileInfo f(path);
        if (!f.exists())
            return R::failure("the model file " + path.toStdString() + " does not exist");
        if (!f.isFile() || !f.isReadable())
            return R::failure("the model file " + path.toStdString() + " cannot be read");
        const QString device =
            deviceIn.trimmed().toLower().isEmpty() ? QStringLiteral("auto") : deviceIn.trimmed().toLower();
        const QString key = keyFor(path, device, half);
        {
            std::lock_guard<std::mutex> lock(mutex);
            for (std::size_t i = 0; i < cache.size(); ++i)
                if (cache[i].key == key) {
                    std::rotate(cache.begin(), cache.begin() + static_cast<std::ptrdiff_t>(i),
                                cache.begin() + static_cast<std::ptrdiff_t>(i) + 1);
                    Entry e = cache.front();
                    e.info.loadMs = 0;
                    return e;
                }
        }
        QElapsedTimer timer;
        timer.start();
        ml::ClassifierOptions options;
        options.device = device.toStdString();
        options.halfPrecision = half;
        options.threads = -1; // the application configured the threads once
        ++loads;
        auto loaded = ml::Classifier::load(path.toStdString(), options);
        if (!loaded)
            return R::failure(loaded.error());
        Entry e{key, std::move(loaded.value()), {}};
        e.info.path = f.absoluteFilePath();
        e.info.card = e.classifier.card();
        for (const std::string& l : e.classifier.model().layerNames())
            e.info.layers << qs(l);
        e.info.device = qs(e.classifier.device());
        e.info.loadMs = static_cast<double>(timer.nsecsElapsed()) / 1e6;
        std::lock_guard<std::mutex> lock(mutex);
        cache.insert(cache.begin(), e);
        if (cache.size() > kCachedModels)
            cache.resize(kCachedModels);
        return e;
    }

    PredictResult run(const PredictRequest& req, quint64 id)
    {
        QElapsedTimer timer;
        timer.start();
        PredictResult r;
        r.requestId = id;
        try {
            r = runUnguarded(req, id);
        } catch (const std::bad_alloc&) {
            r.error = QStringLiteral("out of memory: try the CPU, a smaller crop or a smaller model");
        } catch (const std::exception& e) {
            r.error = QStringLiteral("prediction failed: %1").arg(QString::fromLocal8Bit(e.what()));
        } catch (...) {
            r.error = QStringLiteral("prediction failed");
        }
        r.requestId = id;
        r.totalMs = static_cast<double>(timer.nsecsElapsed()) / 1e6;
        return r;
    }

    PredictResult runUnguarded(const PredictRequest& req, quint64 id)
    {
        PredictResult r;
        r.requestId = id;
        if (!req.image || req.image->empty()) {
            r.error = QStringLiteral("open an image first");
            return r;
        }
        auto entry = classifier(req.modelPath, req.device, req.halfPrecision);
        if (!entry) {
            r.error = QStringLiteral("cannot load the model: %1").arg(qs(entry.error()));
            return r;
        }
        r.model = entry->info;
        const imaging::Image& image = *req.image;
        std::optional<cv::Rect> roi;
        if (req.roi)
            roi = cv::Rect(req.roi->x(), req.roi->y(), req.roi->width(), req.roi->height());
        auto raw = data::modelInput(image, roi);
        if (!raw) {
            r.error = QStringLiteral("cannot classify this region: %1").arg(qs(raw.error()));
            return r;
        }
        ml::PredictOptions options = req.options;
        if (req.tta)
            options.tta = ttaFor(r.model.card);
        auto p = entry->classifier.predictRaw(raw.value(), options);
        if (!p) {
            r.error = qs(p.error());
            return r;
        }
        r.probabilities = p->probabilities;
        r.ranking = rankClasses(r.probabilities);
        r.topClass = p->topClass;
        r.expectedGrade = p->expectedGrade;
        r.grade = p->grade;
        r.temperature = p->temperature;
        r.ood = p->ood;
        r.device = qs(p->device);
        r.latencyMs = p->latencyMs;
        r.views = p->views;
        r.members = std::max<int>(1, static_cast<int>(p->memberProbabilities.size()));
        r.membersAgreeing = p->membersAgreeing;
        r.memberSpread = p->memberSpread;
        r.singleViewMs = p->singleViewMs;
        if (p->camClass >= 0 && !p->camUpsampled.empty()) {
            r.camMethod = req.options.cam;
            r.camClass = p->camClass;
            r.camLayer = qs(p->camLayer);
            r.camRect = req.roi ? *req.roi : QRect(0, 0, image.width(), image.height());
            r.cam = camOnRegion(p->camUpsampled, r.camRect.size());
        }
        return r;
    }
};

// ---------------------------------------------------------------------------------------
// PredictJob

PredictJob::PredictJob(QObject* parent)
    : QObject(parent), m_engine(std::make_shared<Engine>()), m_pool(new QThreadPool(this))
{
    qRegisterMetaType<PredictResult>();
    qRegisterMetaType<ModelInfo>();
    m_pool->setMaxThreadCount(1);
}

PredictJob::~PredictJob()
{
    m_pool->waitForDone();
}

void PredictJob::setRunning(int delta)
{
    const bool was = m_running > 0;
    m_running += delta;
    if (was != (m_running > 0))
        emit busyChanged(m_running > 0);
}

quint64 PredictJob::predict(const PredictRequest& request)
{
    const quint64 id = ++m_nextId;
    m_latestPredict = id;
    m_engine->latestPredict = id;
    auto* watcher = new QFutureWatcher<PredictResult>(this);
    connect(watcher, &QFutureWatcher<PredictResult>::finished, this, [this, watcher, id] {
        watcher->deleteLater();
        setRunning(-1);
        if (id != m_latestPredict)
            return; // a newer request superseded this one
        emit predicted(watcher->result());
    });
    setRunning(+1);
    std::shared_ptr<Engine> engine = m_engine;
    watcher->setFuture(QtConcurrent::run(m_pool, [engine, request, id] {
        if (engine->latestPredict != id) { // stale before it started: skip the work
            PredictResult stale;
            stale.requestId = id;
            stale.error = QStringLiteral("superseded");
            return stale;
        }
        return engine->run(request, id);
    }));
    return id;
}

PredictResult PredictJob::predictNow(const PredictRequest& request)
{
    const quint64 id = ++m_nextId;
    m_latestPredict = id;
    m_engine->latestPredict = id;
    m_pool->waitForDone(); // one pass at a time per network
    return m_engine->run(request, id);
}

quint64 PredictJob::loadModel(const QString& path, const QString& device, bool halfPrecision)
{
    const quint64 id = ++m_nextId;
    m_latestLoad = id;
    using Loaded = std::shared_ptr<Result<ModelInfo>>;
    auto* watcher = new QFutureWatcher<Loaded>(this);
    connect(watcher, &QFutureWatcher<Loaded>::finished, this, [this, watcher, id, path] {
        watcher->deleteLater();
        setRunning(-1);
        if (id != m_latestLoad)
            return;
        const Loaded r = watcher->result();
        if (r->ok())
            emit modelLoaded(r->value());
        else
            emit modelFailed(path, qs(r->error()));
    });
    setRunning(+1);
    std::shared_ptr<Engine> engine = m_engine;
    watcher->setFuture(QtConcurrent::run(m_pool, [engine, path, device, halfPrecision] {
        try {
            auto e = engine->classifier(path, device, halfPrecision);
            return e ? std::make_shared<Result<ModelInfo>>(e->info)
                     : std::make_shared<Result<ModelInfo>>(Result<ModelInfo>::failure(e.error()));
        } catch (const std::bad_alloc&) {
            return std::make_shared<Result<ModelInfo>>(Result<ModelInfo>::failure("out of memory loading the model"));
        } catch (const std::exception& ex) {
            return std::make_shared<Result<ModelInfo>>(Result<ModelInfo>::failure(ex.what()));
        }
    }));
    return id;
}

Result<ModelInfo> PredictJob::loadModelNow(const QString& path, const QString& device, bool halfPrecision)
{
    m_pool->waitForDone();
    try {
        auto e = m_engine->classifier(path, device, halfPrecision);
        if (!e)
            return Result<ModelInfo>::failure(e.error());
        return e->info;
    } catch (const std::exception& ex) {
        return Result<ModelInfo>::failure(ex.what());
    }
}

void PredictJob::discardPending()
{
    const quint64 id = ++m_nextId;
    m_latestPredict = id;
    m_latestLoad = id;
    m_engine->latestPredict = id;
}

void PredictJob::discardPendingPredictions()
{
    const quint64 id = ++m_nextId;
    m_latestPredict = id;
    m_engine->latestPredict = id;
}

int PredictJob::loadCount() const
{
    return m_engine->loads;
}

void PredictJob::clearCache()
{
    std::lock_guard<std::mutex> lock(m_engine->mutex);
    m_engine->cache.clear();
}

ml::CamMap PredictJob::camOnRegion(const ml::CamMap& inputMap, QSize region)
{
    ml::CamMap out;
    if (inputMap.empty() || region.isEmpty())
        return out;
    const double scale = std::min(1.0, double(kMaxCamSide) / std::max(region.width(), region.height()));
    out.width = std::max(1, static_cast<int>(std::lround(region.width() * scale)));
    out.height = std::max(1, static_cast<int>(std::lround(region.height() * scale)));
    out.values = ml::resizePlane(inputMap.values.data(), inputMap.width, inputMap.height, out.width, out.height,
                                 ml::ResizeMode::Bilinear);
    for (float& v : out.values)
        v = std::clamp(v, 0.f, 1.f);
    return out;
}

std::vector<int> PredictJob::rankClasses(const std::vector<float>& probabilities)
{
    std::vector<int> order(probabilities.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return probabilities[a] > probabilities[b]; });
    return order;
}

} // namespace lightbox::jobs
