#pragma once
// PACS calls (core/net) as background jobs for the GUI: each runs on a thread of its own
// pool, reports progress as queued signals at most every 100 ms (and once at the end), can be
// cancelled, and answers with a signal carrying its id. QtCore only.

#include <net/PacsClient.h>
#include <net/StorageCache.h>

#include <QMetaType>
#include <QObject>
#include <QString>
#include <QStringList>

#include <atomic>
#include <map>
#include <memory>

namespace lightbox::jobs {

/// Where retrieved studies go, and how large that folder may grow.
struct PacsCacheSettings {
    QString folder;                               ///< empty = defaultPacsCacheFolder()
    qint64 limitBytes = 2LL * 1024 * 1024 * 1024; ///< least recently used studies go first
};
/// The cache folder in the user's cache location (…/pacs).
QString defaultPacsCacheFolder();

class PacsJob : public QObject {
    Q_OBJECT
public:
    explicit PacsJob(QObject* parent = nullptr);
    /// Cancels what still runs and waits for it (a call notices between network messages).
    ~PacsJob() override;

    quint64 echo(const net::PacsNode& node, const net::LocalAe& local);
    quint64 find(const net::PacsNode& node, const net::LocalAe& local, net::Level level, const net::Query& query,
                 const net::FindOptions& options = {});
    /// C-GET, or C-MOVE to Lightbox's own storage SCP when `useMove`; afterwards the cache is
    /// trimmed to its limit (the study just retrieved is kept).
    quint64 retrieve(const net::PacsNode& node, const net::LocalAe& local, const net::RetrieveRequest& request,
                     bool useMove, qint64 cacheLimitBytes);
    quint64 store(const net::PacsNode& node, const net::LocalAe& local, const QStringList& files);

    /// Asks the job `id` to stop; it answers with the error "cancelled".
    void cancel(quint64 id);
    void cancelAll();
    /// Jobs started and not yet answered.
    int running() const { return static_cast<int>(m_cancel.size()); }
    /// The least time between two progress signals of a job (100 ms), for jobs started after.
    void setProgressInterval(int ms) { m_progressEveryMs = ms; }

signals:
    void echoed(quint64 id, const QString& error, double roundTripMs);
    void found(quint64 id, const QString& error, const lightbox::net::FindPage& page);
    void retrieved(quint64 id, const QString& error, const lightbox::net::RetrieveSummary& summary);
    void stored(quint64 id, const QString& error, const lightbox::net::StoreSummary& summary);
    void progress(quint64 id, const lightbox::net::Progress& progress);
    /// One line per network event, without patient data unless LocalAe::verbose.
    void logLine(const QString& line);

private:
    template <typename Work, typename Done> quint64 start(Work work, Done done);
    net::Control controlFor(quint64 id, const std::shared_ptr<std::atomic<bool>>& cancel);

    quint64 m_nextId = 1;
    int m_progressEveryMs = 100;
    std::map<quint64, std::shared_ptr<std::atomic<bool>>> m_cancel;
    std::shared_ptr<std::atomic<int>> m_outstanding = std::make_shared<std::atomic<int>>(0);
};

} // namespace lightbox::jobs

Q_DECLARE_METATYPE(lightbox::net::FindPage)
Q_DECLARE_METATYPE(lightbox::net::RetrieveSummary)
Q_DECLARE_METATYPE(lightbox::net::StoreSummary)
Q_DECLARE_METATYPE(lightbox::net::Progress)
