#include "CommandLine.h"
#include "Commands.h"

#include <ml/Model.h>
#include <ml/Runtime.h>

#include <cstdio>
#include <string>

namespace lightbox::cli {

int runVersion(const QStringList& argv)
{
    CommandLine cl("version", QString(),
                   "Versions of Lightbox and LibTorch, the devices it can use and the networks "
                   "it can train.");
    if (!cl.parse(argv, 0, 0))
        return cl.exitCode();
    ml::configureThreads();
    std::string zoo;
    for (const auto& a : ml::modelArchitectures())
        zoo += (zoo.empty() ? "" : ", ") + a;
    std::printf("lightbox-cli %s\nLibTorch %s\nbfloat16 on this CPU: %s\nnetworks: %s\n", LIGHTBOX_VERSION,
                ml::torchSummary().c_str(), ml::cpuHasFastBFloat16() ? "yes (AVX-512 BF16)" : "no", zoo.c_str());
    return 0;
}

} // namespace lightbox::cli
