#pragma once
// The lightbox-cli commands, one file each under app/cli/: each takes its arguments after the
// command name and returns the exit status (CommandLine.h).

#include <QStringList>

namespace lightbox::cli {

int runInfo(const QStringList& args);
int runConvert(const QStringList& args);
int runCrop(const QStringList& args);
int runReport(const QStringList& args);
int runExportSc(const QStringList& args);
int runPredict(const QStringList& args);
int runTrain(const QStringList& args);
int runShortcutCheck(const QStringList& args);
int runEvaluate(const QStringList& args);
int runCalibrate(const QStringList& args);
int runEnsemble(const QStringList& args);
int runPacs(const QStringList& args);
int runVersion(const QStringList& args);

struct Command {
    const char* name;
    const char* synopsis; ///< the arguments, as the overview shows them
    const char* summary;  ///< one line
    int (*run)(const QStringList& args);
};
/// Every command, in the order the overview lists them.
const Command* commands(int* count);

} // namespace lightbox::cli
