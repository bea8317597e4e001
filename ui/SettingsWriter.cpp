#include "SettingsWriter.h"

#include "BackgroundPool.h"

#include <QCoreApplication>
#include <QFuture>
#include <QMap>
#include <QSettings>
#include <QtConcurrent/QtConcurrent>

#include <mutex>
#include <optional>

namespace lightbox::ui::settings {
namespace {

using Changes = QMap<QString, std::optional<QVariant>>; ///< nullopt: remove the key

/// The changes not yet written: `pending` waits for the writer, `writing` is being written.
struct State {
    std::mutex mutex;
    std::mutex writeMutex; ///< one write at a time, in order
    Changes pending;
    Changes writing;
    QFuture<void> writer;
    bool flushRegistered = false;
};

State& state()
{
    static State s;
    return s;
}

/// Takes the pending changes and writes them; called on the worker thread, or by flush().
void writePending()
{
    State& st = state();
    std::lock_guard<std::mutex> write(st.writeMutex);
    Changes changes;
    {
        std::lock_guard<std::mutex> lock(st.mutex);
        changes.swap(st.pending);
        st.writing = changes;
    }
    if (!changes.isEmpty()) {
        QSettings s;
        for (auto it = changes.cbegin(); it != changes.cend(); ++it) {
            if (it.value())
                s.setValue(it.key(), *it.value());
            else
                s.remove(it.key());
        }
        s.sync();
    }
    std::lock_guard<std::mutex> lock(st.mutex);
    st.writing.clear();
}

void change(const QString& key, std::optional<QVariant> value)
{
    State& st = state();
    std::lock_guard<std::mutex> lock(st.mutex);
    const bool queued = !st.pending.isEmpty(); // a write is queued and takes this change along
    st.pending.insert(key, std::move(value));
    if (!st.flushRegistered) {
        st.flushRegistered = true;
        qAddPostRoutine(flush);
    }
    if (!queued)
        st.writer = QtConcurrent::run(backgroundPool(), writePending);
}

} // namespace

void set(const QString& key, const QVariant& value)
{
    change(key, value);
}

void remove(const QString& key)
{
    change(key, std::nullopt);
}

QVariant value(const QString& key, const QVariant& fallback)
{
    {
        State& st = state();
        std::lock_guard<std::mutex> lock(st.mutex);
        for (const Changes* c : {&st.pending, &st.writing})
            if (const auto it = c->constFind(key); it != c->cend())
                return it.value() ? *it.value() : fallback;
    }
    return QSettings().value(key, fallback);
}

void flush()
{
    writePending();
    State& st = state();
    QFuture<void> writer;
    {
        std::lock_guard<std::mutex> lock(st.mutex);
        writer = st.writer;
    }
    writer.waitForFinished();
}

} // namespace lightbox::ui::settings
