// lightbox-cli: everything the GUI does, headless. One file per command in this folder; each
// has its own --help (CommandLine.h).
#include "CommandLine.h"
#include "Commands.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QGuiApplication>

#include <cstdio>
#include <cstring>
#include <memory>
#include <unistd.h>

namespace lightbox::cli {

const Command* commands(int* count)
{
    static const Command kCommands[] = {
        {"info", "FILE", "size, bit depth, photometric, transfer syntax, frames, windows, spacing, key tags", runInfo},
        {"convert", "FILE OUT.png", "the image as the viewer shows it (8-bit PNG), or its raw values (16-bit)",
         runConvert},
        {"crop", "FILE --roi X,Y,W,H --label L --dataset DIR", "a de-identified crop into a labelled data set",
         runCrop},
        {"predict", "--model M FILE...", "classify images, with Grad-CAM maps and the out-of-distribution verdict",
         runPredict},
        {"report", "--model M --out OUT.pdf FILE", "a one-page PDF report of the image classified", runReport},
        {"export-sc", "FILE --out OUT.dcm", "the view (and heat map) as a DICOM Secondary Capture in its study",
         runExportSc},
        {"train", "--data DIR --arch A --out RUN_DIR", "train a network; --resume continues a stopped run", runTrain},
        {"evaluate", "--model M --data DIR", "scores of a model on a split or a held-out folder", runEvaluate},
        {"calibrate", "--model M --data DIR", "temperature, out-of-distribution detector and cut points", runCalibrate},
        {"shortcut-check", "--data DIR", "can the labels be read from the image borders alone?", runShortcutCheck},
        {"ensemble", "--out OUT.lbx M1 M2 [M...]", "join bundles into an averaged ensemble", runEnsemble},
        {"pacs", "echo|find|get|store --peer AET@HOST:PORT", "query, retrieve from and send to a PACS (DICOM network)",
         runPacs},
        {"version", "", "versions, devices and the networks it can train", runVersion},
    };
    *count = static_cast<int>(sizeof kCommands / sizeof kCommands[0]);
    return kCommands;
}

namespace {

int overview(FILE* out)
{
    std::fprintf(out, "usage: lightbox-cli COMMAND [options] [arguments]\n\ncommands:\n");
    int n = 0;
    const Command* all = commands(&n);
    for (int i = 0; i < n; ++i)
        std::fprintf(out, "  %-15s %s\n  %-15s   %s\n", all[i].name, all[i].synopsis, "", all[i].summary);
    std::fprintf(out, "\nlightbox-cli COMMAND --help (or lightbox-cli help COMMAND) shows a command's options.\n");
    return out == stderr ? kUsage : 0;
}

const Command* find(const QString& name)
{
    int n = 0;
    const Command* all = commands(&n);
    for (int i = 0; i < n; ++i)
        if (name == QLatin1String(all[i].name))
            return &all[i];
    return nullptr;
}

} // namespace
} // namespace lightbox::cli

int main(int argc, char** argv)
{
    using namespace lightbox::cli;
    // `report` draws text into a PDF: it needs fonts, so a GUI application (offscreen).
    const bool gui = argc > 1 && std::strcmp(argv[1], "report") == 0;
    if (gui && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    if (gui && qEnvironmentVariableIsEmpty("XDG_RUNTIME_DIR")) {
        // What Qt falls back to, without its warning on stderr (a root shell, a CI job).
        const QByteArray dir = QDir::tempPath().toLocal8Bit() + "/runtime-" + QByteArray::number(getuid());
        if (QDir().mkpath(QString::fromLocal8Bit(dir)) &&
            QFile::setPermissions(QString::fromLocal8Bit(dir),
                                  QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner))
            qputenv("XDG_RUNTIME_DIR", dir);
    }
    std::unique_ptr<QCoreApplication> app =
        gui ? std::make_unique<QGuiApplication>(argc, argv) : std::make_unique<QCoreApplication>(argc, argv);
    QStringList args = QCoreApplication::arguments().mid(1);
    if (args.isEmpty())
        return overview(stderr);
    const QString name = args.takeFirst();
    if (name == "-h" || name == "--help")
        return overview(stdout);
    if (name == "help") {
        if (args.isEmpty())
            return overview(stdout);
        if (const Command* c = find(args.first()))
            return c->run({QStringLiteral("--help")});
        std::fprintf(stderr, "lightbox-cli: unknown command '%s'\n", qPrintable(args.first()));
        return overview(stderr);
    }
    if (name == "--version")
        return runVersion({});
    if (const Command* c = find(name))
        return c->run(args);
    std::fprintf(stderr, "lightbox-cli: unknown command '%s'\n\n", qPrintable(name));
    return overview(stderr);
}
