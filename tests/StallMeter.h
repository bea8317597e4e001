#pragma once

// How long the GUI thread's event loop goes without turning, for the GUI tests.

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QHash>
#include <QTimer>

#include <algorithm>

namespace lightbox::test {

/// Records the longest gap between the ticks of a 5 ms timer on the thread that creates it
/// (the GUI thread): the longest time the event loop did not turn. maxGapMs() is that figure on
/// the clock. On a loaded machine part of a gap is only threads waiting for a CPU while other
/// processes run: the GUI thread itself, and the thread-pool threads that Qt 6.4 paints large
/// images with while the GUI thread waits for them (QThreadPool::globalInstance()). The kernel
/// counts that wait per thread (the run-queue delay in /proc/self/task/<id>/schedstat), and
/// maxStallMs() leaves out the GUI thread's wait and the longest wait of a pool thread during
/// the gap, so that what it reports is the time the program kept the event loop busy or
/// blocked. Where the kernel does not count the delay both figures are the same.
class StallMeter {
public:
    StallMeter()
    {
        m_timer.setInterval(5);
        m_timer.setTimerType(Qt::PreciseTimer);
        QObject::connect(&m_timer, &QTimer::timeout, [this] { tick(); });
        restart();
    }
    /// Forgets the figures so far and measures from now.
    void restart()
    {
        m_clock.start();
        m_lastNs = 0;
        m_lastDelayNs = delayNs(QStringLiteral("/proc/thread-self/schedstat"));
        m_poolDelays.clear();
        poolDelayNs();
        m_maxGapNs = m_maxStallNs = 0;
        m_timer.start();
    }
    qint64 maxGapMs() const { return m_maxGapNs / 1000000; }
    qint64 maxStallMs() const { return m_maxStallNs / 1000000; }

private:
    /// Nanoseconds a thread has spent runnable but waiting for a CPU; 0 where unknown.
    static qint64 delayNs(const QString& schedstat)
    {
        QFile f(schedstat);
        if (!f.open(QIODevice::ReadOnly))
            return 0;
        const QList<QByteArray> fields = f.readAll().simplified().split(' ');
        return fields.size() >= 2 ? fields[1].toLongLong() : 0;
    }

    /// The longest run-queue delay that a thread-pool thread gained since the last call.
    qint64 poolDelayNs()
    {
        if (!m_poolClock.isValid() || m_poolClock.elapsed() > 100) { // threads come and go
            m_poolClock.start();
            m_poolThreads.clear();
            const QDir tasks(QStringLiteral("/proc/self/task"));
            for (const QString& id : tasks.entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
                QFile comm(tasks.filePath(id + QStringLiteral("/comm")));
                if (comm.open(QIODevice::ReadOnly) && comm.readAll().startsWith("Thread (pooled)"))
                    m_poolThreads << tasks.filePath(id + QStringLiteral("/schedstat"));
            }
        }
        qint64 longest = 0;
        for (const QString& t : m_poolThreads) {
            const qint64 d = delayNs(t);
            const auto last = m_poolDelays.constFind(t);
            if (last != m_poolDelays.cend())
                longest = std::max(longest, d - last.value());
            m_poolDelays.insert(t, d);
        }
        return longest;
    }

    void tick()
    {
        const qint64 now = m_clock.nsecsElapsed();
        const qint64 delay = delayNs(QStringLiteral("/proc/thread-self/schedstat"));
        const qint64 gap = now - m_lastNs;
        const qint64 waited = (delay - m_lastDelayNs) + poolDelayNs();
        m_maxGapNs = std::max(m_maxGapNs, gap);
        m_maxStallNs = std::max(m_maxStallNs, gap - std::clamp<qint64>(waited, 0, gap));
        m_lastNs = now;
        m_lastDelayNs = delay;
    }

    QElapsedTimer m_clock;
    QElapsedTimer m_poolClock;
    QTimer m_timer;
    QStringList m_poolThreads;           ///< schedstat files of the pool threads
    QHash<QString, qint64> m_poolDelays; ///< their run-queue delay at the last tick
    qint64 m_lastNs = 0;
    qint64 m_lastDelayNs = 0;
    qint64 m_maxGapNs = 0;
    qint64 m_maxStallNs = 0;
};

} // namespace lightbox::test
