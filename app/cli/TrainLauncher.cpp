#include "TrainLauncher.h"

#include <ml/Distributed.h>

#include <QCoreApplication>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

namespace lightbox::cli {

namespace {

/// An environment variable as an integer in [lo, hi]; `fallback` when unset.
Result<int> envInteger(const char* name, int lo, int hi, int fallback)
{
    const char* v = std::getenv(name);
    if (!v || !*v)
        return fallback;
    char* end = nullptr;
    errno = 0;
    const long n = std::strtol(v, &end, 10);
    if (errno != 0 || *end != '\0' || n < lo || n > hi)
        return Result<int>::failure(std::string(name) + "=" + v + " is not a whole number from " + std::to_string(lo) +
                                    " to " + std::to_string(hi));
    return static_cast<int>(n);
}

std::vector<pid_t> g_children;
std::atomic<int> g_forwarded{0};

void forwardSignal(int sig)
{
    g_forwarded.fetch_add(1);
    for (pid_t pid : g_children)
        if (pid > 0)
            ::kill(pid, sig);
}

struct Rank {
    pid_t pid = -1;
    int fd = -1;         ///< its stdout and stderr
    std::string partial; ///< output not yet ended by a newline
    int status = -1;     ///< exit status once ended
};

/// One line of a rank's output: rank 0's as it is, the others' prefixed "[rank r] ".
void printLine(int rank, const std::string& line)
{
    if (rank == 0)
        std::fprintf(stdout, "%s\n", line.c_str());
    else
        std::fprintf(stdout, "[rank %d] %s\n", rank, line.c_str());
}

void writeLines(Rank& r, int rank, const char* data, size_t n, bool flush)
{
    r.partial.append(data, n);
    size_t start = 0;
    for (size_t nl; (nl = r.partial.find_first_of("\n\r", start)) != std::string::npos; start = nl + 1) {
        const std::string line = r.partial.substr(start, nl - start);
        if (!line.empty())
            printLine(rank, line);
    }
    r.partial.erase(0, start);
    if (flush && !r.partial.empty()) {
        printLine(rank, r.partial);
        r.partial.clear();
    }
    std::fflush(stdout);
}

} // namespace

Result<ml::DistributedConfig> distributedFromEnvironment(int timeoutSeconds)
{
    using R = Result<ml::DistributedConfig>;
    ml::DistributedConfig d;
    d.timeoutSeconds = timeoutSeconds;
    auto world = envInteger("WORLD_SIZE", 1, 65536, 1);
    if (!world)
        return R::failure(world.error());
    d.worldSize = world.value();
    if (d.worldSize == 1)
        return d;
    if (!std::getenv("RANK"))
        return R::failure("WORLD_SIZE=" + std::to_string(d.worldSize) + " but RANK is not set");
    auto rank = envInteger("RANK", 0, d.worldSize - 1, 0);
    auto local = envInteger("LOCAL_RANK", 0, 65535, 0);
    auto port = envInteger("MASTER_PORT", 1, 65535, 0);
    if (!rank)
        return R::failure(rank.error());
    if (!local)
        return R::failure(local.error());
    if (!port)
        return R::failure(port.error());
    if (port.value() == 0)
        return R::failure("MASTER_PORT is not set: the ranks need a rendezvous port");
    const char* addr = std::getenv("MASTER_ADDR");
    if (!addr || !*addr)
        return R::failure("MASTER_ADDR is not set: the ranks need a rendezvous address");
    d.rank = rank.value();
    d.localRank = local.value();
    d.masterPort = port.value();
    d.masterAddr = addr;
    // torchrun's agent may serve the store itself, and restarts the ranks under a new count.
    const char* agentStore = std::getenv("TORCHELASTIC_USE_AGENT_STORE");
    d.launcherStore = agentStore && std::string(agentStore) == "True";
    auto attempt = envInteger("TORCHELASTIC_RESTART_COUNT", 0, 1 << 30, 0);
    if (!attempt)
        return R::failure(attempt.error());
    d.attempt = attempt.value();
    return d;
}

int launchLocalRanks(int nproc, const QStringList& arguments, int timeoutSeconds)
{
    const int port = ml::freeLocalPort();
    if (port <= 0) {
        std::fprintf(stderr, "lightbox-cli train: no free port on 127.0.0.1 for the rendezvous\n");
        return 1;
    }
    const std::string program = QCoreApplication::applicationFilePath().toStdString();
    std::vector<std::string> args{program};
    for (const QString& a : arguments)
        args.push_back(a.toStdString());
    std::printf("starting %d ranks on this machine (rendezvous 127.0.0.1:%d)\n", nproc, port);
    std::fflush(stdout);

    std::vector<Rank> ranks(static_cast<size_t>(nproc));
    g_children.assign(size_t(nproc), -1);
    for (int r = 0; r < nproc; ++r) {
        int fds[2];
        if (::pipe2(fds, O_CLOEXEC) != 0) {
            std::fprintf(stderr, "lightbox-cli train: cannot start rank %d: %s\n", r, std::strerror(errno));
            forwardSignal(SIGKILL);
            return 1;
        }
        const pid_t pid = ::fork();
        if (pid == 0) {
            ::dup2(fds[1], STDOUT_FILENO);
            ::dup2(fds[1], STDERR_FILENO);
            ::setenv("RANK", std::to_string(r).c_str(), 1);
            ::setenv("LOCAL_RANK", std::to_string(r).c_str(), 1);
            ::setenv("WORLD_SIZE", std::to_string(nproc).c_str(), 1);
            ::setenv("MASTER_ADDR", "127.0.0.1", 1);
            ::setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
            std::vector<char*> argv;
            for (auto& a : args)
                argv.push_back(a.data());
            argv.push_back(nullptr);
            ::execv(program.c_str(), argv.data());
            std::fprintf(stderr, "cannot run %s: %s\n", program.c_str(), std::strerror(errno));
            ::_exit(127);
        }
        ::close(fds[1]);
        if (pid < 0) {
            ::close(fds[0]);
            std::fprintf(stderr, "lightbox-cli train: cannot start rank %d: %s\n", r, std::strerror(errno));
            forwardSignal(SIGKILL);
            return 1;
        }
        ranks[size_t(r)].pid = pid;
        ranks[size_t(r)].fd = fds[0];
        g_children[size_t(r)] = pid;
    }
    std::signal(SIGINT, forwardSignal);
    std::signal(SIGTERM, forwardSignal);

    using Clock = std::chrono::steady_clock;
    int rc = 0;
    bool killed = false;
    Clock::time_point failedAt{};
    for (;;) {
        std::vector<pollfd> polls;
        std::vector<int> which;
        for (int r = 0; r < nproc; ++r)
            if (ranks[size_t(r)].fd >= 0) {
                polls.push_back({ranks[size_t(r)].fd, POLLIN, 0});
                which.push_back(r);
            }
        if (polls.empty())
            break;
        if (::poll(polls.data(), polls.size(), 500) < 0 && errno != EINTR)
            break;
        for (size_t i = 0; i < polls.size(); ++i) {
            if (!(polls[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            Rank& rank = ranks[size_t(which[i])];
            char buf[4096];
            const ssize_t n = ::read(rank.fd, buf, sizeof buf);
            if (n > 0) {
                writeLines(rank, which[i], buf, size_t(n), false);
            } else if (n == 0 || errno != EINTR) {
                writeLines(rank, which[i], "", 0, true);
                ::close(rank.fd);
                rank.fd = -1;
            }
        }
        // Reap ranks as they end; after a failure the rest get the timeout, then are killed.
        for (int r = 0; r < nproc; ++r) {
            Rank& rank = ranks[size_t(r)];
            int status = 0;
            if (rank.status < 0 && rank.pid > 0 && ::waitpid(rank.pid, &status, WNOHANG) == rank.pid) {
                rank.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
                g_children[size_t(r)] = -1;
                if (rank.status != 0 && rc == 0) {
                    rc = rank.status;
                    failedAt = Clock::now();
                    std::fprintf(stderr, "lightbox-cli train: rank %d of %d ended with status %d\n", r, nproc,
                                 rank.status);
                }
            }
        }
        if (rc != 0 && !killed && Clock::now() - failedAt > std::chrono::seconds(timeoutSeconds + 10)) {
            forwardSignal(SIGKILL);
            killed = true;
        }
    }
    for (int r = 0; r < nproc; ++r) {
        Rank& rank = ranks[size_t(r)];
        if (rank.status >= 0 || rank.pid <= 0)
            continue;
        int status = 0;
        if (::waitpid(rank.pid, &status, 0) == rank.pid) {
            rank.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
            if (rank.status != 0 && rc == 0)
                rc = rank.status;
        }
    }
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    g_children.clear();
    return rc;
}

} // namespace lightbox::cli
