#pragma once
// Named points where the crash-safety tests kill the program (tests/tst_crash_safety.cpp).
//
//   LIGHTBOX_FAULT_POINT=NAME[:N[:ACTION]]
//
// makes the N-th pass (default the first) through faultPoint("NAME") act, and only that one:
// ACTION "kill" (the default) raises SIGKILL, as `kill -9` would; "stop" raises SIGSTOP, so
// that a test can change the world (fill the disk) before it sends SIGCONT. Where a file is
// being replaced, faultPointPartial() first cuts the half-written temporary file to half its
// size, the state a kill in the middle of write() leaves. Unset, as in every normal run, a
// point costs one comparison. Header-only, standard library and POSIX only, so every layer
// can use it.

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

#include <sys/stat.h>
#include <unistd.h>

namespace lightbox::base {

namespace detail {

struct FaultSpec {
    std::string name;
    long hit = 1;
    int signal = SIGKILL;
};

inline const FaultSpec& faultSpec()
{
    static const FaultSpec spec = [] {
        FaultSpec s;
        const char* env = std::getenv("LIGHTBOX_FAULT_POINT");
        if (!env || !*env)
            return s;
        std::string text(env);
        const auto colon = text.find(':');
        s.name = text.substr(0, colon);
        if (colon != std::string::npos) {
            std::string rest = text.substr(colon + 1);
            const auto colon2 = rest.find(':');
            s.hit = std::max(1L, std::strtol(rest.substr(0, colon2).c_str(), nullptr, 10));
            if (colon2 != std::string::npos && rest.substr(colon2 + 1) == "stop")
                s.signal = SIGSTOP;
        }
        return s;
    }();
    return spec;
}

/// True on the pass that must act.
inline bool faultDue(const char* name)
{
    const FaultSpec& spec = faultSpec();
    if (spec.name.empty() || spec.name != name)
        return false;
    static std::atomic<long> hits{0};
    return ++hits == spec.hit;
}

} // namespace detail

/// Acts (see above) when LIGHTBOX_FAULT_POINT names this point and this is the chosen pass.
inline void faultPoint(const char* name)
{
    if (detail::faultDue(name))
        ::raise(detail::faultSpec().signal);
}

/// As faultPoint(), after cutting `tmpPath` (a file being written) to half its size.
inline void faultPointPartial(const char* name, const std::string& tmpPath)
{
    if (!detail::faultDue(name))
        return;
    struct stat st {};
    if (::stat(tmpPath.c_str(), &st) == 0)
        (void)::truncate(tmpPath.c_str(), st.st_size / 2);
    ::raise(detail::faultSpec().signal);
}

} // namespace lightbox::base
