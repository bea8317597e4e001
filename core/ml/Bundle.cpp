#include "Bundle.h"

#include <base/FaultInjection.h>

#include "Archive.h"

#include "detail/ModelImpl.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

namespace lightbox::ml {

namespace {

constexpr const char* kCardKey = "lightbox_card";
// The out-of-distribution detector's Gaussians, one set per feature block b:
constexpr const char* kOodBlocksKey = "ood_blocks"; ///< [B, 4] float64: offset, dim, val mean, val SD
std::string oodMeansKey(size_t b)                   ///< [classes, D] float32
{
    return "ood_means_" + std::to_string(b);
}
std::string oodPrecisionKey(size_t b) ///< [D, D] float32
{
    return "ood_precision_" + std::to_string(b);
}

/// Keys of an ensemble's member m >= 1 start with "m<m>_"; the first member's have none, so a
/// one-member bundle is an ordinary one.
std::string memberPrefix(size_t m)
{
    return m == 0 ? std::string() : "m" + std::to_string(m) + "_";
}

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
    return LoadedModel{Model(impl), card.value(), path, {}};
}

} // namespace

namespace detail {

Status saveArchiveAtomically(torch::serialize::OutputArchive& archive, const std::string& path, const char* faultName)
{
    std::string bytes;
    try {
        archive.save_to([&bytes](const void* data, size_t n) {
            bytes.append(static_cast<const char*>(data), n);
            return n;
        });
    } catch (const std::exception& e) {
        return Status::failure("cannot write " + path + ": " + shortError(e));
    }
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    std::FILE* f = std::fopen(tmp.c_str(), "wb");
    if (!f)
        return Status::failure("cannot write " + path + ": " + std::strerror(errno));
    int err = 0;
    if (std::fwrite(bytes.data(), 1, bytes.size(), f) != bytes.size())
        err = errno ? errno : EIO;
    if (std::fflush(f) != 0 && !err)
        err = errno ? errno : EIO;
    if (std::fclose(f) != 0 && !err)
        err = errno ? errno : EIO;
    if (err) {
        std::remove(tmp.c_str());
        return Status::failure("cannot write " + path + ": " + std::strerror(err));
    }
    base::faultPointPartial(faultName, tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        err = errno;
        std::remove(tmp.c_str());
        return Status::failure("cannot write " + path + ": " + std::strerror(err));
    }
    return success();
}

Status writeBundleFile(const std::string& path, const std::string& cardJson, const torch::nn::Module& net,
                       const MahalanobisModel* gaussians, const std::vector<const torch::nn::Module*>& otherMembers)
{
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
        for (size_t m = 0; m < otherMembers.size(); ++m) {
            const std::string prefix = memberPrefix(m + 1);
            for (const auto& p : otherMembers[m]->named_parameters())
                archive.write(archiveKey(prefix + "p_", p.key()), p.value().detach().to(torch::kCPU));
            for (const auto& b : otherMembers[m]->named_buffers())
                archive.write(archiveKey(prefix + "b_", b.key()), b.value().to(torch::kCPU), /*is_buffer=*/true);
        }
        if (gaussians && gaussians->valid()) {
            const auto& blocks = gaussians->blocks;
            auto table = torch::empty({static_cast<int64_t>(blocks.size()), 4}, torch::kFloat64);
            for (size_t b = 0; b < blocks.size(); ++b) {
                const auto& g = blocks[b];
                const int64_t d = g.dim;
                double* row = table.data_ptr<double>() + 4 * b;
                row[0] = g.offset;
                row[1] = g.dim;
                row[2] = g.valMean;
                row[3] = g.valSd;
                auto means = torch::empty({static_cast<int64_t>(g.means.size()), d}, torch::kFloat32);
                for (size_t c = 0; c < g.means.size(); ++c)
                    std::copy(g.means[c].begin(), g.means[c].end(),
                              means.data_ptr<float>() + static_cast<int64_t>(c) * d);
                auto precision = torch::from_blob(const_cast<double*>(g.precision.data()), {d, d}, torch::kFloat64)
                                     .to(torch::kFloat32);
                archive.write(oodMeansKey(b), means, /*is_buffer=*/true);
                archive.write(oodPrecisionKey(b), precision, /*is_buffer=*/true);
            }
            archive.write(kOodBlocksKey, table, /*is_buffer=*/true);
        }
        return saveArchiveAtomically(archive, path, "bundle-write");
    } catch (const std::exception& e) {
        return Status::failure("cannot write " + path + ": " + shortError(e));
    }
}

} // namespace detail

Status saveBundle(const Model& model, const ModelCard& card, const std::string& path, const MahalanobisModel* gaussians)
{
    if (!model.valid() || !model.impl()->net)
        return Status::failure("only built-in architectures can be saved as a bundle");
    const auto& net = model.impl()->net;
    if (card.architecture != net->architecture())
        return Status::failure("card architecture '" + card.architecture + "' does not match the network ('" +
                               net->architecture() + "')");
    if ((card.head == "corn") != net->cornHead())
        return Status::failure("card head '" + card.head + "' does not match the network's (" +
                               (net->cornHead() ? "corn" : "softmax") + ")");
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

    if (gaussians && gaussians->valid()) {
        const std::vector<int> dims = model.impl()->featureBlocks();
        bool fits = dims.size() == gaussians->blocks.size();
        for (size_t b = 0; fits && b < dims.size(); ++b)
            fits = gaussians->blocks[b].dim == dims[b];
        if (!fits)
            return Status::failure("the detector's feature blocks do not match the network's stages");
    }
    if (stored.ood.method == "mahalanobis" && !(gaussians && gaussians->valid()))
        return Status::failure("the card names the Mahalanobis detector but no Gaussians were given");

    std::vector<const torch::nn::Module*> others;
    for (const auto& m : model.impl()->members) {
        if (!m->net)
            return Status::failure("only built-in networks can be saved as an ensemble");
        others.push_back(m->net.get());
    }
    stored.members = 1 + static_cast<int>(others.size());
    return detail::writeBundleFile(path, stored.toJsonText(), *net, gaussians, others);
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
    // LibTorch trusts the archive's sizes and checksums: damaged files are refused here.
    if (auto sound = checkZipArchive(path); !sound)
        return R::failure(path + " is not a Lightbox bundle or TorchScript model (" + sound.error() + ")");

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
    const int memberCount = card->members;
    std::vector<std::shared_ptr<detail::NetImpl>> nets;
    for (int m = 0; m < memberCount; ++m) {
        auto one = detail::createNet(card->architecture, card->preprocess.channels, card->numClasses(), error);
        if (!one)
            return R::failure("bundle cannot be used: " + error);
        if (card->head == "corn")
            one->useCornHead();
        nets.push_back(one);
    }
    auto net = nets[0];

    try {
        // Every tensor in the file must belong to the architecture: weights of a larger
        // variant under a smaller variant's card would otherwise load partly and silently.
        std::set<std::string> expected{kCardKey, kOodBlocksKey};
        for (size_t m = 0; m < nets.size(); ++m) {
            for (const auto& p : nets[m]->named_parameters())
                expected.insert(archiveKey(memberPrefix(m) + "p_", p.key()));
            for (const auto& b : nets[m]->named_buffers())
                expected.insert(archiveKey(memberPrefix(m) + "b_", b.key()));
        }
        // The detector's tensors ("ood_...") are checked against the network where they are read.
        for (const auto& key : archive.keys())
            if (!expected.count(key) && key.rfind("ood_", 0) != 0)
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
        for (size_t m = 0; m < nets.size(); ++m) {
            for (auto& p : nets[m]->named_parameters()) {
                const std::string err = copyInto(memberPrefix(m) + "p_", p.key(), p.value(), false);
                if (!err.empty())
                    return R::failure(memberCount > 1 ? "member " + std::to_string(m + 1) + ": " + err : err);
            }
            for (auto& b : nets[m]->named_buffers()) {
                const std::string err = copyInto(memberPrefix(m) + "b_", b.key(), b.value(), true);
                if (!err.empty())
                    return R::failure(memberCount > 1 ? "member " + std::to_string(m + 1) + ": " + err : err);
            }
        }
    } catch (const std::exception& e) {
        return R::failure("bundle weights cannot be read: " + detail::shortError(e));
    }
    auto single = [&](const std::shared_ptr<detail::NetImpl>& n) {
        n->eval();
        auto one = std::make_shared<Model::Impl>();
        one->net = n;
        one->inChannels = card->preprocess.channels;
        one->numClasses = card->numClasses();
        return one;
    };
    auto impl = single(net);
    for (size_t m = 1; m < nets.size(); ++m)
        impl->members.push_back(single(nets[m]));
    LoadedModel loaded{Model(impl), card.value(), path, {}};

    // The out-of-distribution detector's Gaussians, when present, must fit the network.
    try {
        torch::Tensor table;
        if (archive.try_read(kOodBlocksKey, table, /*is_buffer=*/true) && table.defined()) {
            const std::vector<int> dims = impl->featureBlocks();
            const std::string misfit = "bundle's out-of-distribution detector does not fit the network";
            if (table.dim() != 2 || table.size(1) != 4 || table.scalar_type() != torch::kFloat64 ||
                table.size(0) != static_cast<int64_t>(dims.size()))
                return R::failure(misfit);
            table = table.contiguous();
            int offset = 0;
            for (size_t b = 0; b < dims.size(); ++b) {
                const double* row = table.data_ptr<double>() + 4 * b;
                // Offsets and widths are whole numbers that fit the network; anything else
                // (NaN, 1e300) must not reach a conversion to int.
                if (!(row[0] >= 0.0 && row[0] <= 1e9 && row[1] >= 0.0 && row[1] <= 1e9))
                    return R::failure(misfit);
                MahalanobisBlock g;
                g.offset = static_cast<int>(row[0]);
                g.dim = static_cast<int>(row[1]);
                g.valMean = row[2];
                g.valSd = row[3];
                if (g.offset != offset || g.dim != dims[b])
                    return R::failure(misfit);
                offset += g.dim;
                torch::Tensor means, precision;
                if (!archive.try_read(oodMeansKey(b), means, true) ||
                    !archive.try_read(oodPrecisionKey(b), precision, true))
                    return R::failure(misfit + " (a block is missing)");
                const int64_t d = g.dim;
                if (means.dim() != 2 || means.size(1) != d || means.size(0) < 1 || means.size(0) > impl->numClasses ||
                    precision.dim() != 2 || precision.size(0) != d || precision.size(1) != d ||
                    means.scalar_type() != torch::kFloat32 || precision.scalar_type() != torch::kFloat32)
                    return R::failure(misfit);
                means = means.contiguous();
                precision = precision.to(torch::kFloat64).contiguous();
                for (int64_t c = 0; c < means.size(0); ++c)
                    g.means.emplace_back(means.data_ptr<float>() + c * d, means.data_ptr<float>() + (c + 1) * d);
                g.precision.assign(precision.data_ptr<double>(), precision.data_ptr<double>() + d * d);
                loaded.gaussians.blocks.push_back(std::move(g));
            }
            if (!loaded.gaussians.valid())
                return R::failure(misfit);
        }
    } catch (const std::exception& e) {
        return R::failure("bundle's out-of-distribution detector cannot be read: " + detail::shortError(e));
    }
    if (loaded.card.ood.method == "mahalanobis" && !loaded.gaussians.valid())
        return R::failure("bundle's card names a Mahalanobis detector but the bundle holds no Gaussians");
    return loaded;
}

Result<ModelCard> readModelCard(const std::string& path)
{
    using R = Result<ModelCard>;
    if (!checkZipArchive(path)) // a missing, empty or damaged file: loadModel's message
        return R::failure(loadModel(path).error());
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
