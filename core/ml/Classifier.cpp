#include "Classifier.h"

#include "Runtime.h"
#include "detail/Device.h"
#include "detail/ModelImpl.h"

#include <chrono>

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

Result<Prediction> Classifier::predict(const InputImage& input, const PredictOptions& options) const
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
        torch::Tensor logits;
        torch::Tensor activations, gradients;
        if (options.cam == CamMethod::None) {
            torch::NoGradGuard noGrad;
            logits = impl.forward(x);
        } else {
            {
                torch::NoGradGuard noGrad;
                activations = impl.featuresUpTo(x, layer);
            }
            // Only the part after the chosen block builds a graph, and only for this call:
            // parameters are frozen and the graph is freed by autograd::grad.
            torch::AutoGradMode gradOn(true);
            auto a = activations.detach().requires_grad_(true);
            logits = impl.headFrom(a, layer);
            if (logits.dim() != 2 || logits.size(1) != numClasses)
                return R::failure("model output does not match its class count");
            const int target =
                options.targetClass >= 0 ? options.targetClass : static_cast<int>(logits.argmax(1).item<int64_t>());
            auto score = logits.select(0, 0).select(0, target).to(torch::kFloat32);
            gradients = torch::autograd::grad({score}, {a}, {}, /*retain_graph=*/false)[0];
            logits = logits.detach();
            p.camClass = target;
            p.camLayer = impl.net ? impl.net->stageNames()[static_cast<size_t>(layer)] : "features";
        }
        if (logits.dim() != 2 || logits.size(1) != numClasses)
            return R::failure("model output does not match its class count");
        auto probs = torch::softmax(logits.to(torch::kFloat32), 1).to(torch::kCPU).contiguous();
        p.probabilities.assign(probs.data_ptr<float>(), probs.data_ptr<float>() + numClasses);

        if (options.cam != CamMethod::None) {
            torch::NoGradGuard noGrad;
            auto A = activations.to(torch::kFloat32).select(0, 0); // C x h x w
            auto G = gradients.to(torch::kFloat32).select(0, 0);   // C x h x w
            torch::Tensor weights;
            if (options.cam == CamMethod::GradCam) {
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
            auto cam = normaliseMap(torch::relu((weights * A).sum(0)));
            auto up = torch::nn::functional::interpolate(cam.unsqueeze(0).unsqueeze(0),
                                                         torch::nn::functional::InterpolateFuncOptions()
                                                             .size(std::vector<int64_t>{spec.height, spec.width})
                                                             .mode(torch::kBilinear)
                                                             .align_corners(false));
            p.cam = toMap(cam);
            p.camUpsampled = toMap(up.squeeze(0).squeeze(0).clamp(0, 1));
        }
    } catch (const std::exception& e) {
        return R::failure("prediction failed: " + detail::shortError(e));
    }
    p.latencyMs = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();

    p.topClass = 0;
    for (int i = 1; i < numClasses; ++i)
        if (p.probabilities[i] > p.probabilities[p.topClass])
            p.topClass = i;
    p.topProbability = p.probabilities[p.topClass];
    p.topClassName = card().classNames[static_cast<size_t>(p.topClass)];
    if (card().ordinal) {
        p.expectedGrade = 0;
        for (int i = 0; i < numClasses; ++i)
            p.expectedGrade += i * p.probabilities[i];
    }
    return p;
}

} // namespace lightbox::ml
