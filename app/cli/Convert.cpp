#include "Commands.h"
#include "Shared.h"

#include <imaging/ImageLoader.h>
#include <imaging/ImageWriter.h>

#include <cstdio>

namespace lightbox::cli {

int runConvert(const QStringList& argv)
{
    CommandLine cl("convert", "FILE OUT.png",
                   "Writes the image as the viewer shows it by default (its window; MONOCHROME1 inverted) as an 8-bit "
                   "PNG, or its raw values as a 16-bit PNG.");
    cl.option("window", "C,W", "Window centre and width instead of the file's default.");
    addFrameOption(cl);
    cl.flag("raw16", "Raw stored values as a 16-bit PNG (signed values shifted by +32768).");
    if (!cl.parse(argv, 2, 2))
        return cl.exitCode();
    imaging::LoadOptions opts;
    if (!cl.integer("frame", 0, CommandLine::kIntMax, opts.frame))
        return cl.exitCode();
    const QString file = cl.positional()[0];
    const QString out = cl.positional()[1];
    auto r = imaging::loadImage(file.toStdString(), opts);
    if (!r)
        return fail(file, r.error());
    const imaging::Image& img = r.value();

    cv::Mat pixels;
    if (cl.has("raw16")) {
        if (img.pixels.depth() == CV_16S) {
            // PNG has no signed samples: shift into the unsigned range, and say so.
            img.pixels.convertTo(pixels, CV_16U, 1.0, 32768.0);
            std::fprintf(stderr, "lightbox-cli: note: signed values shifted by +32768\n");
        } else if (img.pixels.depth() == CV_32S || img.pixels.depth() == CV_32F || img.pixels.depth() == CV_64F) {
            return fail(file,
                        std::string(img.isFloat ? "floating-point" : "32-bit") + " values do not fit a 16-bit PNG");
        } else {
            img.pixels.convertTo(pixels, CV_MAKETYPE(CV_16U, img.channels()));
        }
    } else {
        imaging::RenderParams p;
        p.window = img.defaultWindow();
        p.useVoiLut = img.fileWindows.empty() && img.voiLut.valid();
        if (!windowOption(cl, p))
            return cl.exitCode();
        pixels = imaging::render8(img, p);
    }
    auto w = imaging::writePng(pixels, out.toStdString());
    if (!w)
        return fail(out, w.error());
    return 0;
}

} // namespace lightbox::cli
