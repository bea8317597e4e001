// bench_inference: per-image latency of preprocessing, forward pass and forward + Grad-CAM
// for ResNet-18 and DenseNet-121 through core/ml, next to the same work in Python
// (bench_inference.py, torchvision, same thread count), with the ratios.
//
// usage: bench_inference [--threads N] [--size S] [--iterations N] [--python PATH] [--smoke]
// A benchmark is a program, not a timed test: it prints figures and asserts nothing about them.
#include "BenchCommon.h"

#include <ml/Classifier.h>
#include <ml/Runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

using namespace lightbox::ml;

namespace {

double medianMs(const std::function<void()>& fn, int iterations, int warmup = 2)
{
    for (int i = 0; i < warmup; ++i)
        fn();
    std::vector<double> t;
    for (int i = 0; i < iterations; ++i) {
        const auto s = std::chrono::steady_clock::now();
        fn();
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - s).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

/// Runs the Python peer and returns its JSON line (empty on failure).
std::string runPython(const std::string& python, const std::string& script, int threads, int size, int raw,
                      int iterations, const std::string& archs)
{
    const std::string cmd = python + " " + script + " --threads " + std::to_string(threads) + " --size " +
                            std::to_string(size) + " --raw " + std::to_string(raw) + " --iterations " +
                            std::to_string(iterations) + " --archs " + archs;
    return lightbox::bench::runCommand(cmd);
}

double jsonNumber(const Json& j, std::initializer_list<const char*> path)
{
    const Json* cur = &j;
    for (const char* key : path)
        cur = &(*cur)[key];
    return cur->toNumber(-1);
}

} // namespace

int main(int argc, char** argv)
{
    int threads = 0, size = 224, iterations = 10, rawSize = 1024;
    std::string python = "/usr/bin/python3";
    std::string script = LIGHTBOX_BENCH_DIR "/bench_inference.py";
    std::vector<std::string> archs{"resnet18", "densenet121"};
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--threads")
            threads = std::atoi(next().c_str());
        else if (a == "--size")
            size = std::atoi(next().c_str());
        else if (a == "--iterations")
            iterations = std::atoi(next().c_str());
        else if (a == "--python")
            python = next();
        else if (a == "--smoke") {
            size = 64;
            iterations = 1;
            rawSize = 128;
            archs = {"resnet18"};
        } else {
            std::fprintf(
                stderr, "usage: bench_inference [--threads N] [--size S] [--iterations N] [--python PATH] [--smoke]\n");
            return 2;
        }
    }
    threads = configureThreads(threads);
    std::printf("LibTorch %s; %d px input from a %d x %d raw image; median of %d\n", torchSummary().c_str(), size,
                rawSize, rawSize, iterations);

    // Preprocessing: a raw 8-bit-range grey image to the network input (area resize, normalise, 3 channels).
    PreprocessSpec spec;
    spec.width = spec.height = size;
    RawImage raw;
    raw.width = raw.height = rawSize;
    raw.channels = 1;
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(0.f, 255.f);
    for (int i = 0; i < rawSize * rawSize; ++i)
        raw.data.push_back(u(rng));
    InputImage input;
    std::map<std::string, std::map<std::string, double>> cpp;
    cpp["all"]["preprocess"] = medianMs([&] { input = preprocess(raw, spec).value(); }, iterations);

    std::string archList;
    for (const auto& arch : archs) {
        archList += (archList.empty() ? "" : ",") + arch;
        manualSeed(0);
        auto model = createModel(arch, 3, 2);
        if (!model) {
            std::fprintf(stderr, "%s\n", model.error().c_str());
            return 1;
        }
        ModelCard card;
        card.architecture = arch;
        card.classNames = {"a", "b"};
        card.preprocess = spec;
        auto classifier = Classifier::create(LoadedModel{model.value(), card, ""}, {"cpu", false, threads});
        if (!classifier) {
            std::fprintf(stderr, "%s\n", classifier.error().c_str());
            return 1;
        }
        PredictOptions cam;
        cam.cam = CamMethod::GradCam;
        cpp[arch]["forward"] = medianMs([&] { (void)classifier->predict(input); }, iterations);
        cpp[arch]["gradcam"] = medianMs([&] { (void)classifier->predict(input, cam); }, iterations);
    }

    const std::string pyText = runPython(python, script, threads, size, rawSize, iterations, archList);
    Json py;
    std::string error;
    const bool havePython = !pyText.empty() && Json::parse(pyText, py, error);
    if (!havePython)
        std::printf("(Python peer did not run: %s)\n", pyText.empty() ? "no output" : error.c_str());
    else
        std::printf("Python peer: torch %s, %d threads\n", py["torch"].toString().c_str(), py["threads"].toInt());

    std::printf("\n%-13s %-22s %12s %12s %8s\n", "model", "stage", "C++ ms", "Python ms", "C++/Py");
    auto row = [&](const std::string& model, const std::string& stage, double c, double p) {
        if (p > 0)
            std::printf("%-13s %-22s %12.2f %12.2f %8.2f\n", model.c_str(), stage.c_str(), c, p, c / p);
        else
            std::printf("%-13s %-22s %12.2f %12s %8s\n", model.c_str(), stage.c_str(), c, "-", "-");
    };
    row("-", "preprocess", cpp["all"]["preprocess"], havePython ? jsonNumber(py, {"preprocess"}) : -1);
    for (const auto& arch : archs) {
        row(arch, "forward", cpp[arch]["forward"],
            havePython ? jsonNumber(py, {"models", arch.c_str(), "forward"}) : -1);
        row(arch, "forward + Grad-CAM", cpp[arch]["gradcam"],
            havePython ? jsonNumber(py, {"models", arch.c_str(), "gradcam"}) : -1);
    }
    return 0;
}
