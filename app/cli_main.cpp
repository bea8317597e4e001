// lightbox-cli: everything the GUI does, headless.
#include <Report.h>
#include <data/CropExporter.h>
#include <data/Loader.h>
#include <data/ModelInput.h>
#include <data/TaskPreset.h>
#include <imaging/DicomWriter.h>
#include <imaging/ImageLoader.h>
#include <imaging/ImageWriter.h>
#include <imaging/Render.h>
#include <jobs/Calibrate.h>
#include <jobs/PredictJob.h>
#include <jobs/TrainingWorker.h>
#include <ml/Bundle.h>
#include <ml/Classifier.h>
#include <ml/Runtime.h>

#include <opencv2/imgproc.hpp>

#include <QCoreApplication>
#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QGuiApplication>
#include <QImage>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>
#include <QThread>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <unistd.h>

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
                      "  report --model M --out OUT.pdf [--identify] [--device D] [--frame N] FILE\n"
                      "      one-page PDF: the image with the model's Grad-CAM map, probabilities, model,\n"
                      "      out-of-distribution verdict; de-identified unless --identify\n"
                      "  export-sc FILE --out OUT.dcm [--model M] [--device D] [--frame N]\n"
                      "      the image (default window), with the model's Grad-CAM map when given, as a\n"
                      "      DICOM Secondary Capture in its study (de-identified for non-DICOM images)\n"
                      "  predict --model M [--device D] [--roi X,Y,W,H] [--cam OUT.png] [--cam-method M]\n"
                      "          [--class N] [--layer NAME] [--threads N] [--reduced-precision] [--tta]\n"
                      "          [--json] FILE...\n"
                      "      classify each image (rendered with its default window, optionally cropped)\n"
                      "      with a model bundle or TorchScript file; --cam writes a Grad-CAM overlay\n"
                      "      (OUT-<name>.png for several files); --cam-method gradcam|gradcam++;\n"
                      "      --device auto|cpu|cuda|cuda:N; --reduced-precision: float16 on a GPU,\n"
                      "      bfloat16 on a CPU with AVX-512 BF16 or AMX (faster, slightly different);\n"
                      "      --tta: test-time augmentation, the image also mirrored and shifted as\n"
                      "      the model's task was trained, probabilities and maps averaged; prints\n"
                      "      whether the image is out of distribution when the model has a detector\n"
                      "  train --data DIR --arch A --out RUN_DIR [--preset P] [--epochs N] [--batch N]\n"
                      "        [--lr X] [--weight-decay X] [--optimizer adam|adamw|sgd] [--size N]\n"
                      "        [--channels 1|3] [--augment PRESET] [--patience N] [--schedule S]\n"
                      "        [--label-smoothing X] [--device D] [--threads N] [--loader-threads N]\n"
                      "        [--seed N] [--balanced] [--class-weights] [--no-leakage-check]\n"
                      "        [--skip-empty-classes] [--shortcut-check]\n"
                      "        [--patient-pattern REGEX] [--ordinal-sigma X] [--mixed-precision]\n"
                      "        [--head softmax|corn] [--split-seed N] [--ensemble K] [--resume]\n"
                      "      trains a zoo network on a data set folder (one sub-folder per class,\n"
                      "      optionally under train/ val/ test/), CSV or crop-tool root; splits\n"
                      "      8:1:1 by patient when none are given, checks for leakage, keeps the best\n"
                      "      epoch on val as RUN_DIR/best.lbx and evaluates it on test (val when\n"
                      "      there is no test). --resume continues RUN_DIR after a stop (Ctrl-C).\n"
                      "      --threads: LibTorch CPU threads (default: cores - 1; 0 = all cores)\n"
                      "      --split-seed N: carve the splits with N instead of --seed (ensemble\n"
                      "      members share one test split)\n"
                      "      --ensemble K: train K members (seeds N, N+1, ...; one split) in\n"
                      "      RUN_DIR/member-k and join them into RUN_DIR/ensemble.lbx\n"
                      "      --ordinal-sigma X: graded tasks learn from Gaussian soft labels X grades\n"
                      "      wide instead of one-hot ones\n"
                      "      --head corn: graded tasks get a CORN ordinal head (K-1 conditional\n"
                      "      binary outputs, P(y > k) falling with k) instead of softmax\n"
                      "      --skip-empty-classes: train on the task's classes that have images and\n"
                      "      record the others in the card as not covered; without it a class with\n"
                      "      no images stops training with a message naming it\n"
                      "      --mixed-precision: float16 autocast on a GPU, bfloat16 on a CPU with\n"
                      "      AVX-512 BF16 or AMX (about twice as fast there); weights stay float32\n"
                      "      --shortcut-check: run the shortcut check (below) before training and\n"
                      "      record its result in the card\n"
                      "  shortcut-check --data DIR [--preset P] [--seed N] [--epochs N] [--size N]\n"
                      "                 [--blank F] [--channels 1|3] [--threads N] [--json]\n"
                      "                 [--record-in MODEL]\n"
                      "      trains a small probe for a few epochs on the training images with the\n"
                      "      centre blanked (F of the width and height, default 0.7: borders, markers\n"
                      "      and text only) and measures it on val; far above chance means the labels\n"
                      "      can be read from the borders alone (exit status 3 when flagged);\n"
                      "      --record-in writes the result into a bundle's card\n"
                      "  evaluate --model M --data DIR [--split test|val|train|all] [--preset P]\n"
                      "           [--device D] [--threads N] [--batch N] [--seed N] [--out DIR]\n"
                      "           [--splits CSV|DIR] [--reduced-precision] [--tta] [--json]\n"
                      "      accuracy, per-class scores, confusion matrix, AUC (and QWK/MAE for\n"
                      "      graded labels), calibration error (ECE) and the share of images the\n"
                      "      out-of-distribution detector flags, of a bundle on one split; the split\n"
                      "      comes from --splits or the run folder's splits.csv beside the model;\n"
                      "      a plain folder of class sub-folders without either is evaluated\n"
                      "      whole unless --split asks for a carve\n"
                      "  calibrate --model M --data DIR [--out OUT] [--method auto|mahalanobis|energy]\n"
                      "            [--combine sum|excess|max|last] [--percentile P] [--splits CSV|DIR]\n"
                      "            [--seed N] [--preset P] [--cut-points] [--record-test]\n"
                      "      fits, without re-training, an out-of-distribution detector on the\n"
                      "      network's features of the train split (class Gaussians with a shared\n"
                      "      covariance over blocks of the input and of every stage, the blocks' scores\n"
                      "      summed; the energy score is calibrated too), its\n"
                      "      threshold at the P-th percentile of val (default 97.5) and a\n"
                      "      temperature on val; writes the bundle to OUT (default: over M);\n"
                      "      --cut-points: graded tasks get cut points on the expected grade tuned\n"
                      "      for QWK on val, kept when they beat the top class there;\n"
                      "      --record-test: evaluate the result on test and record it in the card\n"
                      "  ensemble --out OUT.lbx M1 M2 [M...]\n"
                      "      joins bundles of one architecture and task into an ensemble whose\n"
                      "      softmax outputs are averaged (then calibrate it)\n"
                      "  version\n"
                      "      versions of Lightbox and LibTorch, and the devices it can use\n");
    return out == stderr ? 2 : 0;
}

int fail(const QString& file, const std::string& message)
{
    // Messages that already name the file ("PATH is empty") are not prefixed with it again.
    const std::string name = file.toStdString();
    if (!name.empty() && message.rfind(name, 0) == 0)
        std::fprintf(stderr, "lightbox-cli: %s\n", message.c_str());
    else
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

/// The image of export-sc and report (its one positional FILE, --frame) and what the reader
/// sees of it (the default window, MONOCHROME1 inverted); 0, or the exit code after a message.
int loadReaderView(const Args& args, const char* command, imaging::Image& img, cv::Mat& view)
{
    const QString file = args.positional.front();
    imaging::LoadOptions lopts;
    QString error;
    if (!parseFrame(args, lopts, error))
        return fail(command, error.toStdString());
    auto loaded = imaging::loadImage(file.toStdString(), lopts);
    if (!loaded)
        return fail(file, loaded.error());
    auto shown = data::modelView(loaded.value(), std::nullopt);
    if (!shown)
        return fail(file, shown.error());
    img = std::move(loaded.value());
    view = shown.value();
    return 0;
}

/// The model's (--model, --device) prediction with a Grad-CAM map of `view`; 0, or the exit
/// code after a message.
int classifyWithCam(const Args& args, const cv::Mat& view, ml::Prediction& prediction, ml::ModelCard& card)
{
    ml::ClassifierOptions copts;
    if (args.has("device"))
        copts.device = args.value("device").toStdString();
    auto classifier = ml::Classifier::load(args.value("model").toStdString(), copts);
    if (!classifier)
        return fail(args.value("model"), classifier.error());
    ml::PredictOptions popts;
    popts.cam = ml::CamMethod::GradCam;
    auto p = classifier->predictRaw(data::toRawImage(view), popts);
    if (!p)
        return fail(args.positional.front(), p.error());
    prediction = std::move(p.value());
    card = classifier->card();
    return 0;
}

/// export-sc FILE --out OUT.dcm [--model M]: the image as the reader sees it (its default
/// window), with the model's Grad-CAM map over it when a model is given, as a DICOM Secondary
/// Capture in the image's study (de-identified placeholders for other images).
int cmdExportSc(const QStringList& argv)
{
    Args args;
    QString error;
    if (!parseArgs(argv, {"out", "model", "device", "frame"}, args, error) || args.positional.size() != 1 ||
        !args.has("out"))
        return error.isEmpty() ? usage(stderr) : fail("export-sc", error.toStdString());
    imaging::Image image;
    cv::Mat view;
    if (const int rc = loadReaderView(args, "export-sc", image, view))
        return rc;
    cv::Mat rgb;
    if (view.channels() == 1)
        cv::cvtColor(view, rgb, cv::COLOR_GRAY2RGB);
    else
        rgb = view;
    const imaging::Window w = image.defaultWindow();
    std::string derivation =
        "Lightbox view of " +
        (image.format == "DICOM" ? image.keyTag("SOPInstanceUID") : "a " + image.format + " file") + ": window W " +
        std::to_string(std::lround(w.width)) + " L " + std::to_string(std::lround(w.center));
    if (args.has("model")) {
        ml::Prediction pred;
        ml::ModelCard card;
        if (const int rc = classifyWithCam(args, view, pred, card))
            return rc;
        rgb = camOverlay(view, pred.camUpsampled);
        char prob[32];
        std::snprintf(prob, sizeof prob, "%.3f", pred.topProbability);
        derivation += ", Grad-CAM heat map of " + pred.topClassName + " (p " + prob + ") by " +
                      QFileInfo(args.value("model")).fileName().toStdString() +
                      (pred.ood.flagged ? ", out of distribution: not reliable" : "");
    }
    imaging::SecondaryCaptureInfo info;
    info.derivation = derivation;
    info.seriesDescription = "Lightbox view";
    auto written = imaging::writeSecondaryCapture(rgb, image, info, args.value("out").toStdString());
    if (!written)
        return fail(args.value("out"), written.error());
    std::printf("%s\nstudy %s\nseries %s\ninstance %s%s\n", qPrintable(args.value("out")),
                written->studyInstanceUid.c_str(), written->seriesInstanceUid.c_str(), written->sopInstanceUid.c_str(),
                written->deidentified ? "\nde-identified (the image is no DICOM)" : "");
    return 0;
}

/// report --model M --out OUT.pdf [--identify] FILE: the one-page PDF report of the image
/// classified by the model, with its Grad-CAM map, de-identified unless --identify.
int cmdReport(const QStringList& argv)
{
    Args args;
    QString error;
    if (!parseArgs(argv, {"out", "model", "device", "frame"}, args, error) || args.positional.size() != 1 ||
        !args.has("out") || !args.has("model"))
        return error.isEmpty() ? usage(stderr) : fail("report", error.toStdString());
    imaging::Image image;
    cv::Mat view;
    ml::Prediction pred;
    ml::ModelCard card;
    if (const int rc = loadReaderView(args, "report", image, view))
        return rc;
    if (const int rc = classifyWithCam(args, view, pred, card))
        return rc;
    const cv::Mat rgb = camOverlay(view, pred.camUpsampled);

    ui::ReportData d;
    d.view = QImage(rgb.data, rgb.cols, rgb.rows, static_cast<qsizetype>(rgb.step), QImage::Format_RGB888).copy();
    d.drawColourBar = true;
    d.heatMapTitle = QStringLiteral("Grad-CAM of %1").arg(QString::fromStdString(pred.topClassName));
    d.describe(image, args.has("identify"));
    d.modelName = QFileInfo(args.value("model")).fileName();
    d.modelSummary = QStringLiteral("%1, %2, %3 classes")
                         .arg(QString::fromStdString(card.task), QString::fromStdString(card.architecture))
                         .arg(card.numClasses());
    for (size_t i = 0; i < pred.probabilities.size(); ++i)
        d.probabilities.push_back({QString::fromStdString(card.classNames[i]), pred.probabilities[i]});
    d.topClass = pred.topClass;
    if (card.ordinal)
        d.gradeText = QStringLiteral("Expected grade %1").arg(pred.expectedGrade, 0, 'f', 2);
    d.oodAvailable = pred.ood.available;
    d.oodFlagged = pred.ood.flagged;
    d.oodText = QStringLiteral("score %1, percentile %2 of the validation images")
                    .arg(pred.ood.score, 0, 'f', 1)
                    .arg(pred.ood.percentile, 0, 'f', 1);
    d.version = QStringLiteral(LIGHTBOX_VERSION);
    auto written = ui::writeReportPdf(d, args.value("out"));
    if (!written)
        return fail(args.value("out"), written.error());
    std::printf("%s\n", qPrintable(args.value("out")));
    return 0;
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
    copts.halfPrecision = args.has("reduced-precision");
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
    if (args.has("tta"))
        popts.tta = jobs::ttaFor(card, /*fallbackFlip=*/true);
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
            if (!card.cutPoints.empty()) {
                o["grade"] = p->grade;
                o["gradeName"] = QString::fromStdString(card.classNames[static_cast<size_t>(p->grade)]);
            }
            if (p->temperature != 1.0)
                o["temperature"] = p->temperature;
            if (p->memberProbabilities.size() > 1) {
                QJsonArray members;
                for (const auto& m : p->memberProbabilities) {
                    QJsonArray probs;
                    for (float v : m)
                        probs.append(v);
                    members.append(probs);
                }
                o["members"] = QJsonObject{
                    {"probabilities", members}, {"agreeing", p->membersAgreeing}, {"spread", p->memberSpread}};
            }
            if (p->views > 1) {
                o["views"] = p->views;
                o["ttaExtraMs"] = std::max(0.0, p->latencyMs - p->singleViewMs);
            }
            if (p->ood.available)
                o["ood"] = QJsonObject{{"score", p->ood.score},
                                       {"percentile", p->ood.percentile},
                                       {"flagged", p->ood.flagged},
                                       {"method", QString::fromStdString(p->ood.method)}};
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
            if (!card.cutPoints.empty())
                std::printf(" -> %s under the model's cut points",
                            card.classNames[static_cast<size_t>(p->grade)].c_str());
            if (p->views > 1)
                std::printf("  [%.1f ms on %s: %d views of test-time augmentation, %.1f ms for one]\n", p->latencyMs,
                            p->device.c_str(), p->views, p->singleViewMs);
            else
                std::printf("  [%.1f ms on %s]\n", p->latencyMs, p->device.c_str());
            if (p->memberProbabilities.size() > 1)
                std::printf("  %d of %zu networks of the ensemble agree; their %s probabilities spread +-%.1f %%\n",
                            p->membersAgreeing, p->memberProbabilities.size(), p->topClassName.c_str(),
                            100.0 * p->memberSpread);
            if (p->ood.available && p->ood.flagged)
                std::printf("  OUT OF DISTRIBUTION: this image is unlike the images this model was trained on "
                            "(%s score above %.1f %% of its validation images); do not trust the probabilities\n",
                            p->ood.method.c_str(), p->ood.percentile);
            else if (p->ood.available)
                std::printf("  in distribution (%s score at the %.0fth percentile of the validation images)\n",
                            p->ood.method.c_str(), p->ood.percentile);
            for (const auto& n : card.notCovered)
                std::printf("  (the model does not cover %s: it was trained without images of it)\n", n.c_str());
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
        if (!card.notCovered.empty()) {
            QJsonArray uncovered;
            for (const auto& n : card.notCovered)
                uncovered.append(QString::fromStdString(n));
            doc["notCovered"] = uncovered;
        }
        std::printf("%s", QJsonDocument(doc).toJson(QJsonDocument::Indented).constData());
    }
    return failures ? 1 : 0;
}

// ---------------------------------------------------------------------------------------
// train / evaluate

std::atomic<jobs::TrainingWorker*> g_worker{nullptr};
std::atomic<int> g_stopSignals{0};

void onStopSignal(int)
{
    if (g_stopSignals.fetch_add(1) > 0)
        _exit(130); // a second Ctrl-C does not wait for the batch
    if (jobs::TrainingWorker* w = g_worker.load())
        w->stop(); // atomic stores only
}

std::string duration(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0)
        return "?";
    const long t = std::lround(seconds);
    char buf[32];
    if (t >= 3600)
        std::snprintf(buf, sizeof buf, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60)
        std::snprintf(buf, sizeof buf, "%ldm%02lds", t / 60, t % 60);
    else
        std::snprintf(buf, sizeof buf, "%lds", t);
    return buf;
}

std::string number(double v, const char* format = "%.4f")
{
    if (!std::isfinite(v))
        return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, format, v);
    return buf;
}

void printReport(const ml::ClassificationReport& r, FILE* out)
{
    std::fprintf(out, "samples %lld  accuracy %s  balanced accuracy %s  macro F1 %s  macro AUC %s\n",
                 static_cast<long long>(r.samples), number(r.accuracy).c_str(), number(r.balancedAccuracy).c_str(),
                 number(r.macroF1).c_str(), number(r.macroAuc).c_str());
    if (r.ordinal)
        std::fprintf(out, "quadratic weighted kappa %s  mean absolute error %s (grades)\n",
                     number(r.quadraticKappa).c_str(), number(r.meanAbsoluteError).c_str());
    size_t nameWidth = 5;
    for (const auto& n : r.classNames)
        nameWidth = std::max(nameWidth, n.size());
    const int w = static_cast<int>(std::min<size_t>(nameWidth, 40));
    std::fprintf(out, "%-*s  precision  recall  f1      support  auc     predicted\n", w, "class");
    for (int c = 0; c < r.numClasses; ++c) {
        const ml::ClassScores s = c < static_cast<int>(r.perClass.size()) ? r.perClass[c] : ml::ClassScores{};
        const double auc = c < static_cast<int>(r.roc.size()) ? r.roc[c].auc : NAN;
        const long long predicted = c < static_cast<int>(r.predictedCounts.size()) ? r.predictedCounts[c] : 0;
        std::fprintf(out, "%-*s  %-9s  %-6s  %-6s  %7lld  %-6s  %9lld\n", w, r.classNames[c].c_str(),
                     number(s.precision, "%.3f").c_str(), number(s.recall, "%.3f").c_str(),
                     number(s.f1, "%.3f").c_str(), static_cast<long long>(s.support), number(auc, "%.3f").c_str(),
                     predicted);
    }
    std::fprintf(out, "confusion matrix (rows: true, columns: predicted)\n");
    for (int t = 0; t < static_cast<int>(r.confusion.size()); ++t) {
        std::fprintf(out, "%-*s ", w, r.classNames[t].c_str());
        for (int64_t v : r.confusion[t])
            std::fprintf(out, " %6lld", static_cast<long long>(v));
        std::fprintf(out, "\n");
    }
}

bool parseIntOption(const Args& args, const char* name, int minimum, int& out, QString& error)
{
    if (!args.has(name))
        return true;
    bool ok = false;
    const int v = args.value(name).toInt(&ok);
    if (!ok || v < minimum) {
        error = QString("--%1 needs a whole number >= %2").arg(name).arg(minimum);
        return false;
    }
    out = v;
    return true;
}

bool parseDoubleOption(const Args& args, const char* name, double minimum, double& out, QString& error)
{
    if (!args.has(name))
        return true;
    bool ok = false;
    const double v = args.value(name).toDouble(&ok);
    if (!ok || !std::isfinite(v) || v < minimum) {
        error = QString("--%1 needs a number >= %2").arg(name).arg(minimum);
        return false;
    }
    out = v;
    return true;
}

/// Builds the training request from the command line (or the run folder with --resume).
Result<jobs::TrainingRequest> trainRequest(const Args& args)
{
    using R = Result<jobs::TrainingRequest>;
    QString error;
    auto fail = [&](const QString& e) { return R::failure(e.toStdString()); };
    const std::string out = args.value("out").toStdString();
    if (out.empty())
        return fail("--out RUN_DIR is required");

    jobs::TrainingRequest req;
    if (args.has("resume")) {
        auto r = jobs::TrainingRequest::fromRunFolder(out);
        if (!r)
            return r;
        req = r.value();
        if (!parseIntOption(args, "epochs", 1, req.config.epochs, error))
            return fail(error);
        if (args.has("device"))
            req.config.device = args.value("device").toStdString();
        if (!parseIntOption(args, "threads", 0, req.config.threads, error) ||
            !parseIntOption(args, "loader-threads", 0, req.loaderThreads, error))
            return fail(error);
        return req;
    }

    if (!args.has("data"))
        return fail("--data DIR is required");
    req.dataPath = args.value("data").toStdString();
    req.config.runDir = out;
    // One core stays for the loader: LibTorch's threads spinning against it (or other work on
    // a shared machine) cost more than the extra core gains. --threads 0 = all cores.
    req.config.threads = std::max(1, QThread::idealThreadCount() - 1);
    int channels = 1;
    int size = 224;
    if (args.has("preset")) {
        const data::TaskPreset* preset = data::findTaskPreset(args.value("preset").toStdString());
        if (!preset) {
            QStringList ids;
            for (const auto& p : data::taskPresets())
                ids << QString::fromStdString(p.id);
            return fail("unknown preset '" + args.value("preset") + "' (known: " + ids.join(", ") + ")");
        }
        jobs::applyPreset(*preset, req);
        channels = preset->channels;
        size = preset->inputSize;
    }
    std::string known;
    for (const auto& a : ml::modelArchitectures())
        known += (known.empty() ? "" : ", ") + a;
    if (args.has("arch"))
        req.config.architecture = args.value("arch").toStdString();
    else if (!args.has("preset"))
        return fail("--arch is required (one of: " + QString::fromStdString(known) + ")");
    const auto archs = ml::modelArchitectures();
    if (std::find(archs.begin(), archs.end(), req.config.architecture) == archs.end())
        return fail("unknown network '" + QString::fromStdString(req.config.architecture) +
                    "' (known: " + QString::fromStdString(known) + ")");
    if (!parseIntOption(args, "size", 8, size, error) || !parseIntOption(args, "channels", 1, channels, error))
        return fail(error);
    if (channels != 1 && channels != 3)
        return fail("--channels must be 1 or 3");
    req.config.preprocess = jobs::defaultPreprocess(channels, size);
    int seed = static_cast<int>(req.config.seed);
    int patience = req.config.earlyStopPatience;
    if (!parseIntOption(args, "epochs", 1, req.config.epochs, error) ||
        !parseIntOption(args, "batch", 1, req.batchSize, error) ||
        !parseIntOption(args, "patience", 0, patience, error) ||
        !parseIntOption(args, "threads", 0, req.config.threads, error) ||
        !parseIntOption(args, "loader-threads", 0, req.loaderThreads, error) ||
        !parseIntOption(args, "seed", 0, seed, error) ||
        !parseDoubleOption(args, "lr", 0.0, req.config.learningRate, error) ||
        !parseDoubleOption(args, "weight-decay", 0.0, req.config.weightDecay, error) ||
        !parseDoubleOption(args, "label-smoothing", 0.0, req.config.labelSmoothing, error) ||
        !parseDoubleOption(args, "ordinal-sigma", 0.0, req.config.ordinalSigma, error))
        return fail(error);
    req.config.earlyStopPatience = patience;
    req.config.seed = static_cast<uint64_t>(seed);
    // The split has its own seed when asked (members of an ensemble share one test carve).
    int splitSeed = seed;
    if (!parseIntOption(args, "split-seed", 0, splitSeed, error))
        return fail(error);
    req.split.seed = static_cast<uint64_t>(splitSeed);
    if (args.has("optimizer"))
        req.config.optimizer = args.value("optimizer").toStdString();
    if (args.has("schedule"))
        req.config.schedule = args.value("schedule").toStdString();
    if (args.has("head"))
        req.config.head = args.value("head").toStdString();
    if (args.has("device"))
        req.config.device = args.value("device").toStdString();
    if (args.has("augment"))
        req.augmentPreset = args.value("augment").toStdString();
    if (args.has("patient-pattern"))
        req.dataset.patientPattern = args.value("patient-pattern").toStdString();
    req.balanced = args.has("balanced");
    req.skipEmptyClasses = args.has("skip-empty-classes");
    req.checkShortcut = args.has("shortcut-check");
    req.config.mixedPrecision = args.has("mixed-precision");
    req.classWeightsFromCounts = args.has("class-weights");
    req.checkLeakage = !args.has("no-leakage-check");
    data::AugmentOptions probe;
    if (!data::AugmentOptions::fromPreset(req.augmentPreset, probe))
        return fail("unknown augmentation preset '" + QString::fromStdString(req.augmentPreset) + "'");
    if (ml::Trainer::canResume(out))
        return fail(QString::fromStdString(out) + " already holds a run: add --resume to continue it, or choose "
                                                  "another --out");
    if (const std::string problem = req.config.validate(); !problem.empty() && !req.config.classNames.empty())
        return fail(QString::fromStdString(problem));
    return req;
}

int runTraining(const jobs::TrainingRequest& req);
int trainEnsemble(const Args& args, int members, const QString& out);
Result<std::string> writeEnsemble(const std::vector<std::string>& paths, const std::string& out);

int cmdTrain(const QStringList& argv)
{
    Args args;
    QString error;
    if (!parseArgs(
            argv, {"data",          "arch",     "preset",   "epochs",         "batch",    "lr",       "weight-decay",
                   "optimizer",     "size",     "channels", "augment",        "patience", "schedule", "label-smoothing",
                   "ordinal-sigma", "device",   "threads",  "loader-threads", "seed",     "out",      "patient-pattern",
                   "split-seed",    "ensemble", "head"},
            args, error) ||
        !args.positional.isEmpty())
        return error.isEmpty() ? usage(stderr) : fail("train", error.toStdString());
    int members = 1;
    if (!parseIntOption(args, "ensemble", 1, members, error))
        return fail("train", error.toStdString());
    const QString out = args.value("out");
    if (members > 1 || QFileInfo::exists(out + "/member-1")) {
        if (members > 32)
            return fail("train", "--ensemble takes at most 32 members");
        return trainEnsemble(args, members, out);
    }
    auto request = trainRequest(args);
    if (!request)
        return fail("train", request.error());
    return runTraining(request.value());
}

/// An ensemble: K members trained one after another in OUT/member-1 ... member-K, each with
/// its own initialisation seed (seed + k - 1) and the same split (the split seed, or the seed),
/// then joined into OUT/ensemble.lbx and evaluated on the test split. A stopped run continues
/// with --resume: finished members are kept, a stopped one resumes, missing ones start.
int trainEnsemble(const Args& args, int members, const QString& out)
{
    const bool resume = args.has("resume");
    if (resume) {
        members = 0;
        while (QFileInfo::exists(QString("%1/member-%2").arg(out).arg(members + 1)))
            ++members;
        int asked = 0;
        QString error;
        if (args.has("ensemble") && parseIntOption(args, "ensemble", 1, asked, error))
            members = std::max(members, asked);
    }
    std::optional<jobs::TrainingRequest> first;
    std::vector<std::string> bundles;
    for (int k = 1; k <= members; ++k) {
        const QString dir = QString("%1/member-%2").arg(out).arg(k);
        jobs::TrainingRequest req;
        if (ml::Trainer::canResume(dir.toStdString()) && !QFileInfo::exists(dir + "/report.json")) {
            auto r = jobs::TrainingRequest::fromRunFolder(dir.toStdString());
            if (!r)
                return fail("train", r.error());
            req = r.value();
        } else if (QFileInfo::exists(dir + "/report.json")) {
            std::printf("== member %d of %d: trained (%s)\n", k, members, qPrintable(dir));
            bundles.push_back((dir + "/best.lbx").toStdString());
            if (!first) {
                auto r = jobs::TrainingRequest::fromRunFolder(dir.toStdString());
                if (r)
                    first = r.value();
            }
            continue;
        } else if (first) {
            req = *first; // same data, recipe and split; the next seed
            req.resume = false;
            req.config.runDir = dir.toStdString();
            req.config.seed = first->config.seed + static_cast<uint64_t>(k - 1);
        } else if (!resume) {
            Args memberArgs = args;
            memberArgs.options["out"] = dir;
            memberArgs.options.erase("ensemble");
            int seed = 42;
            QString error;
            parseIntOption(args, "seed", 0, seed, error);
            memberArgs.options["seed"] = QString::number(seed + k - 1);
            if (!args.has("split-seed"))
                memberArgs.options["split-seed"] = QString::number(seed);
            auto r = trainRequest(memberArgs);
            if (!r)
                return fail("train", r.error());
            req = r.value();
        } else {
            return fail("train", "cannot continue the ensemble in " + out.toStdString() +
                                     ": its first member holds no run to copy");
        }
        std::printf("== member %d of %d: seed %llu, split seed %llu\n", k, members,
                    static_cast<unsigned long long>(req.config.seed), static_cast<unsigned long long>(req.split.seed));
        std::fflush(stdout);
        const int rc = runTraining(req);
        if (rc != 0)
            return rc;
        if (!first) {
            first = req;
            first->config.seed = req.config.seed - static_cast<uint64_t>(k - 1);
        }
        bundles.push_back((dir + "/best.lbx").toStdString());
    }
    const std::string ensemble = (out + "/ensemble.lbx").toStdString();
    auto written = writeEnsemble(bundles, ensemble);
    if (!written)
        return fail("train", written.error());
    std::printf("joined %zu members into %s; calibrate it next (lightbox-cli calibrate --model %s --data DIR "
                "--splits %s/member-1)\n",
                bundles.size(), ensemble.c_str(), ensemble.c_str(), qPrintable(out));
    return 0;
}

/// Runs one training request with progress on the terminal; returns the exit status.
int runTraining(const jobs::TrainingRequest& req)
{
    const bool tty = isatty(fileno(stderr));
    const int epochs = req.config.epochs;

    jobs::TrainingWorker worker(req);
    bool progressShown = false;
    auto clearProgress = [&] {
        if (progressShown && tty)
            std::fprintf(stderr, "\r%*s\r", 110, "");
        progressShown = false;
    };
    QObject::connect(&worker, &jobs::TrainingWorker::stageChanged, [&](const QString& stage) {
        clearProgress();
        std::printf("== %s\n", qPrintable(stage));
        std::fflush(stdout);
    });
    QObject::connect(&worker, &jobs::TrainingWorker::logMessage, [&](const QString& text) {
        clearProgress();
        std::printf("   %s\n", qPrintable(text));
        std::fflush(stdout);
    });
    QObject::connect(&worker, &jobs::TrainingWorker::datasetReady, [&](const jobs::DatasetSummary& d) {
        std::printf("data set %s: %lld samples, %zu classes, %s\n", d.root.c_str(), static_cast<long long>(d.samples),
                    d.classNames.size(), d.hasGivenSplits ? "given splits" : "split 8:1:1 by patient");
        const char* names[] = {"train", "val", "test"};
        for (size_t s = 0; s < d.countsPerSplit.size() && s < 3; ++s) {
            long long total = 0;
            std::string counts;
            for (size_t c = 0; c < d.countsPerSplit[s].size(); ++c) {
                total += d.countsPerSplit[s][c];
                counts += (c ? " " : "") + d.classNames[c] + ":" + std::to_string(d.countsPerSplit[s][c]);
            }
            std::printf("  %-5s %6lld  (%s)\n", names[s], total, counts.c_str());
        }
        if (d.stats.measured > 0)
            std::printf("  image size %d-%d x %d-%d px (mean %.0f x %.0f, %lld measured)\n", d.stats.minWidth,
                        d.stats.maxWidth, d.stats.minHeight, d.stats.maxHeight, d.stats.meanWidth, d.stats.meanHeight,
                        static_cast<long long>(d.stats.measured));
        if (!d.skipped.empty())
            std::printf("  %zu file(s) left out while listing, e.g. %s\n", d.skipped.size(), d.skipped[0].c_str());
        std::fflush(stdout);
    });
    QObject::connect(&worker, &jobs::TrainingWorker::leakageChecked, [&](const jobs::LeakageSummary& l) {
        std::printf("leakage check: %s\n", l.report.summary().c_str());
        for (size_t i = 0; i < l.report.examples.size() && i < 5; ++i)
            std::printf("  %s\n", l.report.examples[i].c_str());
        if (!l.report.clean())
            std::printf("  WARNING: images or patients shared between splits inflate the validation and test "
                        "scores\n");
        std::fflush(stdout);
    });
    QObject::connect(&worker, &jobs::TrainingWorker::shortcutChecked, [&](const jobs::ShortcutReport& s) {
        std::printf("shortcut check: %s\n", s.summary().c_str());
        if (s.flagged)
            std::printf("  WARNING: a network reads the labels from the image borders alone\n");
        std::fflush(stdout);
    });
    QElapsedTimer sinceProgress;
    sinceProgress.start();
    QObject::connect(&worker, &jobs::TrainingWorker::batchProgress, [&](const ml::BatchMetrics& m) {
        const bool last = m.batch + 1 >= m.batchCount;
        if (!tty && !last && sinceProgress.elapsed() < 2000)
            return;
        sinceProgress.restart();
        constexpr int kWidth = 24;
        const double frac = m.batchCount > 0 ? double(m.batch + 1) / m.batchCount : 0.0;
        const int filled = std::clamp(static_cast<int>(std::lround(frac * kWidth)), 0, kWidth);
        std::fprintf(stderr, "\repoch %d/%d [%s%s] %d/%d  loss %.4f  acc %.3f  %.0f img/s  %s left   ", m.epoch + 1,
                     epochs, std::string(filled, '#').c_str(), std::string(kWidth - filled, '.').c_str(), m.batch + 1,
                     m.batchCount, m.loss, m.accuracy, m.imagesPerSecond, duration(m.secondsLeft).c_str());
        if (!tty)
            std::fprintf(stderr, "\n");
        std::fflush(stderr);
        progressShown = true;
    });
    QObject::connect(&worker, &jobs::TrainingWorker::epochCompleted, [&](const ml::EpochMetrics& e) {
        clearProgress();
        std::printf("epoch %d/%d  train loss %.4f acc %.4f  val loss %s acc %s", e.epoch + 1, epochs, e.trainLoss,
                    e.trainAccuracy, number(e.valLoss).c_str(), number(e.valAccuracy).c_str());
        if (std::isfinite(e.valQwk))
            std::printf(" qwk %.4f", e.valQwk);
        std::printf("  lr %.3g  %.1f s  %.0f img/s%s\n", e.learningRate, e.seconds, e.imagesPerSecond,
                    e.best ? "  * best" : "");
        std::fflush(stdout);
    });
    int rc = 0;
    QObject::connect(&worker, &jobs::TrainingWorker::failed, [&](const QString& message) {
        clearProgress();
        rc = fail("train", message.toStdString());
    });
    QObject::connect(&worker, &jobs::TrainingWorker::finished, [&](const jobs::TrainingOutcome& o) {
        clearProgress();
        const ml::TrainSummary& s = o.summary;
        if (s.cancelled) {
            if (ml::Trainer::canResume(o.runDir))
                std::printf("stopped after %zu epoch(s); continue with: lightbox-cli train --resume --out %s\n",
                            s.history.size(), o.runDir.c_str());
            else
                std::printf("stopped before the first epoch finished: nothing to resume in %s\n", o.runDir.c_str());
            rc = 130;
            return;
        }
        std::printf("trained %zu epoch(s) on %s%s; best epoch %d, model %s\n", s.history.size(), s.device.c_str(),
                    s.stoppedEarly ? " (stopped early)" : "", s.bestEpoch + 1, s.bestBundle.c_str());
        if (!s.skipped.empty())
            std::printf("%zu unreadable sample(s) skipped, e.g. %s\n", s.skipped.size(), s.skipped[0].c_str());
        if (o.report.numClasses > 0) {
            std::printf("evaluation on the %s split:\n", o.evaluatedSplit.c_str());
            printReport(o.report, stdout);
            for (const auto& f : o.reportFiles)
                std::printf("wrote %s\n", f.c_str());
        }
    });

    g_worker = &worker;
    std::signal(SIGINT, onStopSignal);
    std::signal(SIGTERM, onStopSignal);
    worker.run();
    std::signal(SIGINT, SIG_DFL);
    std::signal(SIGTERM, SIG_DFL);
    g_worker = nullptr;
    return rc;
}

/// Gives `dataset` the splits its model was trained with: the splits.csv named by --splits (a
/// file or the run folder holding it), else the one beside the bundle (--model), else the data
/// set's given splits or the 8:1:1 carve by patient with `seed`. Returns where they came from.
Result<std::string> applyModelSplits(const Args& args, data::Dataset& dataset, int seed, bool* carved = nullptr)
{
    if (carved)
        *carved = false;
    QString dir = args.has("splits") ? args.value("splits") : QFileInfo(args.value("model")).absolutePath();
    if (QFileInfo(dir).isFile())
        dir = QFileInfo(dir).absolutePath();
    const std::string runDir = dir.toStdString();
    if (args.has("splits") && !QFileInfo::exists(dir + "/splits.csv"))
        return Result<std::string>::failure("no splits.csv in " + runDir);
    if (jobs::readSplits(dataset, runDir))
        return args.has("splits") ? "splits.csv in " + runDir : std::string("splits.csv of the run folder");
    data::SplitOptions so;
    so.seed = static_cast<uint64_t>(seed);
    data::assignSplits(dataset, so);
    if (carved)
        *carved = !dataset.hasGivenSplits;
    return dataset.hasGivenSplits ? std::string("given splits")
                                  : "split 8:1:1 by patient, seed " + std::to_string(seed);
}

int cmdEvaluate(const QStringList& argv)
{
    Args args;
    QString error;
    if (!parseArgs(argv, {"model", "data", "split", "preset", "device", "threads", "batch", "seed", "out", "splits"},
                   args, error) ||
        !args.positional.isEmpty() || !args.has("model") || !args.has("data"))
        return error.isEmpty() ? usage(stderr) : fail("evaluate", error.toStdString());
    const std::string modelPath = args.value("model").toStdString();
    auto model = ml::loadModel(modelPath);
    if (!model)
        return fail(args.value("model"), model.error());
    const ml::ModelCard& card = model->card;

    const data::TaskPreset* preset =
        data::findTaskPreset(args.has("preset") ? args.value("preset").toStdString() : card.task);
    if (args.has("preset") && !preset)
        return fail("evaluate", "unknown preset '" + args.value("preset").toStdString() + "'");
    const data::DatasetOptions options = jobs::datasetOptionsForModel(preset, card);
    auto dataset = data::loadDataset(args.value("data").toStdString(), options);
    if (!dataset)
        return fail(args.value("data"), dataset.error());

    int seed = 42, threads = 0, batch = 32;
    if (!parseIntOption(args, "seed", 0, seed, error) || !parseIntOption(args, "threads", 0, threads, error) ||
        !parseIntOption(args, "batch", 1, batch, error))
        return fail("evaluate", error.toStdString());
    bool carved = false;
    auto splitSource = applyModelSplits(args, dataset.value(), seed, &carved);
    if (!splitSource)
        return fail("evaluate", splitSource.error());
    // A plain folder (no train/val/test structure, no splits.csv of the model's run) is a
    // held-out set handed in whole: every image is evaluated unless --split asks for a carve.
    const bool wholeFolder = carved && !args.has("split");
    if (wholeFolder) {
        splitSource = std::string("the whole folder (no train/val/test sub-folders, no splits.csv of the model)");
        std::fprintf(stderr,
                     "lightbox-cli: note: %s has no train/val/test sub-folders and no splits.csv belongs to the "
                     "model: evaluating all %zu images (--split test|val|train picks a carve by patient)\n",
                     args.value("data").toLocal8Bit().constData(), dataset->samples.size());
    }
    const QString splitName = wholeFolder ? "all" : args.has("split") ? args.value("split") : "test";
    data::Split split = data::Split::Unassigned;
    if (splitName == "test")
        split = data::Split::Test;
    else if (splitName == "val")
        split = data::Split::Val;
    else if (splitName == "train")
        split = data::Split::Train;
    else if (splitName != "all")
        return fail("evaluate", "--split must be test, val, train or all");
    if (split == data::Split::Test && !args.has("split") && dataset->inSplit(data::Split::Test).empty()) {
        std::fprintf(stderr, "lightbox-cli: note: the data set has no test split; evaluating on val\n");
        split = data::Split::Val;
    }
    const std::string device = args.has("device") ? args.value("device").toStdString() : "auto";
    const ml::TtaOptions tta = args.has("tta") ? jobs::ttaFor(card, /*fallbackFlip=*/true) : ml::TtaOptions{};
    auto result = jobs::evaluateBundle(modelPath, dataset.value(), split, device, threads, batch,
                                       args.has("reduced-precision"), tta);
    if (!result)
        return fail("evaluate", result.error());
    if (args.has("out")) {
        auto files = jobs::writeReportFiles(result.value(), args.value("out").toStdString());
        if (!files)
            return fail("evaluate", files.error());
    }
    if (args.has("json")) {
        ml::Json::Object doc = result->toJson().object();
        doc["model"] = modelPath;
        doc["architecture"] = card.architecture;
        doc["task"] = card.task;
        doc["data"] = args.value("data").toStdString();
        doc["split"] = result->split;
        doc["split_source"] = splitSource.value();
        doc["precision"] = result->precision;
        ml::Json::Object cardMetrics;
        for (const auto& [k, v] : card.metrics)
            cardMetrics[k] = v;
        doc["card_metrics"] = ml::Json(cardMetrics); // what the model's card says it earned
        ml::Json::Array uncovered;
        for (const auto& n : card.notCovered)
            uncovered.emplace_back(n);
        doc["not_covered"] = ml::Json(uncovered);
        doc["seconds"] = result->seconds;
        ml::Json::Array skipped;
        for (const auto& s : result->skipped)
            skipped.emplace_back(s);
        doc["skipped"] = ml::Json(skipped);
        std::printf("%s\n", ml::Json(doc).dump(2).c_str());
        return 0;
    }
    std::printf("model %s (%s, task %s)\n", modelPath.c_str(), card.architecture.c_str(),
                card.task.empty() ? "-" : card.task.c_str());
    std::printf("data %s, %s split (%s), %s, %.1f s%s\n", qPrintable(args.value("data")), result->split.c_str(),
                splitSource->c_str(), result->precision.c_str(), result->seconds,
                result->views > 1 ? (", test-time augmentation: " + std::to_string(result->views) + " views").c_str()
                                  : "");
    if (!result->skipped.empty())
        std::printf("%zu unreadable sample(s) skipped, e.g. %s\n", result->skipped.size(), result->skipped[0].c_str());
    printReport(result->report, stdout);
    const ml::ClassificationReport& rep = result->report;
    std::printf("expected calibration error (15 bins): %s", number(rep.calibration.ece).c_str());
    if (rep.temperature != 1.0)
        std::printf(" with temperature %.3f, %s without", rep.temperature, number(rep.uncalibrated.ece).c_str());
    std::printf("\n");
    if (!result->oodMethod.empty())
        std::printf("out of distribution (%s): %lld of %zu images flagged (%.1f %%)\n", result->oodMethod.c_str(),
                    static_cast<long long>(result->oodFlagged), result->ood.size(), 100.0 * result->oodFlaggedShare());
    return 0;
}

int cmdCalibrate(const QStringList& argv)
{
    Args args;
    QString error;
    if (!parseArgs(argv,
                   {"model", "data", "out", "preset", "method", "combine", "percentile", "seed", "splits", "device",
                    "threads", "batch"},
                   args, error) ||
        !args.positional.isEmpty() || !args.has("model") || !args.has("data"))
        return error.isEmpty() ? usage(stderr) : fail("calibrate", error.toStdString());
    const std::string modelPath = args.value("model").toStdString();
    auto card = ml::readModelCard(modelPath);
    if (!card)
        return fail(args.value("model"), card.error());
    const data::TaskPreset* preset =
        data::findTaskPreset(args.has("preset") ? args.value("preset").toStdString() : card->task);
    if (args.has("preset") && !preset)
        return fail("calibrate", "unknown preset '" + args.value("preset").toStdString() + "'");
    auto dataset =
        data::loadDataset(args.value("data").toStdString(), jobs::datasetOptionsForModel(preset, card.value()));
    if (!dataset)
        return fail(args.value("data"), dataset.error());
    jobs::CalibrateOptions o;
    int seed = 42;
    if (!parseIntOption(args, "seed", 0, seed, error) || !parseIntOption(args, "threads", 0, o.threads, error) ||
        !parseIntOption(args, "batch", 1, o.batchSize, error) ||
        !parseDoubleOption(args, "percentile", 50.0, o.percentile, error))
        return fail("calibrate", error.toStdString());
    if (args.has("method"))
        o.method = args.value("method").toStdString();
    if (args.has("combine"))
        o.combine = args.value("combine").toStdString();
    o.cutPoints = args.has("cut-points");
    o.recordTest = args.has("record-test");
    if (args.has("device"))
        o.device = args.value("device").toStdString();
    auto splitSource = applyModelSplits(args, dataset.value(), seed);
    if (!splitSource)
        return fail("calibrate", splitSource.error());
    std::printf("calibrating %s on %s (%s)\n", modelPath.c_str(), qPrintable(args.value("data")), splitSource->c_str());
    std::fflush(stdout);
    auto r = jobs::calibrateBundle(modelPath, dataset.value(), o);
    if (!r)
        return fail("calibrate", r.error());
    const std::string out = args.has("out") ? args.value("out").toStdString() : modelPath;
    if (auto w = jobs::writeCalibratedBundle(r.value(), out); !w)
        return fail("calibrate", w.error());
    std::printf("features of %lld train and %lld val images, %.1f s\n", static_cast<long long>(r->trainImages),
                static_cast<long long>(r->valImages), r->seconds);
    std::printf("temperature %.3f: val ECE %.4f -> %.4f, NLL %.4f -> %.4f\n", r->temperature, r->before.ece,
                r->after.ece, r->before.nll, r->after.nll);
    const ml::OodCard& ood = r->card.ood;
    if (ood.mahalanobis.valid())
        std::printf("mahalanobis: threshold %.4g at the %.1fth val percentile (%.1f %% of val flagged)\n",
                    ood.mahalanobis.threshold, ood.thresholdPercentile, 100.0 * ood.mahalanobis.valFlagged);
    std::printf("energy: threshold %.4g at the %.1fth val percentile (%.1f %% of val flagged)\n", ood.energy.threshold,
                ood.thresholdPercentile, 100.0 * ood.energy.valFlagged);
    if (r->card.ordinal)
        std::printf("val QWK: top class %.4f%s\n", r->valQwkArgmax,
                    o.cutPoints ? QString(", cut points %1 (%2)")
                                      .arg(r->valQwkCutPoints, 0, 'f', 4)
                                      .arg(r->cutPointsKept ? "kept" : "not kept: the top class wins on val")
                                      .toUtf8()
                                      .constData()
                                : "");
    if (o.recordTest)
        std::printf("test (recorded in the card): accuracy %.4f, QWK %.4f, ECE %.4f on %lld images\n", r->test.accuracy,
                    r->test.quadraticKappa, r->test.calibration.ece, static_cast<long long>(r->test.samples));
    std::printf("detector in use: %s (%s); wrote %s\n", ood.method.c_str(), ood.combine.c_str(), out.c_str());
    if (!r->skipped.empty())
        std::printf("%zu unreadable sample(s) skipped, e.g. %s\n", r->skipped.size(), r->skipped[0].c_str());
    return 0;
}

int cmdShortcutCheck(const QStringList& argv)
{
    Args args;
    QString error;
    if (!parseArgs(argv,
                   {"data", "preset", "seed", "epochs", "size", "blank", "channels", "threads", "device", "record-in"},
                   args, error) ||
        !args.positional.isEmpty() || !args.has("data"))
        return error.isEmpty() ? usage(stderr) : fail("shortcut-check", error.toStdString());
    const data::TaskPreset* preset = nullptr;
    if (args.has("preset")) {
        preset = data::findTaskPreset(args.value("preset").toStdString());
        if (!preset)
            return fail("shortcut-check", "unknown preset '" + args.value("preset").toStdString() + "'");
    }
    auto dataset = data::loadDataset(args.value("data").toStdString(), jobs::datasetOptionsFor(preset));
    if (!dataset)
        return fail(args.value("data"), dataset.error());
    jobs::ShortcutOptions so;
    so.channels = preset ? preset->channels : 1;
    int seed = 42;
    if (!parseIntOption(args, "seed", 0, seed, error) || !parseIntOption(args, "epochs", 1, so.epochs, error) ||
        !parseIntOption(args, "size", 16, so.size, error) || !parseIntOption(args, "channels", 1, so.channels, error) ||
        !parseIntOption(args, "threads", 0, so.threads, error) ||
        !parseDoubleOption(args, "blank", 0.0, so.blankFraction, error))
        return fail("shortcut-check", error.toStdString());
    so.seed = static_cast<uint64_t>(seed);
    so.threads = args.has("threads") ? so.threads : std::max(1, QThread::idealThreadCount() - 1);
    if (args.has("device"))
        so.device = args.value("device").toStdString();
    // Only classes with images take part (a task class without data cannot be probed).
    std::vector<std::string> names;
    for (size_t i = 0; i < dataset->classNames.size(); ++i)
        names.push_back(preset && i < preset->displayNames.size() ? preset->displayNames[i] : dataset->classNames[i]);
    const std::vector<size_t> empty = dataset->removeEmptyClasses();
    for (auto it = empty.rbegin(); it != empty.rend(); ++it)
        names.erase(names.begin() + static_cast<std::ptrdiff_t>(*it));
    data::SplitOptions split;
    split.seed = so.seed;
    data::assignSplits(dataset.value(), split);
    auto report = jobs::checkShortcut(dataset.value(), names, so);
    if (!report)
        return fail("shortcut-check", report.error());
    const jobs::ShortcutReport& r = report.value();
    if (args.has("json")) {
        ml::Json::Array recall;
        for (double v : r.recall)
            recall.emplace_back(v);
        ml::Json::Array classes;
        for (const auto& n : r.classNames)
            classes.emplace_back(n);
        ml::Json::Object doc{{"data", args.value("data").toStdString()},
                             {"classes", ml::Json(classes)},
                             {"blank_fraction", r.blankFraction},
                             {"train_samples", static_cast<double>(r.trainSamples)},
                             {"eval_samples", static_cast<double>(r.evalSamples)},
                             {"split", r.evaluatedSplit},
                             {"balanced_accuracy", r.balancedAccuracy},
                             {"accuracy", r.accuracy},
                             {"macro_auc", std::isfinite(r.macroAuc) ? ml::Json(r.macroAuc) : ml::Json()},
                             {"chance", r.chance},
                             {"margin", r.margin},
                             {"recall", ml::Json(recall)},
                             {"flagged", r.flagged},
                             {"seconds", r.seconds}};
        std::printf("%s\n", ml::Json(doc).dump(2).c_str());
    } else {
        std::printf("shortcut check of %s: %lld training images, %s\n", qPrintable(args.value("data")),
                    static_cast<long long>(r.trainSamples), r.summary().c_str());
        for (size_t i = 0; i < r.recall.size() && i < r.classNames.size(); ++i)
            std::printf("  %-28s recall %.2f\n", r.classNames[i].c_str(), r.recall[i]);
        std::printf("  %.0f s\n", r.seconds);
    }
    if (args.has("record-in")) {
        // The result goes into a bundle's card, where the classify panel shows it.
        const std::string path = args.value("record-in").toStdString();
        auto model = ml::loadModel(path);
        if (!model)
            return fail(args.value("record-in"), model.error());
        ml::ModelCard card = model->card;
        r.recordIn(card);
        if (auto saved = ml::saveBundle(model->model, card, path, &model->gaussians); !saved)
            return fail(args.value("record-in"), saved.error());
        std::fprintf(stderr, "lightbox-cli: recorded in %s\n", path.c_str());
    }
    return r.flagged ? 3 : 0;
}

/// Joins bundles of one architecture and task into an ensemble bundle whose softmax outputs are
/// averaged. The card is the first member's, without the figures and trust fields that
/// described it alone: calibrate the result (and record its test figures) before shipping it.
Result<std::string> writeEnsemble(const std::vector<std::string>& paths, const std::string& out)
{
    using R = Result<std::string>;
    std::vector<ml::Model> models;
    ml::ModelCard card;
    for (const auto& path : paths) {
        auto m = ml::loadModel(path);
        if (!m)
            return R::failure(path + ": " + m.error());
        if (models.empty()) {
            card = m->card;
        } else if (m->card.classNames != card.classNames || m->card.task != card.task ||
                   m->card.preprocess.width != card.preprocess.width ||
                   m->card.preprocess.height != card.preprocess.height ||
                   m->card.preprocess.channels != card.preprocess.channels ||
                   m->card.preprocess.mean != card.preprocess.mean || m->card.preprocess.std != card.preprocess.std) {
            return R::failure(path + ": its task, classes or preprocessing differ from " + paths[0] + "'s");
        }
        models.push_back(m->model);
    }
    auto ensemble = ml::makeEnsemble(models);
    if (!ensemble)
        return R::failure(ensemble.error());
    std::map<std::string, double> kept;
    for (const auto& [k, v] : card.metrics)
        if (k.rfind("shortcut_", 0) == 0)
            kept[k] = v;
    card.metrics = kept;
    card.temperature = 1.0;
    card.cutPoints.clear();
    card.ood = ml::OodCard();
    card.created = ml::isoTimestampUtc();
    std::string summary = "ensemble of " + std::to_string(paths.size()) + " networks averaged:";
    for (const auto& path : paths)
        summary += " " + QFileInfo(QString::fromStdString(path)).fileName().toStdString();
    card.trainingSummary = summary + "; first member: " + card.trainingSummary;
    if (auto saved = ml::saveBundle(ensemble.value(), card, out); !saved)
        return R::failure(saved.error());
    return out;
}

int cmdEnsemble(const QStringList& argv)
{
    Args args;
    QString error;
    if (!parseArgs(argv, {"out"}, args, error) || !args.has("out") || args.positional.size() < 2)
        return error.isEmpty() ? usage(stderr) : fail("ensemble", error.toStdString());
    std::vector<std::string> paths;
    for (const auto& p : args.positional)
        paths.push_back(p.toStdString());
    auto written = writeEnsemble(paths, args.value("out").toStdString());
    if (!written)
        return fail("ensemble", written.error());
    std::printf("wrote %s: %zu members averaged; calibrate it next (lightbox-cli calibrate --model %s --data DIR)\n",
                written->c_str(), paths.size(), written->c_str());
    return 0;
}

int cmdVersion()
{
    ml::configureThreads();
    std::printf("lightbox-cli %s\nLibTorch %s\nbfloat16 on this CPU: %s\n", LIGHTBOX_VERSION,
                ml::torchSummary().c_str(), ml::cpuHasFastBFloat16() ? "yes (AVX-512 BF16)" : "no");
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    // `report` draws text into a PDF: it needs fonts, so a GUI application (offscreen).
    const bool gui = argc > 1 && std::strcmp(argv[1], "report") == 0;
    if (gui && qEnvironmentVariableIsEmpty("QT_QPA_PLATFORM"))
        qputenv("QT_QPA_PLATFORM", "offscreen");
    std::unique_ptr<QCoreApplication> app =
        gui ? std::make_unique<QGuiApplication>(argc, argv) : std::make_unique<QCoreApplication>(argc, argv);
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
    if (cmd == "export-sc")
        return cmdExportSc(args);
    if (cmd == "report")
        return cmdReport(args);
    if (cmd == "train")
        return cmdTrain(args);
    if (cmd == "evaluate")
        return cmdEvaluate(args);
    if (cmd == "calibrate")
        return cmdCalibrate(args);
    if (cmd == "ensemble")
        return cmdEnsemble(args);
    if (cmd == "shortcut-check")
        return cmdShortcutCheck(args);
    if (cmd == "version" || cmd == "--version")
        return cmdVersion();
    std::fprintf(stderr, "lightbox-cli: unknown command '%s'\n", qPrintable(cmd));
    return usage(stderr);
}
