#include "Bundle.h"

#include "detail/ModelImpl.h"

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace lightbox::ml {

namespace {

constexpr const char* kCardKey = "lightbox_card";

/// Archive keys must be identifiers (the archive is a TorchScript object): "layer1.0.conv1.weight"
/// becomes "p_layer1__0__conv1__weight".
std::string archiveKey(const std::string& prefix, const std::string& name)
{
    std::string key = prefix;
    for (char c : name) {
        if (c == '.')
            key += "__";
        else
            key += c;
    }
    return key;
}

std::string shapeText(const torch::IntArrayRef& s)
{
    std::string t = "[";
    for (size_t i = 0; i < s.size(); ++i)
        t += (i ? ", " : "") + std::to_string(s[i]);
    return t + "]";
}

Result<LoadedModel> loadTorchScript(const std::string& path)
{
    using R = Result<LoadedModel>;
    torch::jit::ExtraFilesMap extra{{"card.json", ""}};
    torch::jit::Module module;
    try {
        module = torch::jit::load(path, torch::Device(torch::kCPU), extra);
    } catch (const std::exception& e) {
        return R::failure("not a Lightbox bundle or TorchScript model (" + detail::shortError(e) + ")");
    }
    if (extra["card.json"].empty())
        return R::failure("TorchScript model has no card.json extra file (class names, preprocessing); "
                          "export it with scripts/export_torchvision.py");
    auto card = ModelCard::fromJsonText(extra["card.json"]);
    if (!card)
        return R::failure(card.error());
    card->architecture = card->architecture.empty() ? "torchscript" : card->architecture;

    auto impl = std::make_shared<Model::Impl>();
    impl->script = module;
    impl->inChannels = card->preprocess.channels;
    impl->numClasses = card->numClasses();
    impl->scriptHasParts =
        module.find_method("forward_features").has_value() && module.find_method("forward_head").has_value();
    impl->setEval();

    // Check the module against its card once, so a mismatch fails here and not in the viewer.
    try {
        torch::NoGradGuard noGrad;
        auto x = torch::zeros({1, impl->inChannels, card->preprocess.height, card->preprocess.width});
        auto y = impl->forward(x);
        if (y.dim() != 2 || y.size(1) != impl->numClasses)
            return R::failure("TorchScript model outputs " + shapeText(y.sizes()) + " but its card lists " +
                              std::to_string(impl->numClasses) + " classes");
    } catch (const std::exception& e) {
        return R::failure("TorchScript model does not run on its card's input size: " + detail::shortError(e));
    }
    return LoadedModel{Model(impl), card.value(), path};
}

} // namespace

namespace detail {

Status writeBundleFile(const std::string& path, const std::string& cardJson, const torch::nn::Module& net)
{
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    try {
        torch::serialize::OutputArchive archive;
        auto bytes =
            torch::from_blob(const_cast<char*>(cardJson.data()), {static_cast<int64_t>(cardJson.size())}, torch::kUInt8)
                .clone();
        archive.write(kCardKey, bytes, /*is_buffer=*/true);
        for (const auto& p : net.named_parameters())
            archive.write(archiveKey("p_", p.key()), p.value().detach().to(torch::kCPU));
        for (const auto& b : net.named_buffers())
            archive.write(archiveKey("b_", b.key()), b.value().to(torch::kCPU), /*is_buffer=*/true);
        archive.save_to(tmp);
    } catch (const std::exception& e) {
        std::remove(tmp.c_str());
        return Status::failure("cannot write " + path + ": " + shortError(e));
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return Status::failure("cannot write " + path + " (rename failed)");
    }
    return success();
}

} // namespace detail

Status saveBundle(const Model& model, const ModelCard& card, const std::string& path)
{
    if (!model.valid() || !model.impl()->net)
        return Status::failure("only built-in architectures can be saved as a bundle");
    const auto& net = model.impl()->net;
    if (card.architecture != net->architecture())
        return Status::failure("card architecture '" + card.architecture + "' does not match the network ('" +
                               net->architecture() + "')");
    if (card.numClasses() != net->numClasses())
        return Status::failure("card lists " + std::to_string(card.numClasses()) + " classes, the network has " +
                               std::to_string(net->numClasses()));
    if (card.preprocess.channels != net->inChannels())
        return Status::failure("card says " + std::to_string(card.preprocess.channels) +
                               " input channels, the network takes " + std::to_string(net->inChannels()));
    const std::string bad = card.preprocess.validate();
    if (!bad.empty())
        return Status::failure("card preprocess: " + bad);

    ModelCard stored = card;
    stored.formatVersion = ModelCard::kFormatVersion;
    if (stored.created.empty())
        stored.created = isoTimestampUtc();

    return detail::writeBundleFile(path, stored.toJsonText(), *net);
}

Result<LoadedModel> loadModel(const std::string& path)
{
    using R = Result<LoadedModel>;
    {
        std::ifstream probe(path, std::ios::binary | std::ios::ate);
        if (!probe)
            return R::failure("cannot open " + path);
        if (probe.tellg() <= 0)
            return R::failure(path + " is empty");
    }

    torch::serialize::InputArchive archive;
    try {
        archive.load_from(path, torch::Device(torch::kCPU));
    } catch (const std::exception& e) {
        return R::failure(path + " is not a Lightbox bundle or TorchScript model (" + detail::shortError(e) + ")");
    }

    torch::Tensor cardBytes;
    try {
        if (!archive.try_read(kCardKey, cardBytes, /*is_buffer=*/true))
            return loadTorchScript(path);
    } catch (const std::exception&) {
        return loadTorchScript(path);
    }
    if (cardBytes.scalar_type() != torch::kUInt8 || cardBytes.dim() != 1)
        return R::failure("bundle card is malformed");
    cardBytes = cardBytes.contiguous();
    const std::string json(reinterpret_cast<const char*>(cardBytes.data_ptr<uint8_t>()),
                           static_cast<size_t>(cardBytes.numel()));
    auto card = ModelCard::fromJsonText(json);
    if (!card)
        return R::failure(card.error());

    std::string error;
    auto net = detail::createNet(card->architecture, card->preprocess.channels, card->numClasses(), error);
    if (!net)
        return R::failure("bundle cannot be used: " + error);

    try {
        // Every tensor in the file must belong to the architecture: weights of a larger
        // variant under a smaller variant's card would otherwise load partly and silently.
        std::set<std::string> expected{kCardKey};
        for (const auto& p : net->named_parameters())
            expected.insert(archiveKey("p_", p.key()));
        for (const auto& b : net->named_buffers())
            expected.insert(archiveKey("b_", b.key()));
        for (const auto& key : archive.keys())
            if (!expected.count(key))
                return R::failure("bundle holds weights that " + card->architecture + " does not have ('" + key +
                                  "'); it was made for a different architecture or variant");

        torch::NoGradGuard noGrad;
        auto copyInto = [&](const std::string& prefix, const std::string& name, torch::Tensor& dst,
                            bool isBuffer) -> std::string {
            torch::Tensor src;
            if (!archive.try_read(archiveKey(prefix, name), src, isBuffer) || !src.defined())
                return "bundle has no weights for '" + name + "' (made for a different " + card->architecture +
                       " variant?)";
            if (src.sizes() != dst.sizes())
                return "weights for '" + name + "' have shape " + shapeText(src.sizes()) + ", " + card->architecture +
                       " expects " + shapeText(dst.sizes());
            if (src.scalar_type() != dst.scalar_type())
                return "weights for '" + name + "' have the wrong type";
            dst.copy_(src);
            return {};
        };
        for (auto& p : net->named_parameters()) {
            const std::string err = copyInto("p_", p.key(), p.value(), false);
            if (!err.empty())
                return R::failure(err);
        }
        for (auto& b : net->named_buffers()) {
            const std::string err = copyInto("b_", b.key(), b.value(), true);
            if (!err.empty())
                return R::failure(err);
        }
    } catch (const std::exception& e) {
        return R::failure("bundle weights cannot be read: " + detail::shortError(e));
    }
    net->eval();

    auto impl = std::make_shared<Model::Impl>();
    impl->net = net;
    impl->inChannels = card->preprocess.channels;
    impl->numClasses = card->numClasses();
    return LoadedModel{Model(impl), card.value(), path};
}

Result<ModelCard> readModelCard(const std::string& path)
{
    using R = Result<ModelCard>;
    torch::serialize::InputArchive archive;
    try {
        archive.load_from(path, torch::Device(torch::kCPU));
        torch::Tensor cardBytes;
        if (archive.try_read(kCardKey, cardBytes, /*is_buffer=*/true) && cardBytes.defined() &&
            cardBytes.scalar_type() == torch::kUInt8 && cardBytes.dim() == 1) {
            cardBytes = cardBytes.contiguous();
            return ModelCard::fromJsonText(std::string(reinterpret_cast<const char*>(cardBytes.data_ptr<uint8_t>()),
                                                       static_cast<size_t>(cardBytes.numel())));
        }
    } catch (const std::exception&) {
        // not a bundle: perhaps TorchScript
    }
    auto loaded = loadModel(path);
    if (!loaded)
        return R::failure(loaded.error());
    return loaded->card;
}

} // namespace lightbox::ml
