#include "Commands.h"
#include "Shared.h"

#include <data/CropExporter.h>
#include <imaging/ImageLoader.h>

#include <QDir>

#include <cstdio>

namespace lightbox::cli {

int runCrop(const QStringList& argv)
{
    CommandLine cl("crop", "FILE",
                   "Saves a de-identified crop of the image into DIR/LABEL/ and a row of DIR/manifest.csv, as the "
                   "viewer's crop tool does (default: 224 px, windowed 8-bit).");
    cl.option("roi", "X,Y,W,H", "The rectangle, in image pixels.", true);
    cl.option("label", "LABEL", "The class the crop is saved under.", true);
    cl.option("dataset", "DIR", "The data-set folder.", true);
    cl.option("size", "N", "Side of the saved crop in pixels (1 to 8192; default 224).");
    cl.flag("raw", "Keep the stored values (16-bit PNG) instead of the windowed 8-bit rendering.");
    cl.option("window", "C,W", "Window centre and width instead of the file's default.");
    addFrameOption(cl);
    if (!cl.parse(argv, 1, 1))
        return cl.exitCode();
    cv::Rect roi;
    if (!roiOption(cl, roi))
        return cl.exitCode();
    imaging::LoadOptions opts;
    data::CropSettings settings;
    int size = settings.outputWidth;
    if (!cl.integer("frame", 0, CommandLine::kIntMax, opts.frame) || !cl.integer("size", 1, 8192, size))
        return cl.exitCode();
    const QString file = cl.positional()[0];
    auto loaded = imaging::loadImage(file.toStdString(), opts);
    if (!loaded)
        return fail(file, loaded.error());
    const imaging::Image& img = loaded.value();

    settings.datasetRoot = cl.value("dataset");
    settings.raw = cl.has("raw");
    settings.outputWidth = settings.outputHeight = size;
    settings.render.window = img.defaultWindow();
    settings.render.useVoiLut = img.fileWindows.empty() && img.voiLut.valid();
    if (!windowOption(cl, settings.render))
        return cl.exitCode();
    data::CropExporter exporter;
    auto saved = exporter.save(img, roi, cl.value("label"), settings);
    if (!saved)
        return fail(file, saved.error());
    std::printf("%s\n", qPrintable(QDir(settings.datasetRoot).filePath(saved->file)));
    return 0;
}

} // namespace lightbox::cli
