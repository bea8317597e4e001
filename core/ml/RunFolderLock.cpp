#include "RunFolderLock.h"

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <map>
#include <mutex>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace lightbox::ml {

namespace {

constexpr const char* kLockFile = "train.lock";

// Locks this process holds, by folder: flock() on a second descriptor of the same file
// would conflict with the first.
std::mutex g_mutex;
std::map<std::string, std::weak_ptr<RunFolderLock>>& held()
{
    static std::map<std::string, std::weak_ptr<RunFolderLock>> m;
    return m;
}

std::string readHolder(int fd)
{
    char buf[32] = {};
    const ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    std::string pid = n > 0 ? std::string(buf, size_t(n)) : std::string();
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' '))
        pid.pop_back();
    return pid.empty() ? std::string("unknown") : pid;
}

} // namespace

Result<std::shared_ptr<RunFolderLock>> RunFolderLock::acquire(const std::string& runDir)
{
    using R = Result<std::shared_ptr<RunFolderLock>>;
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(runDir, ec);
    const fs::path canonical = fs::weakly_canonical(fs::path(runDir), ec);
    const std::string key = ec ? runDir : canonical.string();
    std::lock_guard<std::mutex> guard(g_mutex);
    if (auto it = held().find(key); it != held().end())
        if (auto existing = it->second.lock())
            return existing;
    const std::string path = (fs::path(runDir) / kLockFile).string();
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        return R::failure("cannot lock the run folder " + runDir + ": " + std::strerror(errno));
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        const std::string holder = readHolder(fd);
        ::close(fd);
        if (err == EWOULDBLOCK)
            return R::failure("the run folder " + runDir + " is in use by another training process (pid " + holder +
                              "); wait for it to end, or choose another run folder");
        return R::failure("cannot lock the run folder " + runDir + ": " + std::strerror(err));
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    // Without the pid the lock still holds; a refused process then names no holder.
    const bool named = ::ftruncate(fd, 0) == 0 && ::pwrite(fd, pid.data(), pid.size(), 0) == ssize_t(pid.size());
    (void)named;
    std::shared_ptr<RunFolderLock> lock(new RunFolderLock(fd));
    held()[key] = lock;
    return lock;
}

RunFolderLock::~RunFolderLock()
{
    // The file stays: removing it would race with a process that has just opened it.
    ::close(m_fd);
}

} // namespace lightbox::ml
