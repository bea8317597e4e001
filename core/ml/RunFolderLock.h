#pragma once

// The run-folder lock (RunFolderLock.cpp, POSIX). Torch-free.

#include "MlResult.h"

#include <memory>
#include <string>

namespace lightbox::ml {

/// An exclusive lock on a run folder (flock on `<runDir>/train.lock`, which holds the
/// holder's pid). The operating system releases it when the process ends, however it ends, so
/// a killed run leaves no stale lock. Taking a folder this process holds already shares the
/// lock. Does not stop a process that ignores the lock from writing.
class RunFolderLock {
public:
    /// Takes the lock or fails at once with a message naming the folder and the holder's pid.
    /// Creates the folder when missing.
    static Result<std::shared_ptr<RunFolderLock>> acquire(const std::string& runDir);
    ~RunFolderLock();
    RunFolderLock(const RunFolderLock&) = delete;
    RunFolderLock& operator=(const RunFolderLock&) = delete;

private:
    explicit RunFolderLock(int fd) : m_fd(fd) {}
    int m_fd;
};

} // namespace lightbox::ml
