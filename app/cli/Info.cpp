#include "CommandLine.h"
#include "Commands.h"

#include <imaging/ImageLoader.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>

namespace lightbox::cli {
namespace {

QJsonObject windowJson(const imaging::Window& w)
{
    return QJsonObject{
        {"center", w.center}, {"width", w.width}, {"explanation", QString::fromStdString(w.explanation)}};
}

} // namespace

int runInfo(const QStringList& argv)
{
    CommandLine cl("info", "FILE",
                   "Size, bit depth, photometric interpretation, transfer syntax, frames, windows, pixel spacing and "
                   "key tags of an image or DICOM file.");
    cl.flag("json", "Print JSON.");
    cl.flag("tags", "Also list every tag of a DICOM file.");
    cl.option("frame", "N", "The frame of a multi-frame file to describe (0-based).");
    if (!cl.parse(argv, 1, 1))
        return cl.exitCode();
    imaging::LoadOptions opts;
    opts.tags = cl.has("tags");
    if (!cl.integer("frame", 0, CommandLine::kIntMax, opts.frame))
        return cl.exitCode();
    const QString file = cl.positional()[0];
    auto r = imaging::loadImage(file.toStdString(), opts);
    if (!r)
        return fail(file, r.error());
    const imaging::Image& img = r.value();

    if (cl.has("json")) {
        QJsonObject o;
        o["file"] = file;
        o["format"] = QString::fromStdString(img.format);
        o["width"] = img.width();
        o["height"] = img.height();
        o["channels"] = img.channels();
        o["bitsStored"] = img.bitsStored;
        o["signed"] = img.isSigned;
        o["float"] = img.isFloat;
        o["photometric"] = imaging::toString(img.photometric);
        o["frames"] = img.frameCount;
        o["frame"] = img.frameIndex;
        if (!img.transferSyntaxUid.empty()) {
            o["transferSyntaxUid"] = QString::fromStdString(img.transferSyntaxUid);
            o["transferSyntax"] = QString::fromStdString(img.transferSyntaxName);
        }
        o["rescaleSlope"] = img.rescaleSlope;
        o["rescaleIntercept"] = img.rescaleIntercept;
        QJsonArray windows;
        for (const auto& w : img.fileWindows)
            windows.append(windowJson(w));
        o["windows"] = windows;
        o["autoWindow"] = windowJson(img.autoWindow);
        if (img.voiLut.valid())
            o["voiLut"] = QJsonObject{{"entries", int(img.voiLut.data.size())},
                                      {"firstMapped", img.voiLut.firstMapped},
                                      {"bits", img.voiLut.bits}};
        if (!img.spacingSource.empty())
            o["spacing"] = QJsonObject{{"row", img.spacingRow},
                                       {"column", img.spacingCol},
                                       {"source", QString::fromStdString(img.spacingSource)}};
        QJsonObject keys;
        for (const auto& [k, v] : img.keyTags)
            keys[QString::fromStdString(k)] = QString::fromStdString(v);
        o["tags"] = keys;
        if (opts.tags) {
            QJsonArray all;
            for (const auto& t : img.tags)
                all.append(QJsonObject{{"depth", t.depth},
                                       {"tag", QString::fromStdString(t.tagString())},
                                       {"vr", QString::fromStdString(t.vr)},
                                       {"name", QString::fromStdString(t.name)},
                                       {"value", QString::fromStdString(t.value)}});
            o["allTags"] = all;
        }
        std::printf("%s", QJsonDocument(o).toJson(QJsonDocument::Indented).constData());
        return 0;
    }

    std::printf("File:          %s\n", qPrintable(file));
    std::printf("Format:        %s\n", img.format.c_str());
    std::printf("Size:          %d x %d, %d channel(s)\n", img.width(), img.height(), img.channels());
    std::printf("Bits stored:   %d (%s)\n", img.bitsStored,
                img.isFloat    ? "floating point"
                : img.isSigned ? "signed"
                               : "unsigned");
    std::printf("Photometric:   %s\n", imaging::toString(img.photometric));
    if (!img.transferSyntaxUid.empty())
        std::printf("Transfer:      %s (%s)\n", img.transferSyntaxName.c_str(), img.transferSyntaxUid.c_str());
    std::printf("Frames:        %d (showing %d)\n", img.frameCount, img.frameIndex);
    if (img.rescaleSlope != 1.0 || img.rescaleIntercept != 0.0)
        std::printf("Rescale:       slope %g, intercept %g %s\n", img.rescaleSlope, img.rescaleIntercept,
                    img.rescaleType.c_str());
    for (const auto& w : img.fileWindows)
        std::printf("Window:        C %g / W %g  %s\n", w.center, w.width, w.explanation.c_str());
    if (img.voiLut.valid())
        std::printf("VOI LUT:       %zu entries from %d, %d bits %s\n", img.voiLut.data.size(), img.voiLut.firstMapped,
                    img.voiLut.bits, img.voiLut.explanation.c_str());
    std::printf("Auto window:   C %g / W %g\n", img.autoWindow.center, img.autoWindow.width);
    if (!img.spacingSource.empty())
        std::printf("Spacing:       %g x %g mm (%s)\n", img.spacingRow, img.spacingCol, img.spacingSource.c_str());
    for (const auto& [k, v] : img.keyTags)
        std::printf("%-14s %s\n", (k + ":").c_str(), v.c_str());
    if (opts.tags) {
        std::printf("\n");
        for (const auto& t : img.tags)
            std::printf("%*s%s %-2s %-36s %s\n", t.depth * 2, "", t.tagString().c_str(), t.vr.c_str(), t.name.c_str(),
                        t.value.c_str());
    }
    return 0;
}

} // namespace lightbox::cli
