// The built-in architectures and the Model handle's methods. Over 600 lines on purpose: one
// LibTorch translation unit costs about 17 s and 1.3 GB to compile, and the architectures
// share the blocks at the top.
#include "detail/ModelImpl.h"

#include <algorithm>
#include <functional>
#include <map>

namespace lightbox::ml {
namespace detail {

namespace nn = torch::nn;

// ---------------------------------------------------------------------------------------
// NetImpl

NetImpl::NetImpl(std::string architecture, int inChannels, int numClasses)
    : m_architecture(std::move(architecture)), m_inChannels(inChannels), m_numClasses(numClasses)
{
}

torch::Tensor NetImpl::runStages(torch::Tensor x, int from, int to)
{
    for (int i = std::max(0, from); i < std::min(to, stageCount()); ++i)
        x = m_stages[static_cast<size_t>(i)]->forward(x);
    return x;
}

torch::Tensor NetImpl::pool(torch::Tensor f)
{
    return torch::adaptive_avg_pool2d(f, {1, 1}).flatten(1);
}

torch::Tensor NetImpl::classify(torch::Tensor pooled)
{
    if (m_corn)
        return cornLogProbs(conditionalLogits(std::move(pooled)));
    auto x = std::move(pooled);
    if (m_dropout)
        x = m_dropout(x);
    return m_fc(x);
}

void NetImpl::useCornHead()
{
    if (m_corn)
        return;
    torch::NoGradGuard noGrad;
    m_fc = replace_module("fc", nn::Linear(m_headFeatures, m_numClasses - 1));
    nn::init::normal_(m_fc->weight, 0.0, 0.01);
    nn::init::zeros_(m_fc->bias);
    m_corn = true;
}

torch::Tensor NetImpl::conditionalLogits(torch::Tensor pooled)
{
    auto x = std::move(pooled);
    if (m_dropout)
        x = m_dropout(x);
    return m_fc(x);
}

torch::Tensor cornLogProbs(const torch::Tensor& conditional)
{
    auto h = conditional.to(torch::kFloat32);
    auto logAbove = torch::cumsum(torch::log_sigmoid(h), 1);                        // log P(y > k)
    auto logReach = torch::cat({torch::zeros_like(h.slice(1, 0, 1)), logAbove}, 1); // log P(y > k-1), k = 0..K-1
    auto logStop = torch::cat({torch::log_sigmoid(-h), torch::zeros_like(h.slice(1, 0, 1))}, 1);
    return logReach + logStop;
}

torch::Tensor cornLoss(const torch::Tensor& conditional, const torch::Tensor& target, const torch::Tensor& weights)
{
    auto h = conditional.to(torch::kFloat32);
    auto k = torch::arange(h.size(1), target.options()).unsqueeze(0);
    auto y = target.unsqueeze(1);
    auto inSubset = (y >= k).to(torch::kFloat32);
    auto above = (y > k).to(torch::kFloat32);
    auto terms = torch::binary_cross_entropy_with_logits(h, above, {}, {}, at::Reduction::None) * inSubset;
    if (weights.defined()) {
        auto wy = weights.index_select(0, target).unsqueeze(1);
        terms = terms * wy;
        inSubset = inSubset * wy;
    }
    return terms.sum() / inSubset.sum().clamp_min(1e-12);
}

int NetImpl::stageIndex(const std::string& name) const
{
    if (name.empty())
        return stageCount() - 1;
    auto it = std::find(m_stageNames.begin(), m_stageNames.end(), name);
    return it == m_stageNames.end() ? -1 : static_cast<int>(it - m_stageNames.begin());
}

void NetImpl::addStage(const std::string& name, nn::Sequential stage)
{
    m_stages.push_back(register_module(name, stage));
    m_stageNames.push_back(name);
}

void NetImpl::addLinearHead(int64_t features, double dropout)
{
    if (dropout > 0)
        m_dropout = register_module("dropout", nn::Dropout(dropout));
    m_fc = register_module("fc", nn::Linear(features, m_numClasses));
    m_headFeatures = features;
}

void NetImpl::initWeights()
{
    torch::NoGradGuard noGrad;
    for (auto& m : modules(/*include_self=*/false)) {
        if (auto* conv = m->as<nn::Conv2d>()) {
            nn::init::kaiming_normal_(conv->weight, 0.0, torch::kFanOut, torch::kReLU);
            if (conv->bias.defined())
                nn::init::zeros_(conv->bias);
        } else if (auto* bn = m->as<nn::BatchNorm2d>()) {
            nn::init::ones_(bn->weight);
            nn::init::zeros_(bn->bias);
        } else if (auto* fc = m->as<nn::Linear>()) {
            nn::init::normal_(fc->weight, 0.0, 0.01);
            nn::init::zeros_(fc->bias);
        }
    }
}

namespace {

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t groups = 1)
{
    return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).groups(groups).bias(false));
}

nn::BatchNorm2d bn(int64_t c, double eps = 1e-5, double momentum = 0.1)
{
    return nn::BatchNorm2d(nn::BatchNorm2dOptions(c).eps(eps).momentum(momentum));
}

// ---------------------------------------------------------------------------------------
// cnn5: five conv-BN-ReLU blocks; max pooling after the first three (stride 8 overall, so
// the CAM keeps a useful resolution: 28x28 at 224).

class Cnn5Impl : public NetImpl {
public:
    Cnn5Impl(int inChannels, int numClasses) : NetImpl("cnn5", inChannels, numClasses)
    {
        const int64_t widths[] = {32, 64, 128, 256, 256};
        int64_t in = inChannels;
        for (int i = 0; i < 5; ++i) {
            nn::Sequential s(conv(in, widths[i], 3), bn(widths[i]), nn::ReLU(nn::ReLUOptions(true)));
            if (i < 3)
                s->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
            addStage("block" + std::to_string(i + 1), s);
            in = widths[i];
        }
        addLinearHead(in, 0.25);
        initWeights();
    }
};
TORCH_MODULE(Cnn5);

// ---------------------------------------------------------------------------------------
// ResNet (He et al. 2016), as torchvision builds it.

class BasicBlockImpl : public nn::Module {
public:
    static constexpr int64_t kExpansion = 1;
    BasicBlockImpl(int64_t in, int64_t planes, int64_t stride)
    {
        m_conv1 = register_module("conv1", conv(in, planes, 3, stride));
        m_bn1 = register_module("bn1", bn(planes));
        m_conv2 = register_module("conv2", conv(planes, planes, 3));
        m_bn2 = register_module("bn2", bn(planes));
        if (stride != 1 || in != planes)
            m_down = register_module("downsample", nn::Sequential(conv(in, planes, 1, stride), bn(planes)));
    }
    torch::Tensor forward(torch::Tensor x)
    {
        auto y = torch::relu(m_bn1(m_conv1(x)));
        y = m_bn2(m_conv2(y));
        return torch::relu(y + (m_down ? m_down->forward(x) : x));
    }

private:
    nn::Conv2d m_conv1{nullptr}, m_conv2{nullptr};
    nn::BatchNorm2d m_bn1{nullptr}, m_bn2{nullptr};
    nn::Sequential m_down{nullptr};
};
TORCH_MODULE(BasicBlock);

class BottleneckImpl : public nn::Module {
public:
    static constexpr int64_t kExpansion = 4;
    BottleneckImpl(int64_t in, int64_t planes, int64_t stride)
    {
        const int64_t out = planes * kExpansion;
        m_conv1 = register_module("conv1", conv(in, planes, 1));
        m_bn1 = register_module("bn1", bn(planes));
        m_conv2 = register_module("conv2", conv(planes, planes, 3, stride));
        m_bn2 = register_module("bn2", bn(planes));
        m_conv3 = register_module("conv3", conv(planes, out, 1));
        m_bn3 = register_module("bn3", bn(out));
        if (stride != 1 || in != out)
            m_down = register_module("downsample", nn::Sequential(conv(in, out, 1, stride), bn(out)));
    }
    torch::Tensor forward(torch::Tensor x)
    {
        auto y = torch::relu(m_bn1(m_conv1(x)));
        y = torch::relu(m_bn2(m_conv2(y)));
        y = m_bn3(m_conv3(y));
        return torch::relu(y + (m_down ? m_down->forward(x) : x));
    }

private:
    nn::Conv2d m_conv1{nullptr}, m_conv2{nullptr}, m_conv3{nullptr};
    nn::BatchNorm2d m_bn1{nullptr}, m_bn2{nullptr}, m_bn3{nullptr};
    nn::Sequential m_down{nullptr};
};
TORCH_MODULE(Bottleneck);

class ResNetImpl : public NetImpl {
public:
    template <typename Block>
    static std::shared_ptr<ResNetImpl> make(const std::string& name, std::vector<int> layers, int inChannels,
                                            int numClasses, int64_t width = 64)
    {
        auto net = std::shared_ptr<ResNetImpl>(new ResNetImpl(name, inChannels, numClasses));
        net->addStage("stem", nn::Sequential(conv(inChannels, width, 7, 2), bn(width), nn::ReLU(nn::ReLUOptions(true)),
                                             nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1))));
        int64_t in = width;
        const int64_t planes[] = {width, 2 * width, 4 * width, 8 * width};
        for (int i = 0; i < 4; ++i) {
            nn::Sequential s;
            for (int b = 0; b < layers[i]; ++b) {
                s->push_back(Block(in, planes[i], (b == 0 && i > 0) ? 2 : 1));
                in = planes[i] * Block::Impl::kExpansion;
            }
            net->addStage("layer" + std::to_string(i + 1), s);
        }
        net->addLinearHead(in, 0.0);
        net->initWeights();
        return net;
    }

private:
    ResNetImpl(const std::string& name, int inChannels, int numClasses) : NetImpl(name, inChannels, numClasses) {}
};

// ---------------------------------------------------------------------------------------
// DenseNet-121 (Huang et al. 2017): growth 32, blocks 6-12-24-16, bottleneck 4x.

class DenseLayerImpl : public nn::Module {
public:
    DenseLayerImpl(int64_t in, int64_t growth, int64_t bnSize)
    {
        m_norm1 = register_module("norm1", bn(in));
        m_conv1 = register_module("conv1", conv(in, bnSize * growth, 1));
        m_norm2 = register_module("norm2", bn(bnSize * growth));
        m_conv2 = register_module("conv2", conv(bnSize * growth, growth, 3));
    }
    torch::Tensor forward(torch::Tensor x)
    {
        auto y = m_conv1(torch::relu(m_norm1(x)));
        y = m_conv2(torch::relu(m_norm2(y)));
        return torch::cat({x, y}, 1);
    }

private:
    nn::BatchNorm2d m_norm1{nullptr}, m_norm2{nullptr};
    nn::Conv2d m_conv1{nullptr}, m_conv2{nullptr};
};
TORCH_MODULE(DenseLayer);

class DenseNetImpl : public NetImpl {
public:
    DenseNetImpl(int inChannels, int numClasses) : NetImpl("densenet121", inChannels, numClasses)
    {
        const int64_t growth = 32, bnSize = 4;
        const int blocks[] = {6, 12, 24, 16};
        addStage("stem", nn::Sequential(conv(inChannels, 64, 7, 2), bn(64), nn::ReLU(nn::ReLUOptions(true)),
                                        nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1))));
        int64_t c = 64;
        for (int i = 0; i < 4; ++i) {
            nn::Sequential s;
            for (int l = 0; l < blocks[i]; ++l) {
                s->push_back(DenseLayer(c, growth, bnSize));
                c += growth;
            }
            if (i < 3) { // transition: BN-ReLU-1x1 conv halving channels, 2x2 average pool
                s->push_back(bn(c));
                s->push_back(nn::ReLU(nn::ReLUOptions(true)));
                s->push_back(conv(c, c / 2, 1));
                s->push_back(nn::AvgPool2d(nn::AvgPool2dOptions(2).stride(2)));
                c /= 2;
            } else { // final norm and ReLU belong to the last block so Grad-CAM sees them
                s->push_back(bn(c));
                s->push_back(nn::ReLU(nn::ReLUOptions(true)));
            }
            addStage("denseblock" + std::to_string(i + 1), s);
        }
        addLinearHead(c, 0.0);
        initWeights();
    }
};
TORCH_MODULE(DenseNet);

// ---------------------------------------------------------------------------------------
// EfficientNet-B0 (Tan & Le 2019): MBConv blocks with squeeze-excitation and SiLU.
// Stochastic depth is left out (it only matters when training large variants). Batch norm
// uses eps 1e-5 and momentum 0.1 as torchvision's B0 does (TF/Keras use 1e-3 and 0.01), so
// torchvision weights carry over exactly (tst_MlTorchvisionParity).

class SqueezeExciteImpl : public nn::Module {
public:
    SqueezeExciteImpl(int64_t channels, int64_t squeezed)
    {
        m_reduce = register_module("reduce", nn::Conv2d(nn::Conv2dOptions(channels, squeezed, 1)));
        m_expand = register_module("expand", nn::Conv2d(nn::Conv2dOptions(squeezed, channels, 1)));
    }
    torch::Tensor forward(torch::Tensor x)
    {
        auto s = torch::adaptive_avg_pool2d(x, {1, 1});
        s = torch::sigmoid(m_expand(torch::silu(m_reduce(s))));
        return x * s;
    }

private:
    nn::Conv2d m_reduce{nullptr}, m_expand{nullptr};
};
TORCH_MODULE(SqueezeExcite);

class MBConvImpl : public nn::Module {
public:
    MBConvImpl(int64_t in, int64_t out, int64_t expand, int64_t kernel, int64_t stride)
        : m_residual(stride == 1 && in == out)
    {
        const int64_t mid = in * expand;
        m_block = register_module("block", nn::Sequential());
        if (expand != 1) {
            m_block->push_back(conv(in, mid, 1));
            m_block->push_back(bn(mid));
            m_block->push_back(nn::SiLU());
        }
        m_block->push_back(conv(mid, mid, kernel, stride, mid));
        m_block->push_back(bn(mid));
        m_block->push_back(nn::SiLU());
        m_block->push_back(SqueezeExcite(mid, std::max<int64_t>(1, in / 4)));
        m_block->push_back(conv(mid, out, 1));
        m_block->push_back(bn(out));
    }
    torch::Tensor forward(torch::Tensor x)
    {
        auto y = m_block->forward(x);
        return m_residual ? y + x : y;
    }

private:
    bool m_residual;
    nn::Sequential m_block{nullptr};
};
TORCH_MODULE(MBConv);

class EfficientNetImpl : public NetImpl {
public:
    EfficientNetImpl(int inChannels, int numClasses) : NetImpl("efficientnet_b0", inChannels, numClasses)
    {
        addStage("stem", nn::Sequential(conv(inChannels, 32, 3, 2), bn(32), nn::SiLU()));
        struct Cfg {
            int64_t expand, kernel, stride, out;
            int repeats;
        };
        const Cfg cfg[] = {{1, 3, 1, 16, 1},  {6, 3, 2, 24, 2},  {6, 5, 2, 40, 2}, {6, 3, 2, 80, 3},
                           {6, 5, 1, 112, 3}, {6, 5, 2, 192, 4}, {6, 3, 1, 320, 1}};
        int64_t in = 32;
        for (int i = 0; i < 7; ++i) {
            nn::Sequential s;
            for (int r = 0; r < cfg[i].repeats; ++r) {
                s->push_back(MBConv(in, cfg[i].out, cfg[i].expand, cfg[i].kernel, r == 0 ? cfg[i].stride : 1));
                in = cfg[i].out;
            }
            addStage("stage" + std::to_string(i + 1), s);
        }
        addStage("top", nn::Sequential(conv(in, 1280, 1), bn(1280), nn::SiLU()));
        addLinearHead(1280, 0.2);
        initWeights();
    }
};
TORCH_MODULE(EfficientNet);

// ---------------------------------------------------------------------------------------
// Xception (Chollet 2017): depthwise separable convolutions, entry/middle/exit flows.

class SeparableConvImpl : public nn::Module {
public:
    SeparableConvImpl(int64_t in, int64_t out)
    {
        m_depthwise = register_module("depthwise", conv(in, in, 3, 1, in));
        m_pointwise = register_module("pointwise", conv(in, out, 1));
    }
    torch::Tensor forward(torch::Tensor x) { return m_pointwise(m_depthwise(x)); }

private:
    nn::Conv2d m_depthwise{nullptr}, m_pointwise{nullptr};
};
TORCH_MODULE(SeparableConv);

/// reps x (ReLU, separable conv, BN), optional 3x3/2 max pool, plus a (1x1 conv) shortcut.
class XceptionBlockImpl : public nn::Module {
public:
    XceptionBlockImpl(int64_t in, int64_t out, int reps, int64_t stride, bool startWithRelu, bool growFirst)
    {
        m_body = register_module("body", nn::Sequential());
        int64_t c = in;
        for (int r = 0; r < reps; ++r) {
            const int64_t target = (growFirst ? r == 0 : r == reps - 1) ? out : c;
            if (r > 0 || startWithRelu)
                m_body->push_back(nn::ReLU());
            m_body->push_back(SeparableConv(c, target));
            m_body->push_back(bn(target));
            c = target;
        }
        if (stride != 1)
            m_body->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(stride).padding(1)));
        if (stride != 1 || in != out)
            m_skip = register_module("skip", nn::Sequential(conv(in, out, 1, stride), bn(out)));
    }
    torch::Tensor forward(torch::Tensor x) { return m_body->forward(x) + (m_skip ? m_skip->forward(x) : x); }

private:
    nn::Sequential m_body{nullptr}, m_skip{nullptr};
};
TORCH_MODULE(XceptionBlock);

class XceptionImpl : public NetImpl {
public:
    XceptionImpl(int inChannels, int numClasses) : NetImpl("xception", inChannels, numClasses)
    {
        const auto relu = [] { return nn::ReLU(nn::ReLUOptions(true)); };
        addStage("entry",
                 nn::Sequential(nn::Conv2d(nn::Conv2dOptions(inChannels, 32, 3).stride(2).bias(false)), bn(32), relu(),
                                nn::Conv2d(nn::Conv2dOptions(32, 64, 3).bias(false)), bn(64), relu(),
                                XceptionBlock(64, 128, 2, 2, false, true), XceptionBlock(128, 256, 2, 2, true, true),
                                XceptionBlock(256, 728, 2, 2, true, true)));
        nn::Sequential middle;
        for (int i = 0; i < 8; ++i)
            middle->push_back(XceptionBlock(728, 728, 3, 1, true, true));
        addStage("middle", middle);
        addStage("exit", nn::Sequential(XceptionBlock(728, 1024, 2, 2, true, false), SeparableConv(1024, 1536),
                                        bn(1536), relu(), SeparableConv(1536, 2048), bn(2048), relu()));
        addLinearHead(2048, 0.0);
        initWeights();
    }
};
TORCH_MODULE(Xception);

// ---------------------------------------------------------------------------------------
// VGG-16 with batch normalisation. The last max pool is left out (the head's global
// average pool follows) and the 4096-wide fully connected layers are replaced by one linear
// layer, as transfer-learning notebooks do; this keeps the network at 15 M parameters.

class VggImpl : public NetImpl {
public:
    VggImpl(int inChannels, int numClasses) : NetImpl("vgg16", inChannels, numClasses)
    {
        const std::vector<std::vector<int64_t>> blocks = {
            {64, 64}, {128, 128}, {256, 256, 256}, {512, 512, 512}, {512, 512, 512}};
        int64_t in = inChannels;
        for (size_t b = 0; b < blocks.size(); ++b) {
            nn::Sequential s;
            if (b > 0)
                s->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
            for (int64_t w : blocks[b]) {
                s->push_back(nn::Conv2d(nn::Conv2dOptions(in, w, 3).padding(1)));
                s->push_back(bn(w));
                s->push_back(nn::ReLU(nn::ReLUOptions(true)));
                in = w;
            }
            addStage("block" + std::to_string(b + 1), s);
        }
        addLinearHead(in, 0.5);
        initWeights();
    }
};
TORCH_MODULE(Vgg);

using Factory = std::function<std::shared_ptr<NetImpl>(int, int)>;

std::vector<std::pair<std::string, Factory>>& factories()
{
    static std::vector<std::pair<std::string, Factory>> f = {
        {"cnn5", [](int c, int n) { return std::make_shared<Cnn5Impl>(c, n); }},
        {"resnet18",
         [](int c, int n) {
             return ResNetImpl::make<BasicBlock>("resnet18", {2, 2, 2, 2}, c, n);
         }},
        // Compact ResNet-10 (one basic block per stage, half width: 1.2 M parameters, ~5 MB),
        // for models that ship with the program and train on a CPU.
        {"resnet10s",
         [](int c, int n) {
             return ResNetImpl::make<BasicBlock>("resnet10s", {1, 1, 1, 1}, c, n, 32);
         }},
        {"resnet34",
         [](int c, int n) {
             return ResNetImpl::make<BasicBlock>("resnet34", {3, 4, 6, 3}, c, n);
         }},
        {"resnet50",
         [](int c, int n) {
             return ResNetImpl::make<Bottleneck>("resnet50", {3, 4, 6, 3}, c, n);
         }},
        {"densenet121", [](int c, int n) { return std::make_shared<DenseNetImpl>(c, n); }},
        {"efficientnet_b0", [](int c, int n) { return std::make_shared<EfficientNetImpl>(c, n); }},
        {"xception", [](int c, int n) { return std::make_shared<XceptionImpl>(c, n); }},
        {"vgg16", [](int c, int n) { return std::make_shared<VggImpl>(c, n); }},
    };
    return f;
}

} // namespace

void registerArchitecture(const std::string& name, std::function<std::shared_ptr<NetImpl>(int, int)> make)
{
    factories().emplace_back(name, std::move(make));
}

std::vector<std::string> netArchitectures()
{
    std::vector<std::string> names;
    for (const auto& [name, f] : factories())
        names.push_back(name);
    return names;
}

std::shared_ptr<NetImpl> createNet(const std::string& architecture, int inChannels, int numClasses, std::string& error)
{
    for (const auto& [name, make] : factories()) {
        if (name != architecture)
            continue;
        if (inChannels != 1 && inChannels != 3) {
            error = "input channels must be 1 or 3, not " + std::to_string(inChannels);
            return nullptr;
        }
        if (numClasses < 2 || numClasses > 100000) {
            error = "class count must be at least 2, not " + std::to_string(numClasses);
            return nullptr;
        }
        try {
            return make(inChannels, numClasses);
        } catch (const std::exception& e) {
            error = "cannot build " + architecture + ": " + shortError(e);
            return nullptr;
        }
    }
    std::string known;
    for (const auto& n : netArchitectures())
        known += (known.empty() ? "" : ", ") + n;
    error = "unknown architecture '" + architecture + "' (known: " + known + ")";
    return nullptr;
}

torch::Tensor toTensor(const InputImage& input)
{
    return torch::from_blob(const_cast<float*>(input.data.data()), {1, input.channels, input.height, input.width},
                            torch::kFloat32)
        .clone();
}

std::string shortError(const std::exception& e)
{
    std::string s = e.what();
    // c10::Error appends a C++ stack trace after the first line(s); keep the message only.
    const auto cut = s.find("\nException raised from");
    if (cut != std::string::npos)
        s.resize(cut);
    if (s.size() > 600)
        s = s.substr(0, 600) + "...";
    return s;
}

} // namespace detail

// ---------------------------------------------------------------------------------------
// Model::Impl

namespace {

/// log(mean_m softmax(z_m)): logits whose softmax is the members' average.
torch::Tensor averagedLogits(const std::vector<torch::Tensor>& logits)
{
    auto logp = torch::stack(logits, 0).to(torch::kFloat32).log_softmax(2);
    return torch::logsumexp(logp, 0) - std::log(static_cast<double>(logits.size()));
}

} // namespace

std::vector<torch::Tensor> Model::Impl::memberLogits(const torch::Tensor& x)
{
    std::vector<torch::Tensor> out{net ? net->forward(x) : script->forward({x}).toTensor()};
    for (auto& m : members)
        out.push_back(m->forward(x));
    return out;
}

torch::Tensor Model::Impl::forward(const torch::Tensor& x)
{
    if (!members.empty())
        return averagedLogits(memberLogits(x));
    if (net)
        return net->forward(x);
    return script->forward({x}).toTensor();
}

namespace {

constexpr int kThumbnailSide = 8;      ///< the input's thumbnail block: 8 x 8 per channel
constexpr int64_t kMaxBlockDim = 1024; ///< stage blocks wider than this keep the means alone

/// The input's own blocks: each channel's mean and SD (brightness, contrast, colour: a grey
/// radiograph before a dermoscopy model is far off in the few dimensions where photographs
/// agree), then the input average-pooled to a small thumbnail (layout).
std::vector<torch::Tensor> inputBlocks(const torch::Tensor& x)
{
    auto flat = x.flatten(2);
    return {torch::cat({flat.mean(2), flat.std(2, /*unbiased=*/false)}, 1),
            torch::adaptive_avg_pool2d(x, {kThumbnailSide, kThumbnailSide}).flatten(1)};
}

/// A stage output's descriptor: the channel means (`mean`, the global average pool) and the
/// channels' spatial SDs (texture), unless that would make the block too wide.
torch::Tensor describe(const torch::Tensor& a, const torch::Tensor& mean)
{
    if (2 * a.size(1) > kMaxBlockDim || a.size(2) * a.size(3) < 2)
        return mean;
    return torch::cat({mean, a.flatten(2).std(2, /*unbiased=*/false)}, 1);
}

} // namespace

torch::Tensor Model::Impl::featuresUpTo(const torch::Tensor& x, int stage, std::vector<torch::Tensor>* blocks)
{
    if (!net)
        return script->get_method("forward_features")({x}).toTensor();
    if (!blocks)
        return net->runStages(x, 0, stage + 1);
    for (auto& b : inputBlocks(x))
        blocks->push_back(b);
    auto a = x;
    for (int i = 0; i <= stage; ++i) {
        a = net->runStages(a, i, i + 1);
        blocks->push_back(describe(a, net->pool(a)));
    }
    return a;
}

torch::Tensor Model::Impl::headFrom(const torch::Tensor& a, int stage)
{
    if (net)
        return net->head(net->runStages(a, stage + 1, net->stageCount()));
    return script->get_method("forward_head")({a}).toTensor();
}

std::pair<torch::Tensor, torch::Tensor> Model::Impl::embedFrom(const torch::Tensor& a, int stage,
                                                               std::vector<torch::Tensor> blocks)
{
    if (!net)
        return {torch::Tensor(), script->get_method("forward_head")({a}).toTensor()};
    // The chosen stage's block comes from `a` itself, so that the logits depend on it (Grad-CAM).
    auto mean = net->pool(a);
    if (static_cast<int>(blocks.size()) == stage + 3)
        blocks.back() = describe(a, mean);
    auto x = a;
    for (int i = stage + 1; i < net->stageCount(); ++i) {
        x = net->runStages(x, i, i + 1);
        mean = net->pool(x);
        blocks.push_back(describe(x, mean));
    }
    auto logits = net->classify(mean);
    if (static_cast<int>(blocks.size()) != net->stageCount() + 2)
        return {torch::Tensor(), logits}; // the earlier blocks were not given
    return {torch::cat(blocks, 1), logits};
}

std::tuple<torch::Tensor, torch::Tensor, std::vector<torch::Tensor>> Model::Impl::embedAll(const torch::Tensor& x)
{
    if (!net) {
        auto logits = forward(x);
        return {torch::Tensor(), logits, {logits}};
    }
    std::vector<torch::Tensor> blocks = inputBlocks(x);
    auto a = x;
    torch::Tensor mean;
    for (int i = 0; i < net->stageCount(); ++i) {
        a = net->runStages(a, i, i + 1);
        mean = net->pool(a);
        blocks.push_back(describe(a, mean));
    }
    std::vector<torch::Tensor> all{net->classify(mean)};
    for (auto& m : members)
        all.push_back(m->forward(x));
    auto logits = all.size() > 1 ? averagedLogits(all) : all[0];
    return {torch::cat(blocks, 1), logits, all};
}

std::pair<torch::Tensor, torch::Tensor> Model::Impl::embed(const torch::Tensor& x)
{
    auto [features, logits, all] = embedAll(x);
    (void)all;
    return {features, logits};
}

std::vector<int> Model::Impl::featureBlocks() const
{
    std::vector<int> dims;
    if (!net)
        return dims;
    // One forward pass on a small input gives each block's width.
    torch::NoGradGuard noGrad;
    const bool training = net->is_training();
    net->eval();
    torch::Device device = torch::kCPU;
    for (const auto& p : net->parameters()) {
        device = p.device();
        break;
    }
    auto x = torch::zeros({1, inChannels, 96, 96}, torch::TensorOptions().device(device));
    for (const auto& b : inputBlocks(x))
        dims.push_back(static_cast<int>(b.size(1)));
    auto a = x;
    for (int i = 0; i < net->stageCount(); ++i) {
        a = net->runStages(a, i, i + 1);
        dims.push_back(static_cast<int>(describe(a, net->pool(a)).size(1)));
    }
    if (training)
        net->train();
    return dims;
}

int Model::Impl::layerCount() const
{
    if (net)
        return net->stageCount();
    return scriptHasParts ? 1 : 0;
}

int Model::Impl::layerIndex(const std::string& name) const
{
    if (net)
        return net->stageIndex(name);
    return scriptHasParts && (name.empty() || name == "features") ? 0 : -1;
}

void Model::Impl::setEval()
{
    for (auto& m : members)
        m->setEval();
    if (net)
        net->eval();
    else
        script->eval();
}

void Model::Impl::to(const torch::Device& device)
{
    for (auto& m : members)
        m->to(device);
    if (net)
        net->to(device);
    else
        script->to(device);
}

void Model::Impl::freeze()
{
    for (auto& m : members)
        m->freeze();
    if (net) {
        for (auto& p : net->parameters())
            p.set_requires_grad(false);
    } else {
        for (auto p : script->parameters())
            p.set_requires_grad(false);
    }
}

// ---------------------------------------------------------------------------------------
// Model

int Model::memberCount() const
{
    return m_impl ? 1 + static_cast<int>(m_impl->members.size()) : 0;
}

Result<Model> makeEnsemble(const std::vector<Model>& members)
{
    using R = Result<Model>;
    if (members.size() < 2)
        return R::failure("an ensemble needs at least two networks");
    for (const auto& m : members) {
        if (!m.valid() || !m.impl()->net)
            return R::failure("only built-in networks can form an ensemble");
        if (m.impl()->isEnsemble())
            return R::failure("a member is an ensemble itself");
        if (m.architecture() != members[0].architecture() || m.inChannels() != members[0].inChannels() ||
            m.numClasses() != members[0].numClasses())
            return R::failure("the members differ in architecture, input channels or classes (" + m.architecture() +
                              " against " + members[0].architecture() + ")");
        if (m.impl()->net->cornHead() != members[0].impl()->net->cornHead())
            return R::failure("the members differ in their heads (corn and softmax); a bundle holds one kind");
    }
    auto impl = std::make_shared<Model::Impl>(*members[0].impl());
    impl->members.clear();
    for (size_t i = 1; i < members.size(); ++i)
        impl->members.push_back(members[i].impl());
    return Model(impl);
}

std::vector<int> Model::featureBlocks() const
{
    return m_impl ? m_impl->featureBlocks() : std::vector<int>{};
}

std::string Model::architecture() const
{
    if (!m_impl)
        return {};
    return m_impl->net ? m_impl->net->architecture() : "torchscript";
}

int Model::inChannels() const
{
    return m_impl ? m_impl->inChannels : 0;
}
int Model::numClasses() const
{
    return m_impl ? m_impl->numClasses : 0;
}
bool Model::isTorchScript() const
{
    return m_impl && !m_impl->net;
}

std::vector<std::string> Model::layerNames() const
{
    if (!m_impl)
        return {};
    if (m_impl->net)
        return m_impl->net->stageNames();
    return m_impl->scriptHasParts ? std::vector<std::string>{"features"} : std::vector<std::string>{};
}

int64_t Model::parameterCount() const
{
    if (!m_impl)
        return 0;
    int64_t n = 0;
    if (m_impl->net) {
        for (const auto& p : m_impl->net->parameters())
            n += p.numel();
    } else {
        for (const auto& p : m_impl->script->parameters())
            n += p.numel();
    }
    for (const auto& m : m_impl->members)
        n += Model(m).parameterCount();
    return n;
}

namespace {
torch::Device modelDevice(Model::Impl& impl)
{
    if (impl.net) {
        auto params = impl.net->parameters();
        return params.empty() ? torch::Device(torch::kCPU) : params.front().device();
    }
    for (const auto& p : impl.script->parameters())
        return p.device();
    return torch::Device(torch::kCPU);
}
} // namespace

Result<std::vector<float>> Model::logits(const InputImage& input) const
{
    using R = Result<std::vector<float>>;
    if (!m_impl)
        return R::failure("no model loaded");
    if (!input.valid())
        return R::failure("input image is empty or its data does not match its size");
    if (input.channels != m_impl->inChannels)
        return R::failure("model expects " + std::to_string(m_impl->inChannels) + " input channels, image has " +
                          std::to_string(input.channels));
    try {
        torch::NoGradGuard noGrad;
        m_impl->setEval();
        auto x = detail::toTensor(input).to(modelDevice(*m_impl));
        auto y = m_impl->forward(x).to(torch::kCPU, torch::kFloat32).contiguous();
        if (y.dim() != 2 || y.size(0) != 1)
            return R::failure("model output has an unexpected shape");
        return std::vector<float>(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
    } catch (const std::exception& e) {
        return R::failure("forward pass failed: " + detail::shortError(e));
    }
}

Result<std::vector<int64_t>> Model::layerShape(int height, int width, const std::string& layer) const
{
    using R = Result<std::vector<int64_t>>;
    if (!m_impl)
        return R::failure("no model loaded");
    const int idx = m_impl->layerIndex(layer);
    if (idx < 0)
        return R::failure("model has no layer '" + layer + "'");
    try {
        torch::NoGradGuard noGrad;
        m_impl->setEval();
        auto x = torch::zeros({1, m_impl->inChannels, height, width}).to(modelDevice(*m_impl));
        auto a = m_impl->featuresUpTo(x, idx);
        return std::vector<int64_t>{a.size(1), a.size(2), a.size(3)};
    } catch (const std::exception& e) {
        return R::failure("forward pass failed: " + detail::shortError(e));
    }
}

std::vector<std::string> modelArchitectures()
{
    return detail::netArchitectures();
}

Result<Model> createModel(const std::string& architecture, int inChannels, int numClasses)
{
    std::string error;
    auto net = detail::createNet(architecture, inChannels, numClasses, error);
    if (!net)
        return Result<Model>::failure(error);
    auto impl = std::make_shared<Model::Impl>();
    impl->net = net;
    impl->inChannels = inChannels;
    impl->numClasses = numClasses;
    return Model(impl);
}

} // namespace lightbox::ml
