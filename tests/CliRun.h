#pragma once
// Runs a program (lightbox-cli) for the suites that check it end to end: its exit code and
// its output, or exit code -1 when it did not finish in time (it is killed), -2 when it crashed.
#include <QByteArray>
#include <QProcess>
#include <QString>
#include <QStringList>

namespace lightbox::test {

struct CliRun {
    int exitCode = -1;
    QByteArray out;
    QByteArray err;
};

inline CliRun runProgram(const QString& program, const QStringList& args, int timeoutMs)
{
    QProcess p;
    p.start(program, args);
    CliRun r;
    if (!p.waitForFinished(timeoutMs)) {
        p.kill();
        p.waitForFinished();
        return r;
    }
    r.exitCode = p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -2;
    r.out = p.readAllStandardOutput();
    r.err = p.readAllStandardError();
    return r;
}

} // namespace lightbox::test
