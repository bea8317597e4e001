#include "ReplotQueue.h"

#include <QCoreApplication>
#include <QEvent>
#include <QList>
#include <QPointer>
#include <QTimer>

#include <qcustomplot.h>

namespace lightbox::ui {
namespace {

/// The plots waiting to be drawn, for the whole application (GUI thread only).
class ReplotQueue : public QObject {
public:
    static ReplotQueue& instance()
    {
        static QPointer<ReplotQueue> queue;
        if (!queue)
            queue = new ReplotQueue(QCoreApplication::instance());
        return *queue;
    }

    void add(QCustomPlot* plot)
    {
        if (!plot)
            return;
        for (const QPointer<QCustomPlot>& p : m_pending)
            if (p == plot)
                return;
        m_pending.append(plot);
        if (!m_timer.isActive())
            m_timer.start();
    }

    void manage(QCustomPlot* plot)
    {
        if (plot->property(kManaged).toBool())
            return;
        plot->setProperty(kManaged, true);
        plot->installEventFilter(this);
    }

protected:
    bool eventFilter(QObject* watched, QEvent* event) override
    {
        // qobject_cast: a plot being destroyed is a plain QWidget by now (its last events).
        auto* plot = qobject_cast<QCustomPlot*>(watched);
        if (!plot)
            return false;
        if (event->type() == QEvent::Resize && plot->property(kManaged).toBool()) {
            // What QCustomPlot::resizeEvent does, with the drawing queued.
            plot->setViewport(plot->rect());
            add(plot);
            return true;
        }
        if (event->type() == QEvent::Show && plot->property(kStale).toBool())
            add(plot);
        return false;
    }

private:
    static constexpr const char* kManaged = "lightboxReplotsSpread";
    static constexpr const char* kStale = "lightboxReplotStale";

    explicit ReplotQueue(QObject* parent) : QObject(parent)
    {
        m_timer.setSingleShot(true);
        m_timer.setInterval(0);
        connect(&m_timer, &QTimer::timeout, this, &ReplotQueue::drawNext);
    }

    /// Draws the first visible plot waiting; a hidden one is marked stale and drawn when shown.
    void drawNext()
    {
        while (!m_pending.isEmpty()) {
            const QPointer<QCustomPlot> plot = m_pending.takeFirst();
            if (!plot)
                continue;
            if (!plot->isVisible()) {
                plot->setProperty(kStale, true);
                plot->installEventFilter(this);
                continue;
            }
            plot->setProperty(kStale, false);
            plot->replot(QCustomPlot::rpQueuedRefresh);
            break;
        }
        if (!m_pending.isEmpty())
            m_timer.start();
    }

    QList<QPointer<QCustomPlot>> m_pending;
    QTimer m_timer;
};

} // namespace

void queueReplot(QCustomPlot* plot)
{
    ReplotQueue::instance().add(plot);
}

void spreadReplots(QCustomPlot* plot)
{
    ReplotQueue::instance().manage(plot);
}

} // namespace lightbox::ui
