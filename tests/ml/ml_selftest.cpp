// ml_selftest: a plain C++ check of core/ml (no Qt), for machines that have only a LibTorch,
// e.g. a GPU box built with -DLIGHTBOX_ML_ONLY=ON. Runs every architecture on the chosen
// device with Grad-CAM, a bundle round trip, refusal of a foreign file, and on a GPU the
// agreement of CPU, GPU and half-precision results. Exit status 0 when all checks pass.
#include <ml/Bundle.h>
#include <ml/Classifier.h>
#include <ml/Runtime.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <unistd.h>

using namespace lightbox::ml;

namespace {

int g_failures = 0;

void check(bool ok, const std::string& what)
{
    std::printf("%s  %s\n", ok ? "ok  " : "FAIL", what.c_str());
    if (!ok)
        ++g_failures;
}

InputImage randomInput(int c, int size, unsigned seed)
{
    InputImage in;
    in.channels = c;
    in.height = in.width = size;
    std::mt19937 rng(seed);
    std::normal_distribution<float> d;
    for (int i = 0; i < c * size * size; ++i)
        in.data.push_back(d(rng));
    return in;
}

ModelCard cardFor(const std::string& arch, int channels, int classes, int size)
{
    ModelCard c;
    c.architecture = arch;
    for (int i = 0; i < classes; ++i)
        c.classNames.push_back("c" + std::to_string(i));
    c.preprocess.width = c.preprocess.height = size;
    c.preprocess.channels = channels;
    c.preprocess.mean.assign(static_cast<size_t>(channels), 0.f);
    c.preprocess.std.assign(static_cast<size_t>(channels), 1.f);
    return c;
}

float maxDiff(const std::vector<float>& a, const std::vector<float>& b)
{
    if (a.size() != b.size())
        return INFINITY;
    float m = 0;
    for (size_t i = 0; i < a.size(); ++i)
        m = std::max(m, std::fabs(a[i] - b[i]));
    return m;
}

} // namespace

int main(int argc, char** argv)
{
    const std::string device = argc > 1 ? argv[1] : "auto";
    configureThreads(0);
    std::printf("LibTorch %s, device %s\n", torchSummary().c_str(), device.c_str());
    const auto dir = std::filesystem::temp_directory_path() / ("lightbox-ml-selftest-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);

    manualSeed(1);
    const int size = 64;
    for (const auto& arch : modelArchitectures()) {
        const int channels = arch == "resnet18" || arch == "cnn5" ? 1 : 3;
        auto model = createModel(arch, channels, 3);
        check(model.ok(), arch + ": create" + (model.ok() ? "" : " (" + model.error() + ")"));
        if (!model.ok())
            continue;
        const auto input = randomInput(channels, size, 7);
        auto cpuLogits = model->logits(input);
        const std::string file = (dir / (arch + ".lbx")).string();
        auto saved = saveBundle(model.value(), cardFor(arch, channels, 3, size), file);
        check(saved.ok(), arch + ": save bundle");
        auto loaded = loadModel(file);
        check(loaded.ok() && loaded->model.logits(input).value() == cpuLogits.value(), arch + ": bundle round trip");
        if (!loaded.ok())
            continue;

        auto classifier = Classifier::create(loaded.value(), {device, false, 0});
        check(classifier.ok(),
              arch + ": classifier on " + device + (classifier.ok() ? "" : " (" + classifier.error() + ")"));
        if (!classifier.ok())
            continue;
        PredictOptions opts;
        opts.cam = CamMethod::GradCam;
        auto p = classifier->predict(input, opts);
        check(p.ok() && p->probabilities.size() == 3 && !p->cam.empty() && p->camUpsampled.width == size,
              arch + ": predict + Grad-CAM on " + classifier->device() +
                  (p.ok() ? " (" + std::to_string(p->latencyMs) + " ms)" : " (" + p.error() + ")"));
        opts.cam = CamMethod::GradCamPlusPlus;
        auto pp = classifier->predict(input, opts);
        check(pp.ok() && !pp->cam.empty(), arch + ": Grad-CAM++");

        if (cudaDeviceCount() > 0 && p.ok()) {
            // GPU and CPU agree; half precision is close.
            auto cpu = Classifier::create(loadModel(file).value(), {"cpu", false, 0});
            auto ref = cpu->predict(input, {CamMethod::GradCam, -1, "", {}});
            const float d = maxDiff(ref->probabilities, p->probabilities);
            check(d < 1e-3f,
                  arch + ": CPU vs " + classifier->device() + " probabilities differ by " + std::to_string(d));
            const float dc = maxDiff(ref->cam.values, p->cam.values);
            check(dc < 1e-2f, arch + ": CPU vs GPU Grad-CAM differ by " + std::to_string(dc));
            auto half = Classifier::create(loadModel(file).value(), {device, true, 0});
            auto h = half->predict(input, {CamMethod::GradCam, -1, "", {}});
            const float dh = h.ok() ? maxDiff(ref->probabilities, h->probabilities) : INFINITY;
            check(h.ok() && dh < 2e-2f, arch + ": half precision probabilities differ by " + std::to_string(dh));
        }
    }

    const std::string junk = (dir / "junk.lbx").string();
    {
        std::ofstream f(junk, std::ios::binary);
        std::mt19937 rng(3);
        for (int i = 0; i < 4096; ++i)
            f.put(static_cast<char>(rng()));
    }
    auto refused = loadModel(junk);
    check(!refused.ok() && !refused.error().empty(), "random bytes refused: " + refused.error());
    auto unknown = createModel("resnet19", 3, 2);
    check(!unknown.ok(), "unknown architecture refused: " + unknown.error());

    std::filesystem::remove_all(dir);
    std::printf("%s: %d failure(s)\n", g_failures ? "FAILED" : "PASSED", g_failures);
    return g_failures ? 1 : 0;
}
