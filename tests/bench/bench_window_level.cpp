// Window/level re-render speed: what a right-drag costs per frame.
//
// Loads chest-cr-RG1_raw.dcm (1841 x 1955, 15-bit) from the shared data, plus a synthetic
// 2048 x 2048 16-bit image, and times for each
//   1. a window change + DisplayLut rebuild + lookup over the whole image,
//   2. the viewer's full paint path (ImageViewer::renderTo into a QImage of a typical
//      viewport, 1024 x 768) after each window change, fitted and at 1:1 and 3:1,
//   3. the peer: windowing the whole image with per-pixel arithmetic (convertTo),
// and prints frames per second and the LUT/peer ratio. `--quick` runs few iterations
// (ctest only checks that it runs).
#include <ImageViewer.h>

#include <imaging/ImageLoader.h>
#include <imaging/Render.h>

#include <QApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QImage>

#include <opencv2/core.hpp>

#include <cstdio>
#include <cstring>
#include <memory>

using namespace lightbox;

namespace {

imaging::Image syntheticImage(int size)
{
    imaging::Image img;
    img.pixels.create(size, size, CV_16UC1);
    cv::RNG rng(42);
    for (int y = 0; y < size; ++y) {
        auto* row = img.pixels.ptr<uint16_t>(y);
        for (int x = 0; x < size; ++x)
            row[x] = static_cast<uint16_t>((x * 13 + y * 7) % 4096 * 8 + rng.uniform(0, 64));
    }
    img.bitsStored = 16;
    img.format = "synthetic";
    img.autoWindow = imaging::computeAutoWindow(img);
    return img;
}

imaging::Window windowAt(const imaging::Image& img, int i)
{
    const imaging::Window a = img.autoWindow;
    // A drag: width and centre wander over the automatic window's range.
    return {a.center + (i % 50 - 25) * a.width / 200.0, a.width * (0.5 + (i % 37) / 37.0), "BENCH"};
}

double fps(int frames, qint64 ns)
{
    return ns > 0 ? frames * 1e9 / double(ns) : 0.0;
}

void run(const char* name, const imaging::Image& image, int iterations)
{
    std::printf("%s: %d x %d, %s\n", name, image.width(), image.height(),
                image.pixels.depth() == CV_16U ? "16-bit" : "other");
    cv::Mat out;
    QElapsedTimer t;

    // 1. LUT rebuild + lookup over the whole image.
    t.start();
    for (int i = 0; i < iterations; ++i) {
        imaging::RenderParams p;
        p.window = windowAt(image, i);
        imaging::DisplayLut(image, p).apply(image, out);
    }
    const double lutFps = fps(iterations, t.nsecsElapsed());
    std::printf("  DisplayLut rebuild + full image      %8.1f fps\n", lutFps);

    // 3. The peer: per-pixel arithmetic over the whole image.
    t.restart();
    cv::Mat f;
    for (int i = 0; i < iterations; ++i) {
        const imaging::Window w = windowAt(image, i);
        const double lo = w.center - w.width / 2.0;
        image.pixels.convertTo(f, CV_32F, image.rescaleSlope, image.rescaleIntercept - lo);
        f.convertTo(out, CV_8U, 255.0 / w.width);
    }
    const double peerFps = fps(iterations, t.nsecsElapsed());
    std::printf("  peer: convertTo arithmetic, full     %8.1f fps   (LUT is %.1fx the peer)\n", peerFps,
                peerFps > 0 ? lutFps / peerFps : 0.0);

    // 2. The viewer's paint path into a viewport-sized QImage.
    auto shared = std::make_shared<const imaging::Image>(image);
    ui::ImageViewer viewer;
    viewer.resize(1024, 768);
    viewer.setImage(shared);
    viewer.setOverlayVisible(true);
    QImage target(viewer.size(), QImage::Format_RGB32);
    struct Case {
        const char* name;
        double zoom; // 0: fit
    };
    for (const Case c : {Case{"fit", 0.0}, Case{"1:1", 1.0}, Case{"3:1", 3.0}}) {
        if (c.zoom == 0.0)
            viewer.fitToWindow();
        else
            viewer.setZoom(c.zoom);
        viewer.renderTo(target); // first paint builds the pyramid level
        t.restart();
        for (int i = 0; i < iterations; ++i) {
            viewer.setWindow(windowAt(image, i));
            viewer.renderTo(target);
        }
        std::printf("  viewer paint 1024x768, %-4s (zoom %4.2f) %8.1f fps\n", c.name, viewer.zoom(),
                    fps(iterations, t.nsecsElapsed()));
    }
}

} // namespace

int main(int argc, char** argv)
{
    if (qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    QApplication app(argc, argv);
    const bool quick = argc > 1 && std::strcmp(argv[1], "--quick") == 0;
    const int iterations = quick ? 5 : 100;

    const QString path = QStringLiteral(LIGHTBOX_SHARED_DATA "/dicom/chest-cr-RG1_raw.dcm");
    if (QFile::exists(path)) {
        auto loaded = imaging::loadImage(path.toStdString());
        if (loaded)
            run("chest-cr-RG1_raw.dcm", loaded.value(), iterations);
        else
            std::printf("cannot load %s: %s\n", qPrintable(path), loaded.error().c_str());
    } else {
        std::printf("%s missing: synthetic image only\n", qPrintable(path));
    }
    run("synthetic", syntheticImage(2048), iterations);
    std::printf("(%d iterations each; 30 fps is the target for a window drag)\n", iterations);
    return 0;
}
