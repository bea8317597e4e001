#pragma once

#include <QString>
#include <QVariant>

namespace lightbox::ui::settings {

/// Settings changed on the GUI thread and written to QSettings by a worker thread. QSettings
/// writes its whole file (and takes a file lock) when a QSettings object goes away: 15-40 ms
/// here, more on a busy disk, which on the GUI thread stalled every model chosen in the
/// classify panel, every step of the opacity slider and every image opened (recent files).
///
/// set() and remove() take effect at once for value() in this process and are written in the
/// order given, the latest value of each key, shortly after. Keys are full paths
/// ("classify/model"). value() reads a key that is not waiting to be written from QSettings.
/// flush() writes what is waiting and returns when it is on disk; it runs when the application
/// object goes away, and the main window and the classify panel call it when they are destroyed. It does not make
/// QSettings reads faster, and a QSettings object used directly does not see the values that
/// are still waiting (use value()).
void set(const QString& key, const QVariant& value);
void remove(const QString& key);
QVariant value(const QString& key, const QVariant& fallback = {});
void flush();

} // namespace lightbox::ui::settings
