// Evaluation: one pass of a network over a batch source, for validation during training and
// for evaluateModel (with test-time augmentation), and the loss the trainer minimises.
#include "Runtime.h"
#include "Trainer.h"
#include "detail/Device.h"
#include "detail/ModelImpl.h"
#include "detail/TrainParts.h"

#include <base/FaultInjection.h>

#include <algorithm>
#include <cmath>
#include <tuple>

namespace lightbox::ml {

namespace detail {

std::string withOutOfMemoryHint(const std::string& error)
{
    if (error.find("out of memory") != std::string::npos || error.find("CUDNN_STATUS_ALLOC") != std::string::npos ||
        error.find("DefaultCPUAllocator") != std::string::npos)
        return error + " (out of memory: lower the batch size or the input size)";
    return error;
}

torch::Tensor pixelsTensor(const Batch& b)
{
    return torch::from_blob(const_cast<float*>(b.pixels.data()), {b.n, b.channels, b.height, b.width}, torch::kFloat32)
        .clone();
}

torch::Tensor labelsTensor(const Batch& b)
{
    return torch::from_blob(const_cast<int64_t*>(b.labels.data()), {b.n}, torch::kInt64).clone();
}

std::string checkBatch(const Batch& b, int inChannels, int numClasses, const PreprocessSpec* spec, const char* what)
{
    if (!b.valid())
        return std::string("the ") + what + " data gave a malformed batch (n " + std::to_string(b.n) + ", " +
               std::to_string(b.channels) + "x" + std::to_string(b.height) + "x" + std::to_string(b.width) + ", " +
               std::to_string(b.pixels.size()) + " values, " + std::to_string(b.labels.size()) + " labels)";
    if (b.channels != inChannels)
        return std::string("the ") + what + " images have " + std::to_string(b.channels) +
               " channel(s) but the model takes " + std::to_string(inChannels) +
               "; set the preprocessing channels to match the model (1 = grey, 3 = RGB)";
    if (spec && (b.width != spec->width || b.height != spec->height))
        return std::string("the ") + what + " images are " + std::to_string(b.width) + "x" + std::to_string(b.height) +
               " but the run's preprocessing says " + std::to_string(spec->width) + "x" + std::to_string(spec->height);
    for (size_t i = 0; i < b.labels.size(); ++i)
        if (b.labels[i] < 0 || b.labels[i] >= numClasses)
            return std::string("a ") + what + " sample" + (b.ids.empty() ? "" : " ('" + b.ids[i] + "')") +
                   " has label " + std::to_string(b.labels[i]) + ", outside 0.." + std::to_string(numClasses - 1) +
                   " for " + std::to_string(numClasses) + " classes";
    return {};
}

torch::Tensor crossEntropy(const torch::Tensor& logits, const torch::Tensor& target, const torch::Tensor& weights,
                           double smoothing, double ordinalSigma)
{
    auto logp = torch::log_softmax(logits.to(torch::kFloat32), 1);
    torch::Tensor wy = weights.defined() ? weights.index_select(0, target) : torch::ones_like(target, logp.options());
    torch::Tensor nll;
    if (ordinalSigma > 0) {
        auto grades = torch::arange(logits.size(1), logp.options()).unsqueeze(0);
        auto d = grades - target.to(torch::kFloat32).unsqueeze(1);
        auto q = torch::exp(-d * d / (2.0 * ordinalSigma * ordinalSigma));
        q = q / q.sum(1, /*keepdim=*/true);
        nll = -(q * logp).sum(1);
    } else {
        nll = -logp.gather(1, target.unsqueeze(1)).squeeze(1);
    }
    auto perSample = (1.0 - smoothing) * wy * nll;
    if (smoothing > 0) {
        auto all = weights.defined() ? -(logp * weights.unsqueeze(0)).sum(1) : -logp.sum(1);
        perSample = perSample + (smoothing / static_cast<double>(logits.size(1))) * all;
    }
    return perSample.sum() / wy.sum().clamp_min(1e-12);
}

// ---------------------------------------------------------------------------------------
// One pass over an evaluation source

Result<EvalPass> evaluatePass(const std::function<torch::Tensor(const torch::Tensor&)>& forward, BatchSource& source,
                              int epoch, const torch::Device& device, int inChannels, int numClasses,
                              const PreprocessSpec* spec, const torch::Tensor& weights, bool keepProbabilities,
                              bool half, TrainingControl* control, const char* what)
{
    using R = Result<EvalPass>;
    EvalPass pass;
    torch::NoGradGuard noGrad;
    source.startEpoch(epoch);
    Batch b;
    while (true) {
        if (control && control->stop.load()) {
            source.cancel();
            pass.cancelled = true;
            break;
        }
        if (!source.next(b))
            break;
        const std::string bad = checkBatch(b, inChannels, numClasses, spec, what);
        if (!bad.empty())
            return R::failure(bad);
        auto x = pixelsTensor(b).to(device);
        auto y = labelsTensor(b).to(device);
        torch::Tensor logits;
        {
            detail::AutocastGuard autocast(half, device);
            logits = forward(x);
        }
        if (logits.dim() != 2 || logits.size(0) != b.n || logits.size(1) != numClasses)
            return R::failure("the model's output does not match its class count");
        logits = logits.to(torch::kFloat32);
        auto logp = torch::log_softmax(logits, 1);
        auto nll = -logp.gather(1, y.unsqueeze(1)).squeeze(1);
        auto wy = weights.defined() ? weights.index_select(0, y) : torch::ones_like(nll);
        pass.lossSum += (wy * nll).sum().item<double>();
        pass.weightSum += wy.sum().item<double>();
        base::faultPoint("validation-batch");
        auto pred = logits.argmax(1);
        pass.correct += (pred == y).sum().item<int64_t>();
        pass.count += b.n;
        auto predCpu = pred.to(torch::kCPU).contiguous();
        pass.labels.insert(pass.labels.end(), b.labels.begin(), b.labels.end());
        pass.predicted.insert(pass.predicted.end(), predCpu.data_ptr<int64_t>(), predCpu.data_ptr<int64_t>() + b.n);
        if (keepProbabilities) {
            auto p = logp.exp().to(torch::kCPU).contiguous();
            const float* v = p.data_ptr<float>();
            for (int i = 0; i < b.n; ++i)
                pass.probabilities.emplace_back(v + static_cast<size_t>(i) * numClasses,
                                                v + static_cast<size_t>(i + 1) * numClasses);
            for (int i = 0; i < b.n; ++i)
                pass.ids.push_back(b.ids.empty() ? std::string() : b.ids[static_cast<size_t>(i)]);
        }
    }
    return pass;
}

} // namespace detail

namespace {

/// The batch's views for test-time augmentation, as Classifier::predict makes them: mirrored,
/// and shifted with the edges repeated.
std::vector<torch::Tensor> ttaViews(const torch::Tensor& x, const TtaOptions& tta)
{
    std::vector<torch::Tensor> views;
    if (tta.horizontalFlip)
        views.push_back(x.flip({3}));
    if (tta.verticalFlip)
        views.push_back(x.flip({2}));
    if (tta.shift > 0.0) {
        const int64_t h = x.size(2), w = x.size(3);
        const int64_t dx = std::max<int64_t>(1, std::llround(tta.shift * static_cast<double>(w)));
        const int64_t dy = std::max<int64_t>(1, std::llround(tta.shift * static_cast<double>(h)));
        namespace F = torch::nn::functional;
        auto padded = F::pad(x, F::PadFuncOptions({dx, dx, dy, dy}).mode(torch::kReplicate));
        // Content moved right by dx: out[x] = in[x - dx].
        views.push_back(padded.slice(2, dy, dy + h).slice(3, 0, w));
        views.push_back(padded.slice(2, dy, dy + h).slice(3, 2 * dx, 2 * dx + w));
        views.push_back(padded.slice(2, 0, h).slice(3, dx, dx + w));
        views.push_back(padded.slice(2, 2 * dy, 2 * dy + h).slice(3, dx, dx + w));
    }
    return views;
}

} // namespace

Result<EvaluationOutput> evaluateModel(const Model& model, BatchSource& source, const std::string& device, int threads,
                                       bool reducedPrecision, bool withFeatures, const TtaOptions& tta)
{
    using R = Result<EvaluationOutput>;
    if (!model.valid())
        return R::failure("no model loaded");
    auto dev = detail::chooseDevice(device);
    if (!dev)
        return R::failure(dev.error());
    if (threads >= 0)
        configureThreads(threads);
    const auto start = detail::Clock::now();
    try {
        auto& impl = *model.impl();
        impl.to(dev.value());
        impl.setEval();
        const bool half = reducedPrecision && reducedPrecisionAvailable(dev->str());
        EvaluationOutput out;
        auto rows = [](const torch::Tensor& t, std::vector<std::vector<float>>& into) {
            auto c = t.to(torch::kFloat32).to(torch::kCPU).contiguous();
            const int64_t n = c.size(0), d = c.numel() / std::max<int64_t>(1, c.size(0));
            for (int64_t i = 0; i < n; ++i)
                into.emplace_back(c.data_ptr<float>() + i * d, c.data_ptr<float>() + (i + 1) * d);
        };
        auto pass = detail::evaluatePass(
            [&](const torch::Tensor& t) {
                // The detector's feature blocks cost a pass over every stage output: only when asked.
                torch::Tensor features, logits;
                if (withFeatures)
                    std::tie(features, logits) = impl.embed(t);
                else
                    logits = impl.forward(t);
                if (tta.enabled()) {
                    std::vector<torch::Tensor> probs{torch::softmax(logits.to(torch::kFloat32), 1)};
                    for (const auto& v : ttaViews(t, tta))
                        probs.push_back(torch::softmax(impl.forward(v).to(torch::kFloat32), 1));
                    logits = torch::stack(probs, 0).mean(0).clamp_min(1e-30).log();
                }
                if (logits.dim() == 2 && logits.size(0) == t.size(0)) {
                    rows(logits, out.logits);
                    if (withFeatures && features.defined())
                        rows(features, out.features);
                }
                return logits;
            },
            source, 0, dev.value(), impl.inChannels, impl.numClasses, nullptr, torch::Tensor(), true, half, nullptr,
            "evaluation");
        if (!pass)
            return R::failure(pass.error());
        out.numClasses = impl.numClasses;
        out.labels = std::move(pass->labels);
        out.probabilities = std::move(pass->probabilities);
        out.ids = std::move(pass->ids);
        out.seconds = detail::secondsSince(start);
        return out;
    } catch (const std::exception& e) {
        return R::failure(detail::withOutOfMemoryHint("evaluation failed: " + detail::shortError(e)));
    }
}
} // namespace lightbox::ml
