#include "PacsJob.h"

#include <QDir>
#include <QElapsedTimer>
#include <QStandardPaths>
#include <QThread>
#include <QThreadPool>
#include <QtConcurrent/QtConcurrent>

namespace lightbox::jobs {
namespace {

QThreadPool& pacsPool()
{
    // Network calls wait, they do not compute: a few threads, apart from the pools that do.
    static QThreadPool* pool = [] {
        auto* p = new QThreadPool;
        p->setMaxThreadCount(4);
        return p;
    }();
    return *pool;
}

QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

} // namespace

QString defaultPacsCacheFolder()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::CacheLocation)).filePath(QStringLiteral("pacs"));
}

PacsJob::PacsJob(QObject* parent) : QObject(parent)
{
    static const bool registered = [] {
        qRegisterMetaType<net::FindPage>();
        qRegisterMetaType<net::RetrieveSummary>();
        qRegisterMetaType<net::StoreSummary>();
        qRegisterMetaType<net::Progress>();
        return true;
    }();
    Q_UNUSED(registered);
}

PacsJob::~PacsJob()
{
    cancelAll();
    // The workers hold `this` for their answers: wait until each has returned (a cancelled
    // call ends at its next network message, or at its time limit).
    while (m_outstanding->load() > 0)
        QThread::msleep(5);
}

void PacsJob::cancel(quint64 id)
{
    const auto it = m_cancel.find(id);
    if (it != m_cancel.end())
        it->second->store(true);
}

void PacsJob::cancelAll()
{
    for (auto& [id, flag] : m_cancel)
        flag->store(true);
}

net::Control PacsJob::controlFor(quint64 id, const std::shared_ptr<std::atomic<bool>>& cancel)
{
    net::Control c;
    c.cancel = cancel.get();
    auto timer = std::make_shared<QElapsedTimer>();
    c.progress = [this, id, timer, every = m_progressEveryMs](const net::Progress& p) {
        // Throttled here, on the worker thread: a retrieve of small instances reports
        // hundreds of steps a second.
        if (timer->isValid() && timer->elapsed() < every)
            return;
        timer->start();
        QMetaObject::invokeMethod(
            this, [this, id, p] { emit progress(id, p); }, Qt::QueuedConnection);
    };
    c.log = [this](const std::string& line) {
        QMetaObject::invokeMethod(
            this, [this, l = q(line)] { emit logLine(l); }, Qt::QueuedConnection);
    };
    return c;
}

template <typename Work, typename Done> quint64 PacsJob::start(Work work, Done done)
{
    const quint64 id = m_nextId++;
    auto flag = std::make_shared<std::atomic<bool>>(false);
    m_cancel[id] = flag;
    const net::Control control = controlFor(id, flag);
    m_outstanding->fetch_add(1);
    (void)QtConcurrent::run(&pacsPool(), [this, id, flag, control, work, done, outstanding = m_outstanding] {
        auto result = work(control);
        // The answer is delivered on the GUI thread; the job is finished once it is.
        QMetaObject::invokeMethod(
            this,
            [this, id, done, result = std::move(result)] {
                m_cancel.erase(id);
                done(id, result);
            },
            Qt::QueuedConnection);
        outstanding->fetch_sub(1); // last: `this` may be gone after it
    });
    return id;
}

quint64 PacsJob::echo(const net::PacsNode& node, const net::LocalAe& local)
{
    return start([node, local](const net::Control& c) { return net::echo(node, local, c); },
                 [this](quint64 id, const Result<net::EchoReply>& r) {
                     emit echoed(id, r ? QString() : q(r.error()), r ? r->roundTripMs : 0.0);
                 });
}

quint64 PacsJob::find(const net::PacsNode& node, const net::LocalAe& local, net::Level level, const net::Query& query,
                      const net::FindOptions& options)
{
    return start([node, local, level, query,
                  options](const net::Control& c) { return net::find(node, local, level, query, options, c); },
                 [this](quint64 id, const Result<net::FindPage>& r) {
                     emit found(id, r ? QString() : q(r.error()), r ? r.value() : net::FindPage{});
                 });
}

quint64 PacsJob::retrieve(const net::PacsNode& node, const net::LocalAe& local, const net::RetrieveRequest& request,
                          bool useMove, qint64 cacheLimitBytes)
{
    return start(
        [node, local, request, useMove, cacheLimitBytes](const net::Control& c) {
            auto r = useMove ? net::move(node, local, request, c) : net::get(node, local, request, c);
            if (r && cacheLimitBytes > 0) {
                // The study just retrieved is the most recently used: it stays.
                const net::StorageCache cache(request.cacheDir);
                cache.touch(request.studyUid);
                if (auto trimmed = cache.evictTo(static_cast<std::uint64_t>(cacheLimitBytes)); !trimmed && c.log)
                    c.log("cache: " + trimmed.error());
            }
            return r;
        },
        [this](quint64 id, const Result<net::RetrieveSummary>& r) {
            emit retrieved(id, r ? QString() : q(r.error()), r ? r.value() : net::RetrieveSummary{});
        });
}

quint64 PacsJob::store(const net::PacsNode& node, const net::LocalAe& local, const QStringList& files)
{
    std::vector<std::string> paths;
    for (const QString& f : files)
        paths.push_back(f.toStdString());
    return start([node, local, paths](const net::Control& c) { return net::store(node, local, paths, c); },
                 [this](quint64 id, const Result<net::StoreSummary>& r) {
                     emit stored(id, r ? QString() : q(r.error()), r ? r.value() : net::StoreSummary{});
                 });
}

} // namespace lightbox::jobs
