// Writes seeds that cannot be copied from elsewhere. Usage:
//   fuzz_make_seeds model OUT_DIR [--bundles] [BUNDLE...]
//     the cards of bundles made by saveBundle() (plain, graded with a temperature and cut
//     points, an ensemble, one with the out-of-distribution detector's Gaussians) as JSON,
//     plus the card of a CORN head and the cards of the given bundles (e.g. models/*.lbx);
//     with --bundles the made bundles too (cnn5, 4-8 MB each: too large to mutate usefully).
//     make_model_seeds.py wraps the cards in tiny archives.
//   fuzz_make_seeds raster OUT_DIR
//     small PNG (8/16 bit, grey, RGB, RGBA), JPEG (grey, colour), TIFF (8/16 bit) and BMP
//     images written by OpenCV, as Lightbox's own exports are.
//   fuzz_make_seeds jpeg2000 OUT_DIR
//     small JP2 files (8/16 bit, grey and RGB) written by OpenCV (the codestreams inside
//     DICOM files are extracted by fuzz.sh).
#include <ml/Bundle.h>
#include <ml/Model.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

using namespace lightbox::ml;

namespace {

ModelCard tinyCard(int classes)
{
    ModelCard card;
    card.architecture = "cnn5";
    card.task = "fuzz-seed";
    for (int c = 0; c < classes; ++c)
        card.classNames.push_back("grade " + std::to_string(c));
    card.preprocess.width = 16;
    card.preprocess.height = 16;
    card.preprocess.channels = 1;
    card.preprocess.mean = {0.5f};
    card.preprocess.std = {0.25f};
    card.trainingSummary = "seed";
    card.metrics["val_accuracy"] = 0.5;
    return card;
}

bool writeText(const std::string& path, const std::string& text)
{
    std::ofstream out(path, std::ios::binary);
    out << text;
    return bool(out);
}

} // namespace

/// A smooth gradient with a disc, `channels` x `depth`, so that codecs have structure to code.
cv::Mat pattern(int rows, int cols, int channels, int depth)
{
    cv::Mat m(rows, cols, CV_MAKETYPE(depth, channels));
    const double top = depth == CV_16U ? 65535.0 : 255.0;
    for (int y = 0; y < rows; ++y)
        for (int x = 0; x < cols; ++x)
            for (int c = 0; c < channels; ++c) {
                const double dx = x - cols / 2.0, dy = y - rows / 2.0;
                double v = (x + y * (c + 1)) / double(cols + rows * (c + 1)) * top;
                if (dx * dx + dy * dy < rows * cols / 9.0)
                    v = top - v;
                if (depth == CV_16U)
                    m.ptr<uint16_t>(y)[x * channels + c] = static_cast<uint16_t>(v);
                else
                    m.ptr<uint8_t>(y)[x * channels + c] = static_cast<uint8_t>(v);
            }
    return m;
}

int writeImages(const std::string& dir, const std::vector<std::pair<std::string, cv::Mat>>& images)
{
    int failures = 0;
    for (const auto& [name, image] : images) {
        bool ok = false;
        try {
            ok = cv::imwrite(dir + "/" + name, image);
        } catch (const cv::Exception& e) {
            std::fprintf(stderr, "%s: %s\n", name.c_str(), e.what());
        }
        if (!ok) {
            std::fprintf(stderr, "cannot write %s\n", name.c_str());
            ++failures;
        }
    }
    return failures;
}

int main(int argc, char** argv)
{
    const std::string kind = argc >= 3 ? argv[1] : "";
    if ((kind != "model" && kind != "raster" && kind != "jpeg2000") || (kind != "model" && argc > 3)) {
        std::fprintf(stderr, "usage: %s model OUT_DIR [--bundles] [BUNDLE...] | raster OUT_DIR | jpeg2000 OUT_DIR\n",
                     argv[0]);
        return 2;
    }
    const std::string dir = argv[2];
    if (kind == "raster")
        return writeImages(dir, {{"grey8.png", pattern(12, 10, 1, CV_8U)},
                                 {"grey16.png", pattern(9, 7, 1, CV_16U)},
                                 {"rgb8.png", pattern(8, 8, 3, CV_8U)},
                                 {"rgba8.png", pattern(5, 6, 4, CV_8U)},
                                 {"rgb16.png", pattern(6, 5, 3, CV_16U)},
                                 {"grey.jpg", pattern(16, 16, 1, CV_8U)},
                                 {"colour.jpg", pattern(17, 9, 3, CV_8U)},
                                 {"grey8.tif", pattern(8, 9, 1, CV_8U)},
                                 {"grey16.tif", pattern(7, 8, 1, CV_16U)},
                                 {"rgb8.tif", pattern(6, 6, 3, CV_8U)},
                                 {"grey8.bmp", pattern(7, 5, 1, CV_8U)},
                                 {"rgb8.bmp", pattern(5, 7, 3, CV_8U)}}) == 0
                   ? 0
                   : 1;
    if (kind == "jpeg2000")
        // OpenCV's writer wants 32 pixels a side or more (its default of six resolutions).
        return writeImages(dir, {{"grey8.jp2", pattern(33, 40, 1, CV_8U)},
                                 {"grey16.jp2", pattern(40, 33, 1, CV_16U)},
                                 {"rgb8.jp2", pattern(34, 34, 3, CV_8U)},
                                 {"rgb16.jp2", pattern(32, 36, 3, CV_16U)}}) == 0
                   ? 0
                   : 1;
    bool keepBundles = false;
    int failures = 0;
    for (int i = 3; i < argc; ++i) {
        const std::string arg = argv[i];
        if (arg == "--bundles") {
            keepBundles = true;
            continue;
        }
        auto card = readModelCard(arg);
        const std::string base = arg.substr(arg.find_last_of('/') + 1);
        if (card)
            writeText(dir + "/card-" + base.substr(0, base.rfind('.')) + ".json", card->toJsonText());
        else
            std::fprintf(stderr, "%s: %s\n", arg.c_str(), card.error().c_str());
    }
    auto save = [&](const Model& model, const ModelCard& card, const std::string& name,
                    const MahalanobisModel* gaussians = nullptr) {
        writeText(dir + "/" + name + ".json", card.toJsonText());
        const std::string bundle = dir + "/" + name + ".lbx";
        auto s = saveBundle(model, card, bundle, gaussians);
        if (!s) {
            std::fprintf(stderr, "%s: %s\n", name.c_str(), s.error().c_str());
            ++failures;
        }
        if (!keepBundles)
            std::remove(bundle.c_str());
    };

    auto plain = createModel("cnn5", 1, 2);
    if (!plain) {
        std::fprintf(stderr, "%s\n", plain.error().c_str());
        return 1;
    }
    save(plain.value(), tinyCard(2), "plain");

    ModelCard graded = tinyCard(3);
    graded.ordinal = true;
    graded.temperature = 1.25;
    graded.cutPoints = {0.5, 1.5};
    graded.notCovered = {"grade 4"};
    auto three = createModel("cnn5", 1, 3);
    if (three)
        save(three.value(), graded, "graded");
    graded.head = "corn"; // a CORN network needs the trainer: its card only
    writeText(dir + "/corn.json", graded.toJsonText());

    auto second = createModel("cnn5", 1, 2);
    if (second) {
        auto ensemble = makeEnsemble({plain.value(), second.value()});
        if (ensemble)
            save(ensemble.value(), tinyCard(2), "ensemble");
    }

    // Gaussians of the right shape (zero means, identity precision) and their card section.
    MahalanobisModel gaussians;
    int offset = 0;
    for (int dim : plain->featureBlocks()) {
        MahalanobisBlock b;
        b.offset = offset;
        b.dim = dim;
        b.means.assign(2, std::vector<float>(static_cast<size_t>(dim), 0.0f));
        b.precision.assign(static_cast<size_t>(dim) * dim, 0.0);
        for (int i = 0; i < dim; ++i)
            b.precision[static_cast<size_t>(i) * dim + i] = 1.0;
        offset += dim;
        gaussians.blocks.push_back(b);
    }
    ModelCard withOod = tinyCard(2);
    withOod.ood.method = "mahalanobis";
    withOod.ood.mahalanobis.valScores = {0.5, 1.0, 2.0};
    withOod.ood.mahalanobis.threshold = 1.5;
    withOod.ood.energy.valScores = {-3.0, -2.0};
    withOod.ood.energy.threshold = -2.5;
    withOod.ood.fittedOn = "seed";
    save(plain.value(), withOod, "ood", &gaussians);
    return failures == 0 ? 0 : 1;
}
