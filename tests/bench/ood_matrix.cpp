// The cross-task out-of-distribution matrix: every shipped model (models/*.lbx with a calibrated
// detector) runs on its own val and test images, on every other task's images from the shared
// data, on the shared DICOM chest and tibia radiographs, and on blank and noise images. For each
// detector (Mahalanobis on every stage's pooled features combined by their maximum or sum, on the
// penultimate layer alone, and the energy of the logits) it prints the share flagged with the
// threshold at the 97.5th percentile of the model's own val scores, and the AUROC of own test
// against all foreign images. The first table is the detector each card uses.
// Images go through the same path as the viewer and the CLI (load, default window, model view).
//
//   ood_matrix [--limit N] [--quick]   (N foreign images per data set, default 200)
#include <data/Dataset.h>
#include <data/ModelInput.h>
#include <data/TaskPreset.h>
#include <imaging/ImageLoader.h>
#include <jobs/TrainingWorker.h>
#include <ml/Bundle.h>
#include <ml/Classifier.h>
#include <ml/Metrics.h>
#include <ml/Runtime.h>

#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>
#include <map>
#include <random>

using namespace lightbox;

namespace {

struct Task {
    std::string name;    ///< bundle name in models/
    std::string dataset; ///< folder in the shared data
    std::string splits;  ///< docs/model-runs/<name> holding splits.csv, or empty (seeded carve)
    uint64_t seed = 7;
};

struct Column {
    std::string title;
    std::vector<std::string> files; ///< image files, or
    std::vector<cv::Mat> synthetic; ///< 8-bit images made here
    bool own = false;
};

std::vector<std::string> filesOf(const data::Dataset& d, data::Split split)
{
    std::vector<std::string> out;
    for (const auto& s : d.samples)
        if (split == data::Split::Unassigned || s.split == split)
            out.push_back(s.path);
    return out;
}

std::vector<std::string> sample(std::vector<std::string> files, int limit, uint64_t seed)
{
    std::mt19937_64 rng(seed);
    std::shuffle(files.begin(), files.end(), rng);
    if (static_cast<int>(files.size()) > limit)
        files.resize(static_cast<size_t>(limit));
    return files;
}

Result<data::Dataset> openData(const std::string& root, const std::string& taskId, const ml::ModelCard* card)
{
    const data::TaskPreset* preset = data::findTaskPreset(taskId);
    return data::loadDataset(root,
                             card ? jobs::datasetOptionsForModel(preset, *card) : jobs::datasetOptionsFor(preset));
}

} // namespace

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    int limit = 200;
    int ownLimit = 1 << 30; // own val and test: every image, but a smoke run samples them too
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--limit" && i + 1 < argc)
            limit = std::max(1, std::atoi(argv[++i]));
        else if (a == "--quick") {
            limit = 10;
            ownLimit = 100;
        }
    }
    const std::string src = LIGHTBOX_SOURCE_DIR, shared = LIGHTBOX_SHARED_DATA;
    if (!QFileInfo::exists(QString::fromStdString(shared + "/knee-kl"))) {
        std::printf("the shared data (%s) is missing: nothing measured\n", shared.c_str());
        return 77;
    }
    ml::configureThreads(1);
    const std::vector<Task> tasks = {
        {"knee-kl-resnet10s", "knee-kl", "", 7},
        {"chest-pneumonia-resnet10s", "chest-pneumonia", "docs/model-runs/chest-pneumonia-resnet10s", 7},
        {"chest-4class-resnet10s", "chest-4class", "docs/model-runs/chest-4class-resnet10s", 7},
        {"hand-sex-resnet10s", "hand-sex", "docs/model-runs/hand-sex-resnet10s", 7},
        {"skin-isic-resnet10s", "skin-isic", "docs/model-runs/skin-isic-resnet10s", 7},
    };

    // Foreign columns shared by every model: each data set (sampled), DICOM, blank and noise.
    std::map<std::string, std::vector<std::string>> foreign;
    for (const auto& t : tasks) {
        auto d = openData(shared + "/" + t.dataset, t.dataset, nullptr);
        if (!d) {
            std::fprintf(stderr, "%s: %s\n", t.dataset.c_str(), d.error().c_str());
            return 1;
        }
        foreign[t.dataset] = sample(filesOf(d.value(), data::Split::Unassigned), limit, 11);
    }
    const std::string dcm = shared + "/dicom/";
    const std::vector<std::string> chestDicom = {dcm + "chest-cr-RG1_raw.dcm", dcm + "chest-cr-RG1_J2KI.dcm",
                                                 dcm + "chest-cr-rsna-jpegbaseline.dcm"};
    const std::vector<std::string> tibiaDicom = {dcm + "tibia-cr-RG3_raw.dcm", dcm + "tibia-cr-RG3_J2KR.dcm",
                                                 dcm + "tibia-cr-RG3_J2KI.dcm"};
    std::vector<cv::Mat> blankNoise;
    for (int v : {0, 128, 255})
        blankNoise.emplace_back(512, 512, CV_8UC1, cv::Scalar(v));
    cv::RNG rng(5);
    for (int i = 0; i < 5; ++i) {
        cv::Mat n(512, 512, CV_8UC1);
        rng.fill(n, cv::RNG::UNIFORM, 0, 256);
        blankNoise.push_back(n);
        cv::Mat g(512, 512, CV_8UC1);
        rng.fill(g, cv::RNG::NORMAL, 128, 40);
        blankNoise.push_back(g);
    }

    const std::vector<std::string> variants = {"sum", "excess", "max", "last", "energy"};
    // scores[model][variant][column] = per-image scores
    using Scores = std::vector<double>;
    std::map<std::string, std::map<std::string, std::map<std::string, Scores>>> scores;
    std::map<std::string, std::string> chosen;
    std::vector<std::string> columnOrder;
    for (const auto& t : tasks) {
        const std::string bundle = src + "/models/" + t.name + ".lbx";
        ml::ClassifierOptions o;
        o.device = "cpu";
        o.threads = 1;
        auto c = ml::Classifier::load(bundle, o);
        if (!c) {
            std::fprintf(stderr, "%s: %s\n", bundle.c_str(), c.error().c_str());
            return 1;
        }
        const ml::ModelCard& card = c->card();
        if (!card.ood.valid() || !c->gaussians().valid()) {
            std::fprintf(stderr, "%s has no calibrated detector: run scripts/calibrate-models.sh first\n",
                         bundle.c_str());
            return 1;
        }
        chosen[t.name] = card.ood.method == "energy" ? "energy" : card.ood.combine;
        auto own = openData(shared + "/" + t.dataset, card.task, &card);
        if (!own) {
            std::fprintf(stderr, "%s\n", own.error().c_str());
            return 1;
        }
        if (t.splits.empty() || !jobs::readSplits(own.value(), src + "/" + t.splits)) {
            data::SplitOptions so;
            so.seed = t.seed;
            data::assignSplits(own.value(), so);
        }
        std::vector<Column> columns;
        columns.push_back({"own val", sample(filesOf(own.value(), data::Split::Val), ownLimit, 11), {}, true});
        columns.push_back({"own test", sample(filesOf(own.value(), data::Split::Test), ownLimit, 11), {}, true});
        for (const auto& other : tasks)
            if (other.dataset != t.dataset)
                columns.push_back({other.dataset, foreign[other.dataset], {}, false});
        columns.push_back({"DICOM chest", chestDicom, {}, false});
        columns.push_back({"DICOM tibia", tibiaDicom, {}, false});
        columns.push_back({"blank/noise", {}, blankNoise, false});
        for (const auto& col : columns) {
            if (std::find(columnOrder.begin(), columnOrder.end(), col.title) == columnOrder.end())
                columnOrder.push_back(col.title);
            auto score = [&](const cv::Mat& view) {
                auto p = c->predictRaw(data::toRawImage(view));
                if (!p)
                    return;
                for (const auto& v : variants)
                    scores[t.name][v][col.title].push_back(v == "energy" ? ml::energyScore(p->logits)
                                                                         : c->gaussians().score(p->features, v));
            };
            for (const auto& f : col.files) {
                auto img = imaging::loadImage(f);
                if (!img)
                    continue;
                auto view = data::modelView(img.value());
                if (view)
                    score(view.value());
            }
            for (const auto& m : col.synthetic)
                score(m);
        }
        std::fprintf(stderr, "%s scored\n", t.name.c_str());
    }

    auto flagged = [](const Scores& v, double threshold) {
        int k = 0;
        for (double x : v)
            k += !(x <= threshold);
        return k;
    };
    auto table = [&](const std::string& title, const std::function<std::string(const std::string&)>& variantOf) {
        std::printf("\n%s\n\n| model |", title.c_str());
        for (const auto& col : columnOrder)
            std::printf(" %s |", col.c_str());
        std::printf(" all foreign | AUROC own test vs foreign |\n|---|");
        for (size_t i = 0; i < columnOrder.size() + 2; ++i)
            std::printf("---:|");
        std::printf("\n");
        for (const auto& t : tasks) {
            const std::string v = variantOf(t.name);
            auto& byCol = scores[t.name][v];
            const double threshold = ml::OodThreshold::fromValScores(byCol["own val"], 97.5).threshold;
            std::printf("| %s (%s) |", t.name.c_str(), v.c_str());
            int foreignN = 0, foreignK = 0;
            std::vector<bool> positive;
            std::vector<double> all;
            for (const auto& col : columnOrder) {
                if (col == t.dataset) {
                    std::printf(" (own) |");
                    continue;
                }
                auto it = byCol.find(col);
                if (it == byCol.end()) {
                    std::printf(" |");
                    continue;
                }
                const int k = flagged(it->second, threshold), n = static_cast<int>(it->second.size());
                std::printf(" %.0f %% (%d) |", n ? 100.0 * k / n : 0.0, n);
                const bool isOwn = col == "own val" || col == "own test";
                if (!isOwn) {
                    foreignN += n;
                    foreignK += k;
                }
                if (col != "own val")
                    for (double x : it->second) {
                        positive.push_back(!isOwn);
                        all.push_back(x);
                    }
            }
            std::printf(" %.1f %% | %.3f |\n", foreignN ? 100.0 * foreignK / foreignN : 0.0,
                        ml::rocCurve(positive, all).auc);
        }
    };
    std::printf("Out-of-distribution matrix: share of images flagged, threshold at the 97.5th percentile of each "
                "model's own val scores; up to %d images per foreign data set\n",
                limit);
    table("Detector in each card", [&](const std::string& name) { return chosen[name]; });
    for (const auto& v : variants)
        table("Detector: " + v, [&](const std::string&) { return v; });
    return 0;
}
