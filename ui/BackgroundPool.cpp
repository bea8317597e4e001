#include "BackgroundPool.h"

#include <QCoreApplication>
#include <QPointer>
#include <QThread>
#include <QThreadPool>

#include <algorithm>

namespace lightbox::ui {

QThreadPool* backgroundPool()
{
    static QPointer<QThreadPool> pool;
    if (!pool) {
        pool = new QThreadPool(QCoreApplication::instance()); // waits for its tasks when the application ends
        pool->setObjectName(QStringLiteral("lightbox-background"));
        pool->setMaxThreadCount(std::max(4, QThread::idealThreadCount()));
    }
    return pool;
}

} // namespace lightbox::ui
