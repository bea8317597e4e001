// lightbox-cli: everything the GUI does, headless.
#include <data/CropExporter.h>
#include <data/ModelInput.h>
#include <imaging/ImageLoader.h>
#include <imaging/ImageWriter.h>
#include <imaging/Render.h>
#include <ml/Classifier.h>
#include <ml/Runtime.h>

#include <opencv2/imgproc.hpp>

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>

#include <cstdio>
#include <functional>
#include <map>
#include <optional>

using namespace lightbox;

namespace {

int usage(FILE* out)
{
    std::fprintf(out, "usage: lightbox-cli COMMAND [ARGS]\n"
                      "\n"
                      "commands:\n"
                      "  info FILE [--json] [--tags] [--frame N]\n"
                      "      size, bit depth, photometric, transfer syntax, frames, window, spacing,\n"
                      "      key tags; --tags dumps every tag\n"
                      "  convert FILE OUT.png [--window C,W] [--frame N] [--raw16]\n"
                      "      windowed 8-bit rendering (MONOCHROME1 inverted), or raw values as\n"
                      "      16-bit PNG with --raw16\n"
                      "  crop FILE --roi X,Y,W,H --label LABEL --dataset DIR [--size N] [--raw]\n"
                      "       [--window C,W] [--frame N]\n"
                      "      saves a de-identified crop into DIR/LABEL/ and DIR/manifest.csv, as the\n"
                      "      viewer's crop tool does (default: 224 px, windowed 8-bit)\n"
                      "  predict --model M [--device D] [--roi X,Y,W,H] [--cam OUT.png] [--cam-method M]\n"
                      "          [--class N] [--layer NAME] [--threads N] [--json] FILE...\n"
                      "      classify each image (rendered with its default window, optionally cropped)\n"
                      "      with a model bundle or TorchScript file; --cam writes a Grad-CAM overlay\n"
                      "      (OUT-<name>.png for several files); --cam-method gradcam|gradcam++;\n"
                      "      --device auto|cpu|cuda|cuda:N\n"
                      "  version\n"
                      "      versions of Lightbox and LibTorch, and the devices it can use\n");
    return out == stderr ? 2 : 0;
}

int fail(const QString& file, const std::string& message)
{
    std::fprintf(stderr, "lightbox-cli: %s: %s\n", qPrintable(file), message.c_str());
    return 1;
}

/// Minimal option reader: flags and "--name value" pairs after the positional arguments.
struct Args {
    QStringList positional;
    std::map<QString, QString> options;
    bool has(const QString& name) const { return options.count(name) != 0; }
    QString value(const QString& name) const
    {
        auto it = options.find(name);
        return it == options.end() ? QString() : it->second;
    }
};

bool parseArgs(const QStringList& in, const QStringList& valued, Args& out, QString& error)
{
    for (int i = 0; i < in.size(); ++i) {
        const QString& a = in[i];
        if (a.startsWith("--")) {
            const QString name = a.mid(2);
            if (valued.contains(name)) {
                if (i + 1 >= in.size()) {
                    error = "option --" + name + " needs a value";
                    return false;
                }
                out.options[name] = in[++i];
            } else {
                out.options[name] = "1";
            }
        } else {
            out.positional << a;
        }
    }
    return true;
}

bool parseFrame(const Args& args, imaging::LoadOptions& opts, QString& error)
{
    if (!args.has("frame"))
        return true;
    bool ok = false;
    const int f = args.value("frame").toInt(&ok);
    if (!ok || f < 0) {
        error = "--frame needs a frame index (0-based)";
        return false;
    }
    opts.frame = f;
    return true;
}

bool parseWindow(const Args& args, imaging::RenderParams& p, QString& error)
{
    if (!args.has("window"))
        return true;
    const QStringList cw = args.value("window").split(',');
    bool okC = false, okW = false;
    if (cw.size() == 2) {
        p.window.center = cw[0].toDouble(&okC);
        p.window.width = cw[1].toDouble(&okW);
    }
    if (!okC || !okW || p.window.width <= 0) {
        error = "--window needs CENTER,WIDTH with WIDTH > 0";
        return false;
    }
    p.useVoiLut = false;
    return true;
}

QJsonObject windowJson(const imaging::Window& w)
{
    return QJsonObject{
        {"center", w.center}, {"width", w.width}, {"explanation", QString::fromStdString(w.explanation)}};
}

int cmdInfo(const QStringList& argv)
{
    Args args;
    QString error;
    if (!parseArgs(argv, {"frame"}, args, error) || args.positional.size() != 1)
        return error.isEmpty() ? usage(stderr) : fail("info", error.toStdString());
    imaging::LoadOptions opts;
    opts.tags = args.has("tags");
    if (!parseFrame(args, opts, error))
        return fail("info", error.toStdString());
    const QString file = args.positional[0];
    auto r = imaging::loadImage(file.toStdString(), opts);
    if (!r)
        return fail(file, r.error());
    const imaging::Image& img = r.value();

    if (args.has("json")) {
        QJsonObject o;
        o["file"] = file;
        o["format"] = QString::fromStdString(img.format);
        o["width"] = img.width();
        o["height"] = img.height();
        o["channels"] = img.channels();
        o["bitsStored"] = img.bitsStored;
        o["signed"] = img.isSigned;
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
    std::printf("Bits stored:   %d (%s)\n", img.bitsStored, img.isSigned ? "signed" : "unsigned");
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

int cmdConvert(const QStringList& argv)
{
    Args args;
    QString error;
    if (!parseArgs(argv, {"frame", "window"}, args, error) || args.positional.size() != 2)
        return error.isEmpty() ? usage(stderr) : fail("convert", error.toStdString());
    imaging::LoadOptions opts;
    if (!parseFrame(args, opts, error))
        return fail("convert", error.toStdString());
    const QString file = args.positional[0];
    const QString out = args.positional[1];
    auto r = imaging::loadImage(file.toStdString(), opts);
    if (!r)
        return fail(file, r.error());
    const imaging::Image& img = r.value();

    cv::Mat pixels;
    if (args.has("raw16")) {
        if (img.pixels.depth() == CV_16S) {
            // PNG has no signed samples: shift into the unsigned range, and say so.
            img.pixels.convertTo(pixels, CV_16U, 1.0, 32768.0);
            std::fprintf(stderr, "lightbox-cli: note: signed values shifted by +32768\n");
        } else if (img.pixels.depth() == CV_32S) {
            return fail(file, "32-bit values do not fit a 16-bit PNG");
        } else {
            img.pixels.convertTo(pixels, CV_MAKETYPE(CV_16U, img.channels()));
        }
    } else {
        imaging::RenderParams p;
        p.window = img.defaultWindow();
        p.useVoiLut = img.fileWindows.empty() && img.voiLut.valid();
        if (!parseWindow(args, p, error))
            return fail("convert", error.toStdString());
        pixels = imaging::render8(img, p);
    }
    auto w = imaging::writePng(pixels, out.toStdString());
    if (!w)
        return fail(out, w.error());
    return 0;
}

int cmdCrop(const QStringList& argv)
{
    Args args;
    QString error;
    if (!parseArgs(argv, {"frame", "window", "roi", "label", "dataset", "size"}, args, error) ||
        args.positional.size() != 1)
        return error.isEmpty() ? usage(stderr) : fail("crop", error.toStdString());
    if (!args.has("roi") || !args.has("label") || !args.has("dataset"))
        return fail("crop", "--roi, --label and --dataset are required");
    const QStringList r = args.value("roi").split(',');
    bool ok = r.size() == 4;
    int v[4] = {0, 0, 0, 0};
    for (int i = 0; ok && i < 4; ++i)
        v[i] = r[i].toInt(&ok);
    if (!ok || v[2] < 1 || v[3] < 1)
        return fail("crop", "--roi needs X,Y,W,H in image pixels");
    imaging::LoadOptions opts;
    if (!parseFrame(args, opts, error))
        return fail("crop", error.toStdString());
    const QString file = args.positional[0];
    auto loaded = imaging::loadImage(file.toStdString(), opts);
    if (!loaded)
        return fail(file, loaded.error());
    const imaging::Image& img = loaded.value();

    data::CropSettings settings;
    settings.datasetRoot = args.value("dataset");
    settings.raw = args.has("raw");
    if (args.has("size")) {
        const int n = args.value("size").toInt(&ok);
        if (!ok || n < 1)
            return fail("crop", "--size needs a positive number of pixels");
        settings.outputWidth = settings.outputHeight = n;
    }
    settings.render.window = img.defaultWindow();
    settings.render.useVoiLut = img.fileWindows.empty() && img.voiLut.valid();
    if (!parseWindow(args, settings.render, error))
        return fail("crop", error.toStdString());
    data::CropExporter exporter;
    auto saved = exporter.save(img, cv::Rect(v[0], v[1], v[2], v[3]), args.value("label"), settings);
    if (!saved)
        return fail(file, saved.error());
    std::printf("%s\n", qPrintable(QDir(settings.datasetRoot).filePath(saved->file)));
    return 0;
}

/// "OUT.png" for one input, "OUT-<input stem>.png" for several.
QString camPath(const QString& out, const QString& input, bool several)
{
    if (!several)
        return out;
    const QFileInfo o(out);
    const QString stem = QFileInfo(input).completeBaseName();
    return o.path() + "/" + o.completeBaseName() + "-" + stem + "." + (o.suffix().isEmpty() ? "png" : o.suffix());
}

/// The crop over the image with the map (JET colours) blended on top, RGB order.
cv::Mat camOverlay(const cv::Mat& crop8, const ml::CamMap& cam)
{
    cv::Mat map(cam.height, cam.width, CV_32F, const_cast<float*>(cam.values.data()));
    cv::Mat resized, map8, colour, base;
    cv::resize(map, resized, crop8.size(), 0, 0, cv::INTER_LINEAR);
    resized.convertTo(map8, CV_8U, 255.0);
    cv::applyColorMap(map8, colour, cv::COLORMAP_JET);
    cv::cvtColor(colour, colour, cv::COLOR_BGR2RGB);
    if (crop8.channels() == 1)
        cv::cvtColor(crop8, base, cv::COLOR_GRAY2RGB);
    else
        base = crop8;
    cv::Mat out;
    cv::addWeighted(base, 0.6, colour, 0.4, 0.0, out);
    return out;
}

int cmdPredict(const QStringList& argv)
{
    Args args;
    QString error;
    if (!parseArgs(argv, {"model", "device", "roi", "cam", "cam-method", "class", "layer", "threads", "frame"}, args,
                   error) ||
        args.positional.isEmpty() || !args.has("model"))
        return error.isEmpty() ? usage(stderr) : fail("predict", error.toStdString());

    ml::ClassifierOptions copts;
    if (args.has("device"))
        copts.device = args.value("device").toStdString();
    if (args.has("threads"))
        copts.threads = args.value("threads").toInt();
    auto classifier = ml::Classifier::load(args.value("model").toStdString(), copts);
    if (!classifier)
        return fail(args.value("model"), classifier.error());
    const ml::ModelCard& card = classifier->card();

    ml::PredictOptions popts;
    if (args.has("cam")) {
        const QString method = args.has("cam-method") ? args.value("cam-method") : "gradcam";
        if (method == "gradcam")
            popts.cam = ml::CamMethod::GradCam;
        else if (method == "gradcam++")
            popts.cam = ml::CamMethod::GradCamPlusPlus;
        else
            return fail("predict", "--cam-method must be gradcam or gradcam++");
        popts.layer = args.value("layer").toStdString();
        if (args.has("class")) {
            bool ok = false;
            popts.targetClass = args.value("class").toInt(&ok);
            if (!ok || popts.targetClass < 0 || popts.targetClass >= card.numClasses())
                return fail("predict", "--class needs a class index below " + std::to_string(card.numClasses()));
        }
    }
    cv::Rect roi;
    if (args.has("roi")) {
        const QStringList parts = args.value("roi").split(',');
        bool ok = parts.size() == 4;
        int v[4] = {0, 0, 0, 0};
        for (int i = 0; ok && i < 4; ++i)
            v[i] = parts[i].toInt(&ok);
        if (!ok || v[2] <= 0 || v[3] <= 0)
            return fail("predict", "--roi needs X,Y,W,H with W, H > 0");
        roi = cv::Rect(v[0], v[1], v[2], v[3]);
    }
    imaging::LoadOptions lopts;
    if (!parseFrame(args, lopts, error))
        return fail("predict", error.toStdString());

    const bool json = args.has("json");
    QJsonArray results;
    int failures = 0;
    for (const QString& file : args.positional) {
        auto img = imaging::loadImage(file.toStdString(), lopts);
        if (!img) {
            fail(file, img.error());
            ++failures;
            continue;
        }
        // The model sees what the reader sees: the default window, MONOCHROME1 inverted.
        std::optional<cv::Rect> cropRect;
        if (args.has("roi"))
            cropRect = roi;
        auto view = data::modelView(img.value(), cropRect);
        if (!view) {
            fail(file, view.error());
            ++failures;
            continue;
        }
        const cv::Mat& shown = view.value();
        const ml::RawImage raw = data::toRawImage(shown);
        auto p = classifier->predictRaw(raw, popts);
        if (!p) {
            fail(file, p.error());
            ++failures;
            continue;
        }
        QString camFile;
        if (popts.cam != ml::CamMethod::None) {
            camFile = camPath(args.value("cam"), file, args.positional.size() > 1);
            auto w = imaging::writePng(camOverlay(shown, p->camUpsampled), camFile.toStdString());
            if (!w) {
                fail(camFile, w.error());
                ++failures;
            }
        }
        if (json) {
            QJsonObject o{{"file", file},
                          {"class", p->topClass},
                          {"className", QString::fromStdString(p->topClassName)},
                          {"probability", p->topProbability},
                          {"device", QString::fromStdString(p->device)},
                          {"latencyMs", p->latencyMs}};
            QJsonObject probs;
            for (size_t i = 0; i < p->probabilities.size(); ++i)
                probs[QString::fromStdString(card.classNames[i])] = p->probabilities[i];
            o["probabilities"] = probs;
            if (card.ordinal)
                o["expectedGrade"] = p->expectedGrade;
            if (!camFile.isEmpty())
                o["cam"] = QJsonObject{{"file", camFile},
                                       {"method", ml::toString(popts.cam)},
                                       {"class", p->camClass},
                                       {"layer", QString::fromStdString(p->camLayer)}};
            results.append(o);
        } else {
            std::printf("%s: %s (%.1f %%)", qPrintable(file), p->topClassName.c_str(), 100.0 * p->topProbability);
            if (card.ordinal)
                std::printf(", expected grade %.2f", p->expectedGrade);
            std::printf("  [%.1f ms on %s]\n", p->latencyMs, p->device.c_str());
            for (size_t i = 0; i < p->probabilities.size(); ++i)
                std::printf("  %-20s %6.2f %%\n", card.classNames[i].c_str(), 100.0 * p->probabilities[i]);
            if (!camFile.isEmpty())
                std::printf("  %s map of class %d at %s -> %s\n", ml::toString(popts.cam), p->camClass,
                            p->camLayer.c_str(), qPrintable(camFile));
        }
    }
    if (json) {
        QJsonObject doc{{"model", args.value("model")},
                        {"architecture", QString::fromStdString(card.architecture)},
                        {"task", QString::fromStdString(card.task)},
                        {"results", results}};
        std::printf("%s", QJsonDocument(doc).toJson(QJsonDocument::Indented).constData());
    }
    return failures ? 1 : 0;
}

int cmdVersion()
{
    ml::configureThreads();
    std::printf("lightbox-cli %s\nLibTorch %s\n", LIGHTBOX_VERSION, ml::torchSummary().c_str());
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QStringList args = QCoreApplication::arguments().mid(1);
    if (args.isEmpty())
        return usage(stderr);
    const QString cmd = args.takeFirst();
    if (cmd == "-h" || cmd == "--help" || cmd == "help")
        return usage(stdout);
    if (cmd == "info")
        return cmdInfo(args);
    if (cmd == "convert")
        return cmdConvert(args);
    if (cmd == "crop")
        return cmdCrop(args);
    if (cmd == "predict")
        return cmdPredict(args);
    if (cmd == "version" || cmd == "--version")
        return cmdVersion();
    std::fprintf(stderr, "lightbox-cli: unknown command '%s'\n", qPrintable(cmd));
    return usage(stderr);
}
