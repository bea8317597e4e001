#pragma once

class QThreadPool;

namespace lightbox::ui {

/// The thread pool for the GUI's own background work: images decoded for the viewer, folder
/// thumbnails, model cards read, evaluation plots encoded, settings written. Qt 6.4 scales and
/// converts large images for painting on QThreadPool::globalInstance() and the GUI thread waits
/// for that pool: a long task of ours there (reading the shipped model cards, the thumbnails
/// of a 5,000-image folder) held a repaint of the viewer, and so the whole GUI, for over a
/// second. So none of our work runs on the global pool. At least four threads, since most of
/// the tasks wait on the disk and the thumbnails of a folder hold one for as long as they last.
QThreadPool* backgroundPool();

} // namespace lightbox::ui
