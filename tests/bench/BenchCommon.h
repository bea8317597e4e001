#pragma once

// Shared by the benchmark programs: running their Python peer.

#include <cstdio>
#include <memory>
#include <string>

namespace lightbox::bench {

/// Runs a shell command and returns what it printed on standard output (empty on failure).
inline std::string runCommand(const std::string& cmd)
{
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(cmd.c_str(), "r"), pclose);
    if (!pipe)
        return {};
    std::string out;
    char buf[4096];
    while (size_t n = fread(buf, 1, sizeof buf, pipe.get()))
        out.append(buf, n);
    return out;
}

} // namespace lightbox::bench
