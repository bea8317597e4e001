#include "Commands.h"
#include "Shared.h"

#include <cstdio>

namespace lightbox::cli {

int runEnsemble(const QStringList& argv)
{
    CommandLine cl("ensemble", "M1 M2 [M...]",
                   "Joins bundles of one architecture and task into an ensemble whose softmax outputs are averaged "
                   "(then calibrate it).");
    cl.option("out", "OUT.lbx", "The ensemble bundle to write.", true);
    if (!cl.parse(argv, 2, -1))
        return cl.exitCode();
    std::vector<std::string> paths;
    for (const auto& p : cl.positional())
        paths.push_back(p.toStdString());
    auto written = writeEnsemble(paths, cl.text("out"));
    if (!written)
        return fail("ensemble", written.error());
    std::printf("wrote %s: %zu members averaged; calibrate it next (lightbox-cli calibrate --model %s --data DIR)\n",
                written->c_str(), paths.size(), written->c_str());
    return 0;
}

} // namespace lightbox::cli
