#pragma once

// How long the GUI thread's event loop goes without turning, for the GUI tests.

#include <QElapsedTimer>
#include <QFile>
#include <QTimer>

#include <algorithm>

namespace lightbox::test {

/// Records the longest gap between the ticks of a 5 ms timer on the thread that creates it
/// (the GUI thread): the longest time the event loop did not turn. On a loaded machine part of
/// a gap is only the thread waiting for a CPU while other processes run; the kernel counts
/// that wait per thread (the run-queue delay in /proc/thread-self/schedstat), and maxStallMs()
/// leaves it out, so that what it reports is the thread working or blocked: the stall that
/// the program causes. maxGapMs() is the plain wall-clock figure. Where the kernel does not
/// count the delay both are the same.
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
        m_lastDelayNs = runQueueDelayNs();
        m_maxGapNs = m_maxStallNs = 0;
        m_timer.start();
    }
    qint64 maxGapMs() const { return m_maxGapNs / 1000000; }
    qint64 maxStallMs() const { return m_maxStallNs / 1000000; }

private:
    /// Nanoseconds this thread has spent runnable but waiting for a CPU; 0 where unknown.
    static qint64 runQueueDelayNs()
    {
        QFile f(QStringLiteral("/proc/thread-self/schedstat"));
        if (!f.open(QIODevice::ReadOnly))
            return 0;
        const QList<QByteArray> fields = f.readAll().simplified().split(' ');
        return fields.size() >= 2 ? fields[1].toLongLong() : 0;
    }

    void tick()
    {
        const qint64 now = m_clock.nsecsElapsed();
        const qint64 delay = runQueueDelayNs();
        const qint64 gap = now - m_lastNs;
        m_maxGapNs = std::max(m_maxGapNs, gap);
        m_maxStallNs = std::max(m_maxStallNs, gap - std::clamp<qint64>(delay - m_lastDelayNs, 0, gap));
        m_lastNs = now;
        m_lastDelayNs = delay;
    }

    QElapsedTimer m_clock;
    QTimer m_timer;
    qint64 m_lastNs = 0;
    qint64 m_lastDelayNs = 0;
    qint64 m_maxGapNs = 0;
    qint64 m_maxStallNs = 0;
};

} // namespace lightbox::test
