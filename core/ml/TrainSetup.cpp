// The set-up of a training run: the network (fresh from the zoo, or a bundle to fine-tune)
// and its optimiser on their device, the run folder's lock, the resume from its checkpoint,
// and, in a data-parallel run, the other ranks (detail/Collective.h).
#include "Trainer.h"

#include "RunFolderLock.h"
#include "Runtime.h"
#include "detail/Collective.h"
#include "detail/Device.h"
#include "detail/ModelImpl.h"
#include "detail/TrainParts.h"

#include <filesystem>

namespace lightbox::ml::detail {

namespace fs = std::filesystem;

namespace {

std::unique_ptr<torch::optim::Optimizer> makeOptimizer(const TrainConfig& c, const std::vector<torch::Tensor>& params)
{
    namespace optim = torch::optim;
    if (c.optimizer == "sgd")
        return std::make_unique<optim::SGD>(
            params, optim::SGDOptions(c.learningRate).momentum(c.momentum).weight_decay(c.weightDecay));
    if (c.optimizer == "adam")
        return std::make_unique<optim::Adam>(params, optim::AdamOptions(c.learningRate).weight_decay(c.weightDecay));
    return std::make_unique<optim::AdamW>(params, optim::AdamWOptions(c.learningRate).weight_decay(c.weightDecay));
}

/// Copies every tensor of `from` whose name and shape `to` shares; returns how many it copied.
int copyMatchingWeights(NetImpl& from, NetImpl& to, int& total)
{
    torch::NoGradGuard noGrad;
    auto src = from.named_parameters();
    auto srcBuffers = from.named_buffers();
    int copied = 0;
    total = 0;
    auto copy = [&](torch::OrderedDict<std::string, torch::Tensor>& source, const std::string& name,
                    torch::Tensor& dst) {
        ++total;
        if (const torch::Tensor* s = source.find(name)) {
            if (s->sizes() == dst.sizes() && s->scalar_type() == dst.scalar_type()) {
                dst.copy_(*s);
                ++copied;
            }
        }
    };
    for (auto& p : to.named_parameters())
        copy(src, p.key(), p.value());
    for (auto& b : to.named_buffers())
        copy(srcBuffers, b.key(), b.value());
    return copied;
}

/// Meets the other ranks, shards the sources and gives every rank rank 0's weights.
Status joinRanks(Run& run, BatchSource& train, BatchSource* val)
{
    const DistributedConfig& d = run.config.distributed;
    auto joined = Collective::connect(d, run.device);
    if (!joined)
        return Status::failure(joined.error());
    run.dist = std::move(joined.value());
    if (!train.shard(d.rank, d.worldSize) || (val && !val->shard(d.rank, d.worldSize)))
        return Status::failure("distributed training: the data source cannot be split between ranks");
    std::vector<torch::Tensor> all;
    for (const auto& p : run.net->parameters())
        all.push_back(p);
    for (const auto& b : run.net->buffers())
        all.push_back(b);
    run.dist->broadcast(all);
    return success();
}

} // namespace

/// Checks the configuration, builds the network (fresh from the zoo, or from a bundle to
/// fine-tune) and its optimiser, resumes it from the checkpoint when asked, repairs the run
/// folder and writes config.json.
Status prepareRun(Run& run, const TrainConfig& requested, bool resume,
                  const std::function<void(const std::string&)>& message)
{
    std::string bad = requested.validate();
    if (!bad.empty())
        return Status::failure("training configuration: " + bad);

    // A bundle gives its architecture (and its classes when the configuration names none).
    // Tensors the bundle shares by name and shape are copied, so a bundle can be fine-tuned to
    // another class count (new head) or channel count.
    TrainConfig& config = run.config;
    config = requested;
    LoadedModel init;
    if (!config.initBundle.empty()) {
        auto loaded = loadModel(config.initBundle);
        if (!loaded)
            return Status::failure("cannot fine-tune: " + loaded.error());
        if (!loaded->model.impl()->net)
            return Status::failure("cannot fine-tune " + config.initBundle +
                                   ": a TorchScript model cannot be trained here, only a Lightbox bundle");
        init = loaded.value();
        config.architecture = init.card.architecture;
        if (config.classNames.empty())
            config.classNames = init.card.classNames;
        if (config.task.empty())
            config.task = init.card.task;
        bad = config.validate();
        if (!bad.empty())
            return Status::failure("training configuration: " + bad);
    }
    run.numClasses = static_cast<int>(config.classNames.size());
    run.inChannels = config.preprocess.channels;

    const DistributedConfig& dist = config.distributed;
    // One GPU per rank: cuda:localRank, unless the configuration names one.
    const bool pickGpu =
        dist.enabled() && (config.device == "cuda" || (config.device == "auto" && cudaDeviceCount() > 0));
    auto device = chooseDevice(pickGpu ? "cuda:" + std::to_string(dist.localRank) : config.device);
    if (!device)
        return Status::failure(device.error());
    run.device = device.value();
    // Mixed precision: float16 with loss scaling on a GPU; bfloat16 (float32's exponent range,
    // so no loss scaling) on a CPU that computes it in hardware; float32 elsewhere.
    run.reduced = config.mixedPrecision ? reducedPrecisionName(run.device.str()) : std::string();
    run.half = !run.reduced.empty();
    run.scaled = run.half && run.device.is_cuda();
    run.threads = configureThreads(config.threads);

    // Every rank makes the folder (it may start before rank 0); only rank 0 writes into it.
    std::error_code ec;
    fs::create_directories(config.runDir, ec);
    if (!fs::is_directory(config.runDir))
        return Status::failure("cannot create the run folder " + config.runDir + (ec ? ": " + ec.message() : ""));
    if (dist.rank == 0) {
        auto locked = RunFolderLock::acquire(config.runDir);
        if (!locked)
            return Status::failure(locked.error());
        run.lock = locked.value();
    }
    run.checkpointPath = inRunDir(config.runDir, kCheckpointFile);
    run.bestPath = inRunDir(config.runDir, kBestFile);
    run.pendingBestPath = inRunDir(config.runDir, kPendingBestFile);
    if (resume && !Trainer::canResume(config.runDir))
        return Status::failure("there is no checkpoint to resume in " + config.runDir);

    manualSeed(config.seed);
    std::string error;
    run.net = createNet(config.architecture, run.inChannels, run.numClasses, error);
    if (!run.net)
        return Status::failure(error);
    if (config.head == "corn")
        run.net->useCornHead();
    if (init.model.valid()) {
        int total = 0;
        const int copied = copyMatchingWeights(*init.model.impl()->net, *run.net, total);
        if (copied == 0)
            return Status::failure("cannot fine-tune: " + config.initBundle + " shares no weights with the network");
        if (copied < total)
            message("fine-tuning: " + std::to_string(copied) + " of " + std::to_string(total) + " tensors taken from " +
                    config.initBundle + ", the rest (the classifier) freshly initialised");
    }
    run.net->to(run.device);

    run.optimizer = makeOptimizer(config, run.net->parameters());
    if (!config.classWeights.empty())
        run.weights = torch::tensor(config.classWeights, torch::kFloat32).to(run.device);

    run.identity = NetIdentity{config.architecture, run.inChannels, run.numClasses, config.optimizer};
    run.state.learningRate = config.learningRate;
    if (resume) {
        auto loaded = loadCheckpoint(run.checkpointPath, *run.net, *run.optimizer, run.identity, run.device);
        if (!loaded)
            return Status::failure(loaded.error());
        run.state = std::move(loaded.value());
    }
    if (dist.rank != 0)
        return success();
    auto recovered = recoverRunFolder(config.runDir, run.state, message);
    if (!recovered)
        return recovered;
    return writeTextAtomically(inRunDir(config.runDir, kConfigFile), config.toJsonText());
}

Status startRanks(Run& run, BatchSource& train, BatchSource* val,
                  const std::function<void(const std::string&)>& message)
{
    const TrainConfig& config = run.config;
    run.trainImages = train.sampleCount();
    run.valImages = val ? val->sampleCount() : 0;
    if (!config.distributed.enabled())
        return success();
    try {
        auto joined = joinRanks(run, train, val);
        if (!joined)
            return joined;
        const auto counts = run.dist->sum(
            {static_cast<double>(train.sampleCount()), static_cast<double>(val ? val->sampleCount() : 0)});
        run.trainImages = static_cast<int64_t>(counts[0]);
        run.valImages = static_cast<int64_t>(counts[1]);
    } catch (const std::exception& e) {
        return Status::failure(shortError(e));
    }
    message(config.distributed.describe() + " (" + run.dist->backend() + " through " + config.distributed.masterAddr +
            ":" + std::to_string(config.distributed.masterPort) + "): each rank reads 1/" +
            std::to_string(config.distributed.worldSize) + " of every epoch; the global batch is the batch size x " +
            std::to_string(config.distributed.worldSize) + (run.writes() ? "; this rank writes the run folder" : ""));
    return success();
}

} // namespace lightbox::ml::detail
