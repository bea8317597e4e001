// Decode + 8-bit windowed render of real radiographs, against peers measured in the same
// run on the same files: pydicom + numpy (Python), DCMTK's dcmj2pnm and GDCM's gdcmconv
// (command-line tools writing uncompressed PGM / DICOM; their figures include process
// start-up, shown separately).
//
//   bench_decode [--quick] [--iterations N] [--python /usr/bin/python3]
#include <imaging/ImageLoader.h>
#include <imaging/Render.h>

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QProcess>
#include <QStandardPaths>
#include <QStringList>
#include <QTemporaryDir>

#include <algorithm>
#include <cstdio>
#include <map>
#include <vector>

using namespace lightbox::imaging;

namespace {

double median(std::vector<double> v)
{
    if (v.empty())
        return -1;
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
}

/// Median wall time of a command in ms, or -1 when it is missing or fails.
double timeCommand(const QString& program, const QStringList& args, int iterations)
{
    if (QStandardPaths::findExecutable(program).isEmpty())
        return -1;
    std::vector<double> t;
    for (int i = 0; i < iterations; ++i) {
        QElapsedTimer timer;
        timer.start();
        QProcess p;
        p.start(program, args);
        if (!p.waitForFinished(120000) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0)
            return -1;
        t.push_back(timer.nsecsElapsed() / 1e6);
    }
    return median(t);
}

QString fmt(double ms)
{
    return ms < 0 ? QStringLiteral("n/a") : QString::number(ms, 'f', 1);
}

QString ratio(double peer, double ours)
{
    return (peer < 0 || ours <= 0) ? QStringLiteral("") : QString::number(peer / ours, 'f', 2) + "x";
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QStringList args = app.arguments();
    const bool quick = args.contains("--quick");
    int iterations = quick ? 1 : 7;
    QString python = "/usr/bin/python3";
    for (int i = 1; i + 1 < args.size(); ++i) {
        if (args[i] == "--iterations")
            iterations = std::max(1, args[i + 1].toInt());
        if (args[i] == "--python")
            python = args[i + 1];
    }
    const QString data = QStringLiteral(LIGHTBOX_SHARED_DATA) + "/dicom/";
    QStringList files = {"chest-cr-RG1_raw.dcm", "chest-cr-RG1_J2KI.dcm", "tibia-cr-RG3_J2KR.dcm",
                         "tibia-cr-RG3_J2KI.dcm", "chest-cr-rsna-jpegbaseline.dcm"};
    if (quick)
        files = {"chest-cr-rsna-jpegbaseline.dcm"};
    for (const QString& f : files)
        if (!QFileInfo::exists(data + f)) {
            std::fprintf(stderr, "bench_decode: %s missing\n", qPrintable(data + f));
            return 1;
        }

    // Lightbox, in process.
    std::map<QString, double> ours;
    for (const QString& f : files) {
        std::vector<double> t;
        for (int i = 0; i < iterations; ++i) {
            QElapsedTimer timer;
            timer.start();
            auto img = loadImage((data + f).toStdString());
            if (!img) {
                std::fprintf(stderr, "bench_decode: %s: %s\n", qPrintable(f), img.error().c_str());
                return 1;
            }
            const cv::Mat shown = render8(img.value());
            t.push_back(timer.nsecsElapsed() / 1e6);
            if (shown.empty())
                return 1;
        }
        ours[f] = median(t);
    }

    // pydicom + numpy, in process (timed inside Python).
    std::map<QString, double> py;
    {
        QProcess p;
        QStringList pargs{QStringLiteral(LIGHTBOX_BENCH_DIR) + "/bench_decode.py", QString::number(iterations)};
        for (const QString& f : files)
            pargs << data + f;
        p.start(python, pargs);
        p.waitForFinished(600000);
        for (const QByteArray& line : p.readAllStandardOutput().split('\n')) {
            const QStringList parts = QString::fromUtf8(line).split(' ');
            if (parts.size() == 2)
                py[parts[0]] = parts[1].toDouble();
        }
    }

    // Command-line tools: one process per image, start-up included.
    QTemporaryDir tmp;
    const double startup = timeCommand("dcmdump", {"--version"}, iterations);
    std::map<QString, double> dcmtk, gdcm;
    for (const QString& f : files) {
        dcmtk[f] = timeCommand("dcmj2pnm", {"+Wi", "1", data + f, tmp.filePath("out.pgm")}, iterations);
        if (dcmtk[f] < 0) // no window in the file
            dcmtk[f] = timeCommand("dcmj2pnm", {"+Wm", data + f, tmp.filePath("out.pgm")}, iterations);
        gdcm[f] = timeCommand("gdcmconv", {"--raw", data + f, tmp.filePath("out.dcm")}, iterations);
    }

    std::printf("Decode + 8-bit windowed render, median of %d, ms (ratio = peer / Lightbox; >1 means Lightbox is "
                "faster)\n",
                iterations);
    std::printf("%-32s %9s %9s %7s %10s %7s %14s %7s\n", "file", "Lightbox", "pydicom", "ratio", "dcmj2pnm", "ratio",
                "gdcmconv(dec)", "ratio");
    for (const QString& f : files) {
        const double p = py.count(f) ? py[f] : -1;
        std::printf("%-32s %9s %9s %7s %10s %7s %14s %7s\n", qPrintable(f), qPrintable(fmt(ours[f])),
                    qPrintable(fmt(p)), qPrintable(ratio(p, ours[f])), qPrintable(fmt(dcmtk[f])),
                    qPrintable(ratio(dcmtk[f], ours[f])), qPrintable(fmt(gdcm[f])),
                    qPrintable(ratio(gdcm[f], ours[f])));
    }
    std::printf("process start-up alone (dcmdump --version): %s ms; dcmj2pnm cannot decode JPEG 2000 (n/a); "
                "gdcmconv only decompresses to a new DICOM file (no rendering).\n",
                qPrintable(fmt(startup)));
    return 0;
}
