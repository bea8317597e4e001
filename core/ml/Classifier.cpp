#include "Classifier.h"

#include "Runtime.h"
#include "detail/Device.h"
#include "detail/ModelImpl.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <tuple>

namespace lightbox::ml {

const char* toString(CamMethod method)
{
    switch (method) {
    case CamMethod::None: return "none";
    case CamMethod::GradCam: return "gradcam";
    case CamMethod::GradCamPlusPlus: return "gradcam++";
    }
    return "none";
}

struct Classifier::State {
    LoadedModel loaded;
    torch::Device device{torch::kCPU};
    std::string reduced; ///< "float16" or "bfloat16" when autocast is on, else empty
    bool calibrated = true;
};

namespace detail {

Result<torch::Device> chooseDevice(const std::string& text)
{
    using R = Result<torch::Device>;
    const int gpus = cudaDeviceCount();
    if (text.empty() || text == "auto")
        return gpus > 0 ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
    if (text == "cpu")
        return torch::Device(torch::kCPU);
    if (text == "cuda" || text.rfind("cuda:", 0) == 0) {
        int index = 0;
        if (text.size() > 5) {
            try {
                size_t used = 0;
                index = std::stoi(text.substr(5), &used);
                if (used != text.size() - 5)
                    return R::failure("invalid device '" + text + "'");
            } catch (const std::exception&) {
                return R::failure("invalid device '" + text + "'");
            }
        }
        if (gpus == 0)
            return R::failure("device " + text + " requested but this LibTorch sees no CUDA device");
        if (index < 0 || index >= gpus)
            return R::failure("device " + text + " does not exist (" + std::to_string(gpus) + " CUDA device" +
                              (gpus > 1 ? "s" : "") + ")");
        return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(index));
    }
    return R::failure("invalid device '" + text + "' (use auto, cpu, cuda or cuda:N)");
}

} // namespace detail

namespace {

/// Normalises a map to 0..1; all zeros when it is flat (no positive evidence).
torch::Tensor normaliseMap(torch::Tensor cam)
{
    const auto lo = cam.min();
    const auto hi = cam.max();
    const float range = (hi - lo).item<float>();
    if (!(range > 1e-12f))
        return torch::zeros_like(cam);
    return (cam - lo) / range;
}

/// Grad-CAM or Grad-CAM++ from a block's activations and the score's gradients ([1, C, h, w]),
/// normalised to 0..1.
torch::Tensor camFromGradients(const torch::Tensor& activations, const torch::Tensor& gradients, CamMethod method)
{
    auto A = activations.to(torch::kFloat32).select(0, 0); // C x h x w
    auto G = gradients.to(torch::kFloat32).select(0, 0);   // C x h x w
    torch::Tensor weights;
    if (method == CamMethod::GradCam) {
        weights = G.mean({1, 2}, /*keepdim=*/true);
    } else {
        // Grad-CAM++ closed form for an exponential of the score (Chattopadhay et al., eq. 19).
        auto g2 = G.pow(2);
        auto g3 = g2 * G;
        auto sumA = A.sum({1, 2}, /*keepdim=*/true);
        auto denom = 2 * g2 + sumA * g3;
        denom = torch::where(denom != 0, denom, torch::ones_like(denom));
        auto alpha = g2 / denom;
        weights = (alpha * torch::relu(G)).sum({1, 2}, /*keepdim=*/true);
    }
    return normaliseMap(torch::relu((weights * A).sum(0)));
}

/// One ensemble member's map of class `target` at block `layer`.
torch::Tensor memberCam(Model::Impl& m, const torch::Tensor& x, int layer, int target, CamMethod method)
{
    torch::Tensor activations;
    {
        torch::NoGradGuard noGrad;
        activations = m.featuresUpTo(x, layer);
    }
    torch::AutoGradMode gradOn(true);
    auto a = activations.detach().requires_grad_(true);
    auto logits = m.headFrom(a, layer);
    auto score = logits.select(0, 0).select(0, target).to(torch::kFloat32);
    auto gradients = torch::autograd::grad({score}, {a}, {}, /*retain_graph=*/false)[0];
    torch::NoGradGuard noGrad;
    return camFromGradients(activations, gradients, method);
}

/// The top class, the expected grade and the grade (under the card's cut points) from the
/// probabilities.
void decide(Prediction& p, const ModelCard& card)
{
    const int k = static_cast<int>(p.probabilities.size());
    p.topClass = 0;
    for (int i = 1; i < k; ++i)
        if (p.probabilities[static_cast<size_t>(i)] > p.probabilities[static_cast<size_t>(p.topClass)])
            p.topClass = i;
    p.topProbability = p.probabilities[static_cast<size_t>(p.topClass)];
    p.topClassName = card.classNames[static_cast<size_t>(p.topClass)];
    p.grade = p.topClass;
    if (card.ordinal) {
        p.expectedGrade = expectedGrade(p.probabilities);
        if (!card.cutPoints.empty())
            p.grade = std::min(k - 1, gradeFromCutPoints(p.expectedGrade, card.cutPoints));
    }
}

/// The members' disagreement on the ensemble's top class: their spread and how many agree.
void setDisagreement(Prediction& p)
{
    if (p.memberProbabilities.size() < 2 || p.topClass < 0)
        return;
    double mean = 0.0, sq = 0.0;
    int agree = 0;
    for (const auto& m : p.memberProbabilities) {
        const double v = m[static_cast<size_t>(p.topClass)];
        mean += v;
        sq += v * v;
        agree += (std::max_element(m.begin(), m.end()) - m.begin()) == p.topClass;
    }
    const double n = static_cast<double>(p.memberProbabilities.size());
    mean /= n;
    p.memberSpread = std::sqrt(std::max(0.0, sq / n - mean * mean));
    p.membersAgreeing = agree;
}

CamMap toMap(const torch::Tensor& t)
{
    auto c = t.to(torch::kCPU, torch::kFloat32).contiguous();
    CamMap m;
    m.height = static_cast<int>(c.size(0));
    m.width = static_cast<int>(c.size(1));
    m.values.assign(c.data_ptr<float>(), c.data_ptr<float>() + c.numel());
    return m;
}

} // namespace

Result<Classifier> Classifier::load(const std::string& path, const ClassifierOptions& options)
{
    auto loaded = loadModel(path);
    if (!loaded)
        return Result<Classifier>::failure(loaded.error());
    return create(std::move(loaded.value()), options);
}

Result<Classifier> Classifier::create(LoadedModel model, const ClassifierOptions& options)
{
    using R = Result<Classifier>;
    if (!model.model.valid())
        return R::failure("no model");
    auto device = detail::chooseDevice(options.device);
    if (!device)
        return R::failure(device.error());
    if (options.threads >= 0)
        configureThreads(options.threads);
    auto state = std::make_shared<State>();
    state->loaded = std::move(model);
    state->device = device.value();
    if (options.halfPrecision)
        state->reduced = reducedPrecisionName(state->device.str());
    state->calibrated = options.calibrated;
    try {
        auto& impl = *state->loaded.model.impl();
        impl.freeze();
        impl.setEval();
        impl.to(state->device);
    } catch (const std::exception& e) {
        return R::failure("cannot move the model to " + state->device.str() + ": " + detail::shortError(e));
    }
    Classifier c;
    c.m_state = std::move(state);
    if (options.warmUp) {
        const PreprocessSpec& spec = c.card().preprocess;
        InputImage blank;
        blank.channels = spec.channels;
        blank.height = spec.height;
        blank.width = spec.width;
        blank.data.assign(static_cast<size_t>(spec.channels) * spec.height * spec.width, 0.f);
        PredictOptions cam;
        cam.cam = CamMethod::GradCam;
        const bool hasLayers = !c.model().layerNames().empty();
        for (int i = 0; i < 2; ++i) {
            auto plain = c.predict(blank);
            if (!plain)
                return R::failure(plain.error());
            if (hasLayers) {
                auto withMap = c.predict(blank, cam);
                if (!withMap)
                    return R::failure(withMap.error());
            }
        }
    }
    return c;
}

const ModelCard& Classifier::card() const
{
    return m_state->loaded.card;
}
const Model& Classifier::model() const
{
    return m_state->loaded.model;
}
const MahalanobisModel& Classifier::gaussians() const
{
    return m_state->loaded.gaussians;
}
std::string Classifier::device() const
{
    return m_state ? m_state->device.str() : std::string();
}

Result<Prediction> Classifier::predictRaw(const RawImage& raw, const PredictOptions& options) const
{
    if (!m_state)
        return Result<Prediction>::failure("no model loaded");
    auto input = preprocess(raw, card().preprocess);
    if (!input)
        return Result<Prediction>::failure(input.error());
    return predict(input.value(), options);
}

namespace {

/// A view of the input: mirrored and/or shifted by (dx, dy) pixels with the edges repeated.
struct View {
    bool hflip = false, vflip = false;
    int dx = 0, dy = 0;
};

InputImage transformed(const InputImage& in, const View& v)
{
    InputImage out = in;
    const int w = in.width, h = in.height;
    for (int c = 0; c < in.channels; ++c) {
        const float* src = in.data.data() + static_cast<size_t>(c) * w * h;
        float* dst = out.data.data() + static_cast<size_t>(c) * w * h;
        for (int y = 0; y < h; ++y)
            for (int x = 0; x < w; ++x) {
                int sx = std::clamp(x - v.dx, 0, w - 1), sy = std::clamp(y - v.dy, 0, h - 1);
                if (v.hflip)
                    sx = w - 1 - sx;
                if (v.vflip)
                    sy = h - 1 - sy;
                dst[static_cast<size_t>(y) * w + x] = src[static_cast<size_t>(sy) * w + sx];
            }
    }
    return out;
}

/// Adds a view's map, brought back into the original image's coordinates, to `sum`.
void addUndone(const CamMap& map, const View& v, std::vector<float>& sum)
{
    const int w = map.width, h = map.height;
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x) {
            // The original pixel (x, y) sits at view pixel (x', y') with the flip, then the shift.
            int vx = v.hflip ? w - 1 - x : x, vy = v.vflip ? h - 1 - y : y;
            vx = std::clamp(vx + v.dx, 0, w - 1);
            vy = std::clamp(vy + v.dy, 0, h - 1);
            sum[static_cast<size_t>(y) * w + x] += map.values[static_cast<size_t>(vy) * w + vx];
        }
}

/// Area-averages a map to a smaller size.
CamMap shrink(const CamMap& big, int width, int height)
{
    CamMap m;
    m.width = width;
    m.height = height;
    m.values.assign(static_cast<size_t>(width) * height, 0.f);
    std::vector<int> n(m.values.size(), 0);
    for (int y = 0; y < big.height; ++y)
        for (int x = 0; x < big.width; ++x) {
            const size_t i = static_cast<size_t>(y * height / big.height) * width + x * width / big.width;
            m.values[i] += big.values[static_cast<size_t>(y) * big.width + x];
            ++n[i];
        }
    for (size_t i = 0; i < m.values.size(); ++i)
        m.values[i] = n[i] ? m.values[i] / n[i] : 0.f;
    return m;
}

} // namespace

Result<Prediction> Classifier::predict(const InputImage& input, const PredictOptions& options) const
{
    if (!options.tta.enabled())
        return predictView(input, options);
    const auto start = std::chrono::steady_clock::now();
    std::vector<View> views{View{}};
    if (options.tta.horizontalFlip)
        views.push_back(View{true, false, 0, 0});
    if (options.tta.verticalFlip)
        views.push_back(View{false, true, 0, 0});
    if (options.tta.shift > 0.0) {
        const int dx = std::max(1, static_cast<int>(std::lround(options.tta.shift * input.width)));
        const int dy = std::max(1, static_cast<int>(std::lround(options.tta.shift * input.height)));
        for (const auto& d : {std::pair{dx, 0}, std::pair{-dx, 0}, std::pair{0, dy}, std::pair{0, -dy}})
            views.push_back(View{false, false, d.first, d.second});
    }
    // First the probabilities of every view (no maps): their average decides the top class.
    PredictOptions plain = options;
    plain.cam = CamMethod::None;
    plain.tta = {};
    auto first = predictView(input, plain);
    if (!first)
        return first;
    Prediction p = first.value();
    const int k = static_cast<int>(p.probabilities.size());
    std::vector<double> sum(p.probabilities.begin(), p.probabilities.end());
    for (size_t i = 1; i < views.size(); ++i) {
        auto v = predictView(transformed(input, views[i]), plain);
        if (!v)
            return v;
        for (int c = 0; c < k; ++c)
            sum[static_cast<size_t>(c)] += v->probabilities[static_cast<size_t>(c)];
    }
    for (int c = 0; c < k; ++c)
        p.probabilities[static_cast<size_t>(c)] = static_cast<float>(sum[static_cast<size_t>(c)] / views.size());
    decide(p, card());
    // Then the maps of the class shown, each view's brought back before averaging.
    if (options.cam != CamMethod::None) {
        PredictOptions withMap = options;
        withMap.tta = {};
        withMap.targetClass = options.targetClass >= 0 ? options.targetClass : p.topClass;
        std::vector<float> mapSum;
        CamMap blockMap;
        for (const View& view : views) {
            auto v =
                predictView(view.hflip || view.vflip || view.dx || view.dy ? transformed(input, view) : input, withMap);
            if (!v)
                return v;
            if (mapSum.empty()) {
                mapSum.assign(v->camUpsampled.values.size(), 0.f);
                blockMap = v->cam;
                p.camClass = v->camClass;
                p.camLayer = v->camLayer;
            }
            addUndone(v->camUpsampled, view, mapSum);
        }
        p.camUpsampled.width = input.width;
        p.camUpsampled.height = input.height;
        const float hi = mapSum.empty() ? 0.f : *std::max_element(mapSum.begin(), mapSum.end());
        for (float& m : mapSum)
            m = hi > 0.f ? m / hi : 0.f;
        p.camUpsampled.values = std::move(mapSum);
        p.cam = shrink(p.camUpsampled, blockMap.width, blockMap.height);
    }
    p.views = static_cast<int>(views.size());
    p.singleViewMs = first->latencyMs;
    p.latencyMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    return p;
}

Result<Prediction> Classifier::predictView(const InputImage& input, const PredictOptions& options) const
{
    using R = Result<Prediction>;
    if (!m_state)
        return R::failure("no model loaded");
    if (!input.valid())
        return R::failure("input image is empty or its data does not match its size");
    const PreprocessSpec& spec = card().preprocess;
    if (input.channels != spec.channels)
        return R::failure("model expects " + std::to_string(spec.channels) + " channels, input has " +
                          std::to_string(input.channels));
    auto& impl = *m_state->loaded.model.impl();
    const int numClasses = impl.numClasses;
    if (options.targetClass >= numClasses)
        return R::failure("target class " + std::to_string(options.targetClass) + " does not exist (" +
                          std::to_string(numClasses) + " classes)");

    int layer = -1;
    if (options.cam != CamMethod::None) {
        layer = impl.layerIndex(options.layer);
        if (layer < 0)
            return R::failure(options.layer.empty() ? "this model offers no layer for Grad-CAM (a TorchScript "
                                                      "model needs forward_features and forward_head)"
                                                    : "model has no layer '" + options.layer + "'");
    }

    Prediction p;
    p.device = m_state->device.str();
    if (!m_state->reduced.empty())
        p.device += " (" + m_state->reduced + ")";
    const auto start = std::chrono::steady_clock::now();
    try {
        auto x = detail::toTensor(input).to(m_state->device);
        detail::AutocastGuard autocast(!m_state->reduced.empty(), m_state->device);
        torch::Tensor logits, pooled, camBlock;
        std::vector<torch::Tensor> memberLogits;
        if (options.cam == CamMethod::None || impl.isEnsemble()) {
            torch::NoGradGuard noGrad;
            std::tie(pooled, logits, memberLogits) = impl.embedAll(x);
        }
        if (options.cam != CamMethod::None) {
            if (impl.isEnsemble()) {
                // Every member's map of the ensemble's class, averaged.
                const int target =
                    options.targetClass >= 0 ? options.targetClass : static_cast<int>(logits.argmax(1).item<int64_t>());
                std::vector<Model::Impl*> all{&impl};
                for (auto& m : impl.members)
                    all.push_back(m.get());
                for (Model::Impl* m : all) {
                    auto c = memberCam(*m, x, layer, target, options.cam);
                    camBlock = camBlock.defined() ? camBlock + c : c;
                }
                camBlock = normaliseMap(camBlock / static_cast<double>(all.size()));
                p.camClass = target;
            } else {
                torch::Tensor activations;
                std::vector<torch::Tensor> stagePools;
                {
                    torch::NoGradGuard noGrad;
                    activations = impl.featuresUpTo(x, layer, impl.net ? &stagePools : nullptr);
                }
                // Only the part after the chosen block builds a graph, and only for this call:
                // parameters are frozen and the graph is freed by autograd::grad.
                torch::AutoGradMode gradOn(true);
                auto a = activations.detach().requires_grad_(true);
                std::tie(pooled, logits) = impl.embedFrom(a, layer, stagePools);
                if (logits.dim() != 2 || logits.size(1) != numClasses)
                    return R::failure("model output does not match its class count");
                const int target =
                    options.targetClass >= 0 ? options.targetClass : static_cast<int>(logits.argmax(1).item<int64_t>());
                auto score = logits.select(0, 0).select(0, target).to(torch::kFloat32);
                auto gradients = torch::autograd::grad({score}, {a}, {}, /*retain_graph=*/false)[0];
                logits = logits.detach();
                if (pooled.defined())
                    pooled = pooled.detach();
                torch::NoGradGuard noGrad;
                camBlock = camFromGradients(activations, gradients, options.cam);
                p.camClass = target;
            }
            p.camLayer = impl.net ? impl.net->stageNames()[static_cast<size_t>(layer)] : "features";
        }
        if (logits.dim() != 2 || logits.size(1) != numClasses)
            return R::failure("model output does not match its class count");
        auto raw = logits.to(torch::kFloat32).to(torch::kCPU).contiguous();
        p.logits.assign(raw.data_ptr<float>(), raw.data_ptr<float>() + numClasses);
        p.temperature = m_state->calibrated ? card().temperature : 1.0;
        p.probabilities = softmax(p.logits, p.temperature);
        if (memberLogits.size() > 1) {
            for (const auto& z : memberLogits) {
                auto zc = z.to(torch::kFloat32).to(torch::kCPU).contiguous();
                p.memberProbabilities.push_back(
                    softmax(std::vector<float>(zc.data_ptr<float>(), zc.data_ptr<float>() + numClasses)));
            }
        }
        std::vector<float> features;
        if (pooled.defined()) {
            auto f = pooled.to(torch::kFloat32).to(torch::kCPU).contiguous();
            features.assign(f.data_ptr<float>(), f.data_ptr<float>() + f.numel());
        }
        p.ood = scoreOod(card().ood, m_state->loaded.gaussians, features, p.logits);
        p.features = std::move(features);

        if (camBlock.defined()) {
            torch::NoGradGuard noGrad;
            auto up = torch::nn::functional::interpolate(camBlock.unsqueeze(0).unsqueeze(0),
                                                         torch::nn::functional::InterpolateFuncOptions()
                                                             .size(std::vector<int64_t>{spec.height, spec.width})
                                                             .mode(torch::kBilinear)
                                                             .align_corners(false));
            p.cam = toMap(camBlock);
            p.camUpsampled = toMap(up.squeeze(0).squeeze(0).clamp(0, 1));
        }
    } catch (const std::exception& e) {
        return R::failure("prediction failed: " + detail::shortError(e));
    }
    p.latencyMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
    p.singleViewMs = p.latencyMs;

    decide(p, card());
    setDisagreement(p);
    return p;
}

} // namespace lightbox::ml
