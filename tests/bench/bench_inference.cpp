// bench_inference: per-image latency of preprocessing, forward pass and forward + Grad-CAM
// for ResNet-18 and DenseNet-121 through core/ml, next to the same work in Python
// (bench_inference.py, torchvision, same thread count), with the ratios.
//
// usage: bench_inference [--threads N] [--size S] [--iterations N] [--precision fp32|bf16|both]
//                        [--stat median|best] [--python PATH] [--smoke]
// On a CPU with hardware bfloat16 both sides are also timed with bfloat16 autocast
// (ClassifierOptions::halfPrecision; torch.autocast("cpu") in Python).
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

/// Median (or the fastest) of `iterations` timed calls, in ms. The fastest call is the
/// figure to compare on a machine shared with other work, whose interference only ever adds
/// time.
double timeMs(const std::function<void()>& fn, int iterations, bool fastest, int warmup = 2)
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
    return fastest ? t.front() : t[t.size() / 2];
}

/// Runs the Python peer and returns its JSON line (empty on failure).
std::string runPython(const std::string& python, const std::string& script, int threads, int size, int raw,
                      int iterations, const std::string& archs, bool bf16, bool fastest)
{
    const std::string cmd = python + " " + script + " --threads " + std::to_string(threads) + " --size " +
                            std::to_string(size) + " --raw " + std::to_string(raw) + " --iterations " +
                            std::to_string(iterations) + " --archs " + archs + (bf16 ? " --bf16" : "") +
                            (fastest ? " --stat best" : "");
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
    std::string precision = cpuHasFastBFloat16() ? "both" : "fp32";
    bool fastest = false;
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
        else if (a == "--precision")
            precision = next();
        else if (a == "--stat")
            fastest = next() == "best";
        else if (a == "--smoke") {
            size = 64;
            iterations = 1;
            rawSize = 128;
            archs = {"resnet18"};
        } else {
            std::fprintf(stderr, "usage: bench_inference [--threads N] [--size S] [--iterations N] "
                                 "[--precision fp32|bf16|both] [--stat median|best] [--python PATH] [--smoke]\n");
            return 2;
        }
    }
    if (precision != "fp32" && precision != "bf16" && precision != "both") {
        std::fprintf(stderr, "bench_inference: --precision is fp32, bf16 or both\n");
        return 2;
    }
    if (precision != "fp32" && !cpuHasFastBFloat16()) {
        std::printf("bench_inference: this CPU has no hardware bfloat16; measuring float32 only\n");
        precision = "fp32";
    }
    const bool wantFp32 = precision != "bf16", wantBf16 = precision != "fp32";
    threads = configureThreads(threads);
    std::printf("LibTorch %s; %d px input from a %d x %d raw image; %s of %d\n", torchSummary().c_str(), size, rawSize,
                rawSize, fastest ? "fastest" : "median", iterations);

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
    const auto time = [&](const std::function<void()>& fn) { return timeMs(fn, iterations, fastest); };
    cpp["all"]["preprocess"] = time([&] { input = preprocess(raw, spec).value(); });

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
        PredictOptions cam;
        cam.cam = CamMethod::GradCam;
        for (const bool bf16 : {false, true}) {
            if (!(bf16 ? wantBf16 : wantFp32))
                continue;
            auto classifier = Classifier::create(LoadedModel{model.value(), card, "", {}}, {"cpu", bf16, threads});
            if (!classifier) {
                std::fprintf(stderr, "%s\n", classifier.error().c_str());
                return 1;
            }
            const std::string suffix = bf16 ? "_bf16" : "";
            cpp[arch]["forward" + suffix] = time([&] { (void)classifier->predict(input); });
            cpp[arch]["gradcam" + suffix] = time([&] { (void)classifier->predict(input, cam); });
        }
    }

    const std::string pyText =
        runPython(python, script, threads, size, rawSize, iterations, archList, wantBf16, fastest);
    Json py;
    std::string error;
    const bool havePython = !pyText.empty() && Json::parse(pyText, py, error);
    if (!havePython)
        std::printf("(Python peer did not run: %s)\n", pyText.empty() ? "no output" : error.c_str());
    else
        std::printf("Python peer: torch %s, %d threads\n", py["torch"].toString().c_str(), py["threads"].toInt());

    std::printf("\n%-13s %-32s %10s %10s %8s %9s\n", "model", "stage", "C++ ms", "Python ms", "C++/Py", "speed-up");
    auto row = [&](const std::string& model, const std::string& stage, double c, double p) {
        if (p > 0)
            std::printf("%-13s %-32s %10.2f %10.2f %8.2f %8.2fx\n", model.c_str(), stage.c_str(), c, p, c / p, p / c);
        else
            std::printf("%-13s %-32s %10.2f %10s %8s %9s\n", model.c_str(), stage.c_str(), c, "-", "-", "-");
    };
    auto pyMs = [&](const std::string& arch, const char* key) {
        return havePython ? jsonNumber(py, {"models", arch.c_str(), key}) : -1;
    };
    row("-", "preprocess", cpp["all"]["preprocess"], havePython ? jsonNumber(py, {"preprocess"}) : -1);
    for (const auto& arch : archs) {
        if (wantFp32) {
            row(arch, "forward float32", cpp[arch]["forward"], pyMs(arch, "forward"));
            row(arch, "forward + Grad-CAM float32", cpp[arch]["gradcam"], pyMs(arch, "gradcam"));
        }
        if (wantBf16) {
            row(arch, "forward bfloat16", cpp[arch]["forward_bf16"], pyMs(arch, "forward_bf16"));
            row(arch, "forward + Grad-CAM bfloat16", cpp[arch]["gradcam_bf16"], pyMs(arch, "gradcam_bf16"));
        }
        if (wantFp32 && wantBf16)
            row(arch, "Grad-CAM: Lightbox bf16 vs Py fp32", cpp[arch]["gradcam_bf16"], pyMs(arch, "gradcam"));
    }
    return 0;
}
