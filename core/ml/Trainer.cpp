// The trainer and the evaluator: the one LibTorch translation unit that runs backward passes.
#include "Trainer.h"

#include "Metrics.h"
#include "Runtime.h"
#include "detail/Device.h"
#include "detail/ModelImpl.h"

#include <base/FaultInjection.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <sstream>
#include <thread>
#include <tuple>

namespace lightbox::ml {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr int kCheckpointFormat = 1;
constexpr const char* kConfigFile = "config.json";
constexpr const char* kMetricsFile = "metrics.csv";
constexpr const char* kCheckpointFile = "checkpoint.pt";
constexpr const char* kBestFile = "best.lbx";
// A new best epoch's bundle waits here until the epoch's checkpoint is written: the checkpoint
// is the commit point, so best.lbx never holds an epoch that a resumed run trains again.
constexpr const char* kPendingBestFile = "best.lbx.pending";

std::string inDir(const std::string& dir, const char* name)
{
    return (fs::path(dir) / name).string();
}

double secondsSince(Clock::time_point t)
{
    return std::chrono::duration<double>(Clock::now() - t).count();
}

std::string joined(const std::vector<std::string>& items)
{
    std::string s;
    for (const auto& i : items)
        s += (s.empty() ? "" : ", ") + i;
    return s;
}

bool oneOf(const std::string& s, std::initializer_list<const char*> options)
{
    for (const char* o : options)
        if (s == o)
            return true;
    return false;
}

/// Writes `text` next to `path` and renames it over `path`. `faultName` names the point at
/// which the crash-safety tests may kill the program half-way (core/base/FaultInjection.h).
Status writeTextAtomically(const std::string& path, const std::string& text, const char* faultName = "text-write")
{
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        if (!out) {
            const int err = errno;
            out.close();
            std::remove(tmp.c_str());
            return Status::failure("cannot write " + path + (err ? ": " + std::string(std::strerror(err)) : ""));
        }
    }
    base::faultPointPartial(faultName, tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return Status::failure("cannot write " + path + " (rename failed)");
    }
    return success();
}

std::string withHint(const std::string& error)
{
    if (error.find("out of memory") != std::string::npos || error.find("CUDNN_STATUS_ALLOC") != std::string::npos ||
        error.find("DefaultCPUAllocator") != std::string::npos)
        return error + " (out of memory: lower the batch size or the input size)";
    return error;
}

// ---------------------------------------------------------------------------------------
// TrainConfig <-> JSON

Json stringArray(const std::vector<std::string>& v)
{
    Json::Array a;
    for (const auto& s : v)
        a.emplace_back(s);
    return Json(std::move(a));
}

Json floatArray(const std::vector<float>& v)
{
    Json::Array a;
    for (float f : v)
        a.emplace_back(static_cast<double>(f));
    return Json(std::move(a));
}

/// The card's preprocess object, so both files spell it the same way.
Json preprocessJson(const PreprocessSpec& spec)
{
    ModelCard card;
    card.preprocess = spec;
    return card.toJson()["preprocess"];
}

Result<PreprocessSpec> preprocessFromJson(const Json& j)
{
    Json::Object probe{
        {"format_version", 1}, {"architecture", "-"}, {"class_names", stringArray({"-"})}, {"preprocess", j}};
    auto card = ModelCard::fromJson(Json(probe));
    if (!card)
        return Result<PreprocessSpec>::failure(card.error());
    return card->preprocess;
}

// ---------------------------------------------------------------------------------------
// Epoch history <-> JSON (inside the checkpoint)

Json epochJson(const EpochMetrics& m)
{
    return Json(Json::Object{{"epoch", m.epoch},
                             {"train_loss", m.trainLoss},
                             {"train_accuracy", m.trainAccuracy},
                             {"val_loss", m.valLoss},
                             {"val_accuracy", m.valAccuracy},
                             {"val_qwk", m.valQwk},
                             {"learning_rate", m.learningRate},
                             {"seconds", m.seconds},
                             {"images_per_second", m.imagesPerSecond},
                             {"best", m.best}});
}

EpochMetrics epochFromJson(const Json& j)
{
    EpochMetrics m;
    m.epoch = j["epoch"].toInt();
    m.trainLoss = j["train_loss"].toNumber(kNaN);
    m.trainAccuracy = j["train_accuracy"].toNumber(kNaN);
    m.valLoss = j["val_loss"].toNumber(kNaN);
    m.valAccuracy = j["val_accuracy"].toNumber(kNaN);
    m.valQwk = j["val_qwk"].toNumber(kNaN);
    m.learningRate = j["learning_rate"].toNumber(kNaN);
    m.seconds = j["seconds"].toNumber(0.0);
    m.imagesPerSecond = j["images_per_second"].toNumber(0.0);
    m.best = j["best"].toBool(false);
    return m;
}

std::string csvNumber(double v)
{
    if (std::isnan(v))
        return "";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.6g", v);
    return buf;
}

std::string metricsCsv(const std::vector<EpochMetrics>& history)
{
    std::string s = "epoch,train_loss,train_accuracy,val_loss,val_accuracy,val_qwk,learning_rate,seconds,"
                    "images_per_second,best\n";
    for (const auto& m : history)
        s += std::to_string(m.epoch) + "," + csvNumber(m.trainLoss) + "," + csvNumber(m.trainAccuracy) + "," +
             csvNumber(m.valLoss) + "," + csvNumber(m.valAccuracy) + "," + csvNumber(m.valQwk) + "," +
             csvNumber(m.learningRate) + "," + csvNumber(m.seconds) + "," + csvNumber(m.imagesPerSecond) + "," +
             (m.best ? "1" : "0") + "\n";
    return s;
}

// ---------------------------------------------------------------------------------------
// Tensors from batches, checks, loss

torch::Tensor pixelsTensor(const Batch& b)
{
    return torch::from_blob(const_cast<float*>(b.pixels.data()), {b.n, b.channels, b.height, b.width}, torch::kFloat32)
        .clone();
}

torch::Tensor labelsTensor(const Batch& b)
{
    return torch::from_blob(const_cast<int64_t*>(b.labels.data()), {b.n}, torch::kInt64).clone();
}

/// Empty when `b` fits a network of `inChannels` inputs and `numClasses` outputs (and the
/// input size of `spec`, when given), else a message for the user.
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

/// Cross-entropy with optional class weights (mean weighted by the targets' weights, as
/// PyTorch does) and label smoothing (1.13's C++ API has no label_smoothing option). With
/// `ordinalSigma` > 0 the one-hot target becomes a Gaussian over the grades, exp(-(k-y)^2 /
/// (2 sigma^2)) normalised, before smoothing.
torch::Tensor crossEntropy(const torch::Tensor& logits, const torch::Tensor& target, const torch::Tensor& weights,
                           double smoothing, double ordinalSigma = 0.0)
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

struct EvalPass {
    double lossSum = 0.0;
    double weightSum = 0.0;
    int64_t correct = 0;
    int64_t count = 0;
    std::vector<int64_t> labels;
    std::vector<int64_t> predicted;
    std::vector<std::vector<float>> probabilities; ///< only when asked for
    std::vector<std::string> ids;
    bool cancelled = false;
};

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

// ---------------------------------------------------------------------------------------
// Run state: what the checkpoint holds besides weights and optimiser

struct RunState {
    int nextEpoch = 0;
    double learningRate = 0.0;
    double plateauBest = std::numeric_limits<double>::infinity();
    int plateauBad = 0;
    double bestScore = kNaN;
    int bestEpoch = -1;
    int sinceBest = 0;
    bool stoppedEarly = false;
    double lossScale = 65536.0;
    int lossScaleGoodSteps = 0;
    std::vector<EpochMetrics> history;
};

/// Identifies the network a checkpoint belongs to.
struct NetIdentity {
    std::string architecture;
    int inChannels = 0;
    int numClasses = 0;
    std::string optimizer;
};

std::string stateJson(const RunState& s, const NetIdentity& id)
{
    Json::Array history;
    for (const auto& m : s.history)
        history.push_back(epochJson(m));
    return Json(Json::Object{{"format_version", kCheckpointFormat},
                             {"architecture", id.architecture},
                             {"in_channels", id.inChannels},
                             {"num_classes", id.numClasses},
                             {"optimizer", id.optimizer},
                             {"next_epoch", s.nextEpoch},
                             {"learning_rate", s.learningRate},
                             {"plateau_best", std::isfinite(s.plateauBest) ? Json(s.plateauBest) : Json()},
                             {"plateau_bad", s.plateauBad},
                             {"best_score", s.bestScore},
                             {"best_epoch", s.bestEpoch},
                             {"since_best", s.sinceBest},
                             {"stopped_early", s.stoppedEarly},
                             {"loss_scale", s.lossScale},
                             {"loss_scale_good_steps", s.lossScaleGoodSteps},
                             {"history", Json(std::move(history))}})
        .dump(1);
}

Result<RunState> stateFromJson(const std::string& text, const NetIdentity& expected)
{
    using R = Result<RunState>;
    Json j;
    std::string error;
    if (!Json::parse(text, j, error) || !j.isObject())
        return R::failure("checkpoint state is damaged (" + error + ")");
    if (j["format_version"].toInt(0) != kCheckpointFormat)
        return R::failure("checkpoint format " + std::to_string(j["format_version"].toInt(0)) +
                          " is not the one this Lightbox writes (" + std::to_string(kCheckpointFormat) + ")");
    NetIdentity got{j["architecture"].toString(), j["in_channels"].toInt(), j["num_classes"].toInt(),
                    j["optimizer"].toString()};
    if (got.architecture != expected.architecture || got.inChannels != expected.inChannels ||
        got.numClasses != expected.numClasses || got.optimizer != expected.optimizer)
        return R::failure("the checkpoint was made for " + got.architecture + " (" + std::to_string(got.inChannels) +
                          " channel(s), " + std::to_string(got.numClasses) + " classes, " + got.optimizer +
                          "), this configuration asks for " + expected.architecture + " (" +
                          std::to_string(expected.inChannels) + " channel(s), " + std::to_string(expected.numClasses) +
                          " classes, " + expected.optimizer + ")");
    RunState s;
    s.nextEpoch = j["next_epoch"].toInt(0);
    s.learningRate = j["learning_rate"].toNumber(0.0);
    s.plateauBest = j["plateau_best"].toNumber(std::numeric_limits<double>::infinity());
    s.plateauBad = j["plateau_bad"].toInt(0);
    s.bestScore = j["best_score"].toNumber(kNaN);
    s.bestEpoch = j["best_epoch"].toInt(-1);
    s.sinceBest = j["since_best"].toInt(0);
    s.stoppedEarly = j["stopped_early"].toBool(false);
    s.lossScale = j["loss_scale"].toNumber(65536.0);
    s.lossScaleGoodSteps = j["loss_scale_good_steps"].toInt(0);
    for (const auto& e : j["history"].array())
        s.history.push_back(epochFromJson(e));
    if (s.nextEpoch < 0 || static_cast<size_t>(s.nextEpoch) != s.history.size())
        return R::failure("checkpoint state is damaged (epoch count and history disagree)");
    return s;
}

torch::Tensor textTensor(const std::string& text)
{
    return torch::from_blob(const_cast<char*>(text.data()), {static_cast<int64_t>(text.size())}, torch::kUInt8).clone();
}

std::string tensorText(torch::Tensor t)
{
    t = t.to(torch::kCPU).contiguous();
    if (t.scalar_type() != torch::kUInt8 || t.dim() != 1)
        return {};
    return std::string(reinterpret_cast<const char*>(t.data_ptr<uint8_t>()), static_cast<size_t>(t.numel()));
}

Status saveCheckpoint(const std::string& path, const torch::nn::Module& net, const torch::optim::Optimizer& optimizer,
                      const RunState& state, const NetIdentity& id)
{
    try {
        torch::serialize::OutputArchive archive;
        torch::serialize::OutputArchive model(archive.compilation_unit());
        net.save(model);
        archive.write("model", model);
        torch::serialize::OutputArchive opt(archive.compilation_unit());
        optimizer.save(opt);
        archive.write("optimizer", opt);
        archive.write("state", textTensor(stateJson(state, id)), /*is_buffer=*/true);
        return detail::saveArchiveAtomically(archive, path, "checkpoint-write");
    } catch (const std::exception& e) {
        return Status::failure("cannot write the checkpoint " + path + ": " + detail::shortError(e));
    }
}

Result<RunState> loadCheckpoint(const std::string& path, torch::nn::Module& net, torch::optim::Optimizer& optimizer,
                                const NetIdentity& id, const torch::Device& device)
{
    using R = Result<RunState>;
    try {
        torch::serialize::InputArchive archive;
        archive.load_from(path, device);
        torch::Tensor stateBytes;
        if (!archive.try_read("state", stateBytes, /*is_buffer=*/true))
            return R::failure(path + " is not a Lightbox training checkpoint");
        auto state = stateFromJson(tensorText(stateBytes), id);
        if (!state)
            return state;
        torch::serialize::InputArchive model, opt;
        archive.read("model", model);
        net.load(model);
        archive.read("optimizer", opt);
        optimizer.load(opt);
        return state;
    } catch (const std::exception& e) {
        return R::failure("cannot read the checkpoint " + path + ": " + detail::shortError(e));
    }
}

// ---------------------------------------------------------------------------------------
// Network set-up

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

void setLearningRate(torch::optim::Optimizer& optimizer, double lr)
{
    for (auto& group : optimizer.param_groups())
        group.options().set_lr(lr);
}

/// Stages before the last `trainLast` stop requiring gradients (and keep their batch-norm
/// statistics: they run in eval mode); everything else, the head included, trains. Returns
/// the frozen stage modules.
std::vector<std::shared_ptr<torch::nn::Module>> applyFreeze(detail::NetImpl& net, int trainLast)
{
    const int frozen = trainLast < 0 ? 0 : std::max(0, net.stageCount() - trainLast);
    std::vector<std::shared_ptr<torch::nn::Module>> frozenModules;
    for (auto& child : net.named_children()) {
        const auto& names = net.stageNames();
        const auto it = std::find(names.begin(), names.end(), child.key());
        const bool isFrozen = it != names.end() && (it - names.begin()) < frozen;
        for (auto& p : child.value()->parameters())
            p.set_requires_grad(!isFrozen);
        if (isFrozen)
            frozenModules.push_back(child.value());
    }
    return frozenModules;
}

/// Copies every tensor of `from` whose name and shape `to` shares; returns how many it copied.
int copyMatchingWeights(detail::NetImpl& from, detail::NetImpl& to, int& total)
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

/// Dynamic loss scaling for float16 autocast (LibTorch has no C++ GradScaler): the loss is
/// multiplied before backward, gradients divided after; a step with inf/NaN gradients is
/// skipped and the scale halved; after 2000 good steps it doubles.
class LossScaler {
public:
    LossScaler(bool enabled, double& scale, int& goodSteps) : m_enabled(enabled), m_scale(scale), m_good(goodSteps) {}
    torch::Tensor scale(const torch::Tensor& loss) const { return m_enabled ? loss * m_scale : loss; }
    /// Unscales the gradients; false when the step must be skipped.
    bool unscale(torch::optim::Optimizer& optimizer)
    {
        if (!m_enabled)
            return true;
        torch::NoGradGuard noGrad;
        torch::Tensor total;
        for (auto& group : optimizer.param_groups())
            for (auto& p : group.params()) {
                if (!p.grad().defined())
                    continue;
                p.mutable_grad().div_(m_scale);
                auto s = p.grad().to(torch::kFloat32).sum();
                total = total.defined() ? total + s : s;
            }
        const bool finite = !total.defined() || std::isfinite(total.item<double>());
        if (!finite) {
            m_scale = std::max(1.0, m_scale / 2);
            m_good = 0;
        } else if (++m_good >= 2000) {
            m_scale = std::min(65536.0 * 256, m_scale * 2);
            m_good = 0;
        }
        return finite;
    }

private:
    bool m_enabled;
    double& m_scale;
    int& m_good;
};

std::string describeRun(const TrainConfig& c, const BatchSource& train, const BatchSource* val, int bestEpoch,
                        const std::string& device)
{
    std::ostringstream s;
    s << (c.initBundle.empty() ? "trained from scratch"
                               : "fine-tuned from " + fs::path(c.initBundle).filename().string())
      << " (" << c.architecture << ") on " << train.sampleCount() << " training images";
    if (val)
        s << " and " << val->sampleCount() << " validation images";
    s << "; " << c.optimizer << ", learning rate " << c.learningRate << ", weight decay " << c.weightDecay;
    if (c.labelSmoothing > 0)
        s << ", label smoothing " << c.labelSmoothing;
    if (c.ordinal && c.ordinalSigma > 0)
        s << ", ordinal soft labels (sigma " << c.ordinalSigma << " grades)";
    if (c.head == "corn")
        s << ", CORN ordinal head";
    if (!c.classWeights.empty())
        s << ", class weights";
    s << ", schedule " << c.schedule << "; best epoch " << bestEpoch + 1 << " of " << c.epochs;
    if (val)
        s << " by " << c.monitor;
    s << "; seed " << c.seed << " on " << device;
    return s.str();
}

// ---------------------------------------------------------------------------------------
// The training run

struct Session {
    const TrainConfig& config;
    BatchSource& train;
    BatchSource* val;
    TrainingObserver* observer;
    TrainingControl* control;

    void message(const std::string& m) const
    {
        if (observer)
            observer->message(m);
    }
    bool stopRequested() const { return control && control->stop.load(); }
    /// Sleeps while paused; returns the seconds spent waiting.
    double waitWhilePaused() const
    {
        if (!control || !control->pause.load())
            return 0.0;
        const auto start = Clock::now();
        while (control->pause.load() && !control->stop.load())
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return secondsSince(start);
    }
};

/// Puts a run folder back into the state its checkpoint describes, after a run that was
/// killed (or ran out of disk) between writes: temporary files are removed, a pending best
/// bundle of the committed epoch is moved into place (one of an uncommitted epoch is dropped),
/// and metrics.csv is written again from the checkpoint's history.
Status recoverRunFolder(const std::string& runDir, const RunState& state, const Session& session)
{
    std::error_code ec;
    for (const auto& entry : fs::directory_iterator(runDir, ec)) {
        const std::string name = entry.path().filename().string();
        for (const char* stem : {kCheckpointFile, kBestFile, kMetricsFile, kConfigFile})
            if (name.rfind(std::string(stem) + ".tmp", 0) == 0 ||
                name.rfind(std::string(kPendingBestFile) + ".tmp", 0) == 0) {
                std::error_code rmEc;
                fs::remove(entry.path(), rmEc);
                break;
            }
    }
    const std::string pending = inDir(runDir, kPendingBestFile);
    if (fs::exists(pending, ec)) {
        auto card = readModelCard(pending);
        bool committed = false;
        if (card && state.bestEpoch >= 0) {
            const auto epoch = card->metrics.find("epoch");
            committed = epoch != card->metrics.end() && static_cast<int>(epoch->second) == state.bestEpoch;
        }
        if (committed) {
            if (std::rename(pending.c_str(), inDir(runDir, kBestFile).c_str()) != 0)
                return Status::failure("cannot move " + pending + " to " + kBestFile + ": " + std::strerror(errno));
            session.message("best.lbx: the best epoch's bundle (epoch " + std::to_string(state.bestEpoch + 1) +
                            "), written before the program stopped, is in place");
        } else {
            std::remove(pending.c_str());
        }
    }
    if (!state.history.empty()) {
        auto csv = writeTextAtomically(inDir(runDir, kMetricsFile), metricsCsv(state.history), "metrics-repair");
        if (!csv)
            return csv;
    }
    return success();
}

bool lowerIsBetter(const std::string& monitor)
{
    return monitor == "val_loss";
}

double monitoredValue(const std::string& monitor, const EpochMetrics& m)
{
    if (monitor == "val_accuracy")
        return m.valAccuracy;
    if (monitor == "val_qwk")
        return m.valQwk;
    return m.valLoss;
}

Result<TrainSummary> runTraining(const TrainConfig& requested, BatchSource& train, BatchSource* val,
                                 TrainingObserver* observer, TrainingControl* control, bool resume)
{
    using R = Result<TrainSummary>;
    std::string bad = requested.validate();
    if (!bad.empty())
        return R::failure("training configuration: " + bad);

    // The network: fresh from the zoo, or from a bundle (its architecture; classes too when
    // the configuration names none). Tensors the bundle shares by name and shape are copied,
    // so a bundle can be fine-tuned to another class count (new head) or channel count.
    TrainConfig config = requested;
    LoadedModel init;
    if (!config.initBundle.empty()) {
        auto loaded = loadModel(config.initBundle);
        if (!loaded)
            return R::failure("cannot fine-tune: " + loaded.error());
        if (!loaded->model.impl()->net)
            return R::failure("cannot fine-tune " + config.initBundle +
                              ": a TorchScript model cannot be trained here, only a Lightbox bundle");
        init = loaded.value();
        config.architecture = init.card.architecture;
        if (config.classNames.empty())
            config.classNames = init.card.classNames;
        if (config.task.empty())
            config.task = init.card.task;
        bad = config.validate();
        if (!bad.empty())
            return R::failure("training configuration: " + bad);
    }
    const int numClasses = static_cast<int>(config.classNames.size());
    const int inChannels = config.preprocess.channels;
    const Session session{config, train, val, observer, control};

    auto device = detail::chooseDevice(config.device);
    if (!device)
        return R::failure(device.error());
    // Mixed precision: float16 with loss scaling on a GPU; bfloat16 (float32's exponent range,
    // so no loss scaling) on a CPU that computes it in hardware; float32 elsewhere.
    const std::string reduced = config.mixedPrecision ? reducedPrecisionName(device->str()) : std::string();
    const bool half = !reduced.empty();
    const bool scaled = half && device->is_cuda();
    const int threads = configureThreads(config.threads);

    std::error_code ec;
    fs::create_directories(config.runDir, ec);
    if (!fs::is_directory(config.runDir))
        return R::failure("cannot create the run folder " + config.runDir + (ec ? ": " + ec.message() : ""));
    const std::string checkpointPath = inDir(config.runDir, kCheckpointFile);
    const std::string bestPath = inDir(config.runDir, kBestFile);
    const std::string pendingBestPath = inDir(config.runDir, kPendingBestFile);
    if (resume && !Trainer::canResume(config.runDir))
        return R::failure("there is no checkpoint to resume in " + config.runDir);

    manualSeed(config.seed);
    std::string error;
    auto net = detail::createNet(config.architecture, inChannels, numClasses, error);
    if (!net)
        return R::failure(error);
    if (config.head == "corn")
        net->useCornHead();
    if (init.model.valid()) {
        int total = 0;
        const int copied = copyMatchingWeights(*init.model.impl()->net, *net, total);
        if (copied == 0)
            return R::failure("cannot fine-tune: " + config.initBundle + " shares no weights with the network");
        if (copied < total)
            session.message("fine-tuning: " + std::to_string(copied) + " of " + std::to_string(total) +
                            " tensors taken from " + config.initBundle +
                            ", the rest (the classifier) freshly initialised");
    }
    net->to(device.value());

    auto optimizer = makeOptimizer(config, net->parameters());
    torch::Tensor weights;
    if (!config.classWeights.empty())
        weights = torch::tensor(config.classWeights, torch::kFloat32).to(device.value());

    const NetIdentity identity{config.architecture, inChannels, numClasses, config.optimizer};
    RunState state;
    state.learningRate = config.learningRate;
    if (resume) {
        auto loaded = loadCheckpoint(checkpointPath, *net, *optimizer, identity, device.value());
        if (!loaded)
            return R::failure(loaded.error());
        state = std::move(loaded.value());
    }
    auto recovered = recoverRunFolder(config.runDir, state, session);
    if (!recovered)
        return R::failure(recovered.error());
    auto written = writeTextAtomically(inDir(config.runDir, kConfigFile), config.toJsonText());
    if (!written)
        return R::failure(written.error());

    TrainSummary summary;
    summary.device = device->str();
    summary.history = state.history;
    summary.bestEpoch = state.bestEpoch;
    summary.bestScore = state.bestScore;
    summary.stoppedEarly = state.stoppedEarly;
    const auto finish = [&]() -> R {
        summary.history = state.history;
        summary.bestEpoch = state.bestEpoch;
        summary.bestScore = state.bestScore;
        summary.stoppedEarly = state.stoppedEarly;
        summary.bestBundle = state.bestEpoch >= 0 && fs::exists(bestPath) ? bestPath : std::string();
        summary.skipped = train.skipped();
        if (val)
            for (auto& s : val->skipped())
                summary.skipped.push_back(s);
        return summary;
    };
    if (state.stoppedEarly) {
        session.message("this run already stopped early at epoch " + std::to_string(state.nextEpoch));
        return finish();
    }

    session.message((resume ? "resuming " : "training ") + config.architecture + " on " + device->str() +
                    (device->is_cuda() ? "" : " (" + std::to_string(threads) + " threads)") +
                    (half ? " with " + reduced + " mixed precision" : "") + ": " + std::to_string(train.sampleCount()) +
                    " images per epoch" + (resume ? ", from epoch " + std::to_string(state.nextEpoch + 1) : ""));

    LossScaler scaler(scaled, state.lossScale, state.lossScaleGoodSteps);
    const bool useVal = val && val->batchCount() != 0;
    const bool wantQwk = config.ordinal || config.monitor == "val_qwk";
    double lastValSeconds = -1.0;
    double secondsPerBatch = 0.0;
    int epoch = state.nextEpoch;
    int batchIndex = -1;

    try {
        for (; epoch < config.epochs; ++epoch) {
            if (session.stopRequested()) {
                summary.cancelled = true;
                break;
            }
            const auto epochStart = Clock::now();
            // Per-epoch seeding: dropout draws the same masks whether or not the run was resumed.
            manualSeed(config.seed + 1000003ull * static_cast<uint64_t>(epoch + 1));
            const bool frozenNow =
                config.freezeAllButLast >= 0 && (config.unfreezeAtEpoch < 0 || epoch < config.unfreezeAtEpoch);
            const auto frozenModules = applyFreeze(*net, frozenNow ? config.freezeAllButLast : -1);
            if (config.schedule == "cosine") {
                const double t = static_cast<double>(epoch) / std::max(1, config.epochs);
                state.learningRate = config.minLearningRate + (config.learningRate - config.minLearningRate) *
                                                                  (1.0 + std::cos(std::acos(-1.0) * t)) / 2.0;
            }
            setLearningRate(*optimizer, state.learningRate);
            net->train(true);
            for (auto& m : frozenModules)
                m->eval();

            train.startEpoch(epoch);
            const int batchCount = std::max(1, train.batchCount());
            double lossSum = 0.0, pausedSeconds = 0.0;
            int64_t correct = 0, seen = 0;
            batchIndex = -1;
            Batch b;
            while (true) {
                pausedSeconds += session.waitWhilePaused();
                if (session.stopRequested()) {
                    summary.cancelled = true;
                    break;
                }
                if (!train.next(b))
                    break;
                ++batchIndex;
                const std::string badBatch = checkBatch(b, inChannels, numClasses, &config.preprocess, "training");
                if (!badBatch.empty())
                    return R::failure("epoch " + std::to_string(epoch + 1) + ": " + badBatch);
                auto x = pixelsTensor(b).to(device.value());
                auto y = labelsTensor(b).to(device.value());
                torch::Tensor logits, loss, cumulative;
                {
                    detail::AutocastGuard autocast(half, device.value());
                    if (net->cornHead()) {
                        cumulative = net->conditionalLogits(net->pool(net->features(x)));
                        logits = detail::cornLogProbs(cumulative);
                    } else {
                        logits = net->forward(x);
                    }
                }
                loss = cumulative.defined() ? detail::cornLoss(cumulative, y, weights)
                                            : crossEntropy(logits, y, weights, config.labelSmoothing,
                                                           config.ordinal ? config.ordinalSigma : 0.0);
                optimizer->zero_grad();
                scaler.scale(loss).backward();
                if (scaler.unscale(*optimizer))
                    optimizer->step();
                base::faultPoint("train-batch");

                const double batchLoss = loss.item<double>();
                const int64_t batchCorrect = (logits.argmax(1) == y).sum().item<int64_t>();
                if (!std::isfinite(batchLoss) && !scaled)
                    return R::failure("epoch " + std::to_string(epoch + 1) + ", batch " +
                                      std::to_string(batchIndex + 1) +
                                      ": the loss is no longer a number (the learning rate " +
                                      std::to_string(state.learningRate) + " is probably too high)");
                lossSum += batchLoss * b.n;
                correct += batchCorrect;
                seen += b.n;

                if (observer) {
                    const double elapsed = std::max(1e-9, secondsSince(epochStart) - pausedSeconds);
                    secondsPerBatch = elapsed / (batchIndex + 1);
                    const double valGuess = !useVal ? 0.0
                                            : lastValSeconds >= 0
                                                ? lastValSeconds
                                                : secondsPerBatch / 3.0 * std::max(0, val->batchCount());
                    BatchMetrics bm;
                    bm.epoch = epoch;
                    bm.batch = batchIndex;
                    bm.batchCount = train.batchCount();
                    bm.loss = batchLoss;
                    bm.accuracy = static_cast<double>(batchCorrect) / b.n;
                    bm.learningRate = state.learningRate;
                    bm.imagesPerSecond = static_cast<double>(seen) / elapsed;
                    bm.secondsLeft = std::max(0, batchCount - batchIndex - 1) * secondsPerBatch + valGuess +
                                     (config.epochs - epoch - 1) * (batchCount * secondsPerBatch + valGuess);
                    observer->batchFinished(bm);
                }
                if (session.stopRequested()) {
                    summary.cancelled = true;
                    break;
                }
            }
            if (summary.cancelled) {
                train.cancel();
                if (val)
                    val->cancel();
                break;
            }
            if (seen == 0)
                return R::failure("the training data gave no batches in epoch " + std::to_string(epoch + 1));
            const double trainSeconds = std::max(1e-9, secondsSince(epochStart) - pausedSeconds);
            batchIndex = -1;

            EpochMetrics em;
            em.epoch = epoch;
            em.trainLoss = lossSum / static_cast<double>(seen);
            em.trainAccuracy = static_cast<double>(correct) / static_cast<double>(seen);
            em.valLoss = em.valAccuracy = em.valQwk = kNaN;
            em.learningRate = state.learningRate;
            em.imagesPerSecond = static_cast<double>(seen) / trainSeconds;
            if (useVal) {
                const auto valStart = Clock::now();
                net->eval();
                // Validation stays float32 under mixed precision: the epoch is chosen, and the
                // bundle's card records, on the figures `evaluate` reproduces by default.
                auto pass = evaluatePass([&](const torch::Tensor& t) { return net->forward(t); }, *val, epoch,
                                         device.value(), inChannels, numClasses, &config.preprocess, weights, false,
                                         /*half=*/false, control, "validation");
                if (!pass)
                    return R::failure("epoch " + std::to_string(epoch + 1) + ": " + pass.error());
                if (pass->cancelled) {
                    summary.cancelled = true;
                    train.cancel();
                    break;
                }
                if (pass->count > 0) {
                    em.valLoss = pass->lossSum / std::max(1e-12, pass->weightSum);
                    em.valAccuracy = static_cast<double>(pass->correct) / static_cast<double>(pass->count);
                    if (wantQwk)
                        em.valQwk = quadraticWeightedKappa(pass->labels, pass->predicted, numClasses);
                }
                lastValSeconds = secondsSince(valStart);
            }
            em.seconds = secondsSince(epochStart) - pausedSeconds;

            // Best epoch (and early stopping) on the monitored value; without validation data
            // the latest epoch is the best.
            bool improved = true;
            if (useVal) {
                const double score = monitoredValue(config.monitor, em);
                const bool lower = lowerIsBetter(config.monitor);
                improved = state.bestEpoch < 0 ||
                           (std::isfinite(score) && (!std::isfinite(state.bestScore) ||
                                                     (lower ? score < state.bestScore : score > state.bestScore)));
                if (improved) {
                    state.bestScore = score;
                    state.sinceBest = 0;
                } else {
                    ++state.sinceBest;
                }
            } else {
                state.bestScore = em.trainLoss;
            }
            if (improved) {
                state.bestEpoch = epoch;
                em.best = true;
                ModelCard card;
                card.architecture = config.architecture;
                card.task = config.task;
                card.classNames = config.classNames;
                card.notCovered = config.notCovered;
                card.ordinal = config.ordinal;
                card.head = config.head;
                card.preprocess = config.preprocess;
                card.trainingSummary = describeRun(config, train, useVal ? val : nullptr, epoch, device->str());
                card.created = isoTimestampUtc();
                card.metrics["epoch"] = epoch;
                card.metrics["train_loss"] = em.trainLoss;
                card.metrics["train_accuracy"] = em.trainAccuracy;
                const std::initializer_list<std::pair<const char*, double>> valMetrics{
                    {"val_loss", em.valLoss}, {"val_accuracy", em.valAccuracy}, {"val_qwk", em.valQwk}};
                for (const auto& [key, value] : valMetrics)
                    if (std::isfinite(value))
                        card.metrics[key] = value;
                auto impl = std::make_shared<Model::Impl>();
                impl->net = net;
                impl->inChannels = inChannels;
                impl->numClasses = numClasses;
                auto saved = saveBundle(Model(impl), card, pendingBestPath);
                if (!saved)
                    return R::failure(saved.error());
            }

            // ReduceLROnPlateau (PyTorch's rule: relative threshold 1e-4, reduce once the
            // number of bad epochs exceeds the patience) on the validation loss, else the
            // training loss. The new rate applies from the next epoch.
            if (config.schedule == "plateau") {
                const double watched = std::isfinite(em.valLoss) ? em.valLoss : em.trainLoss;
                if (watched < state.plateauBest * (1.0 - 1e-4)) {
                    state.plateauBest = watched;
                    state.plateauBad = 0;
                } else if (++state.plateauBad > config.plateauPatience) {
                    const double lower = std::max(config.minLearningRate, state.learningRate * config.plateauFactor);
                    if (lower < state.learningRate)
                        session.message("epoch " + std::to_string(epoch + 1) + ": learning rate lowered to " +
                                        csvNumber(lower));
                    state.learningRate = lower;
                    state.plateauBad = 0;
                }
            }
            if (useVal && config.earlyStopPatience > 0 && state.sinceBest >= config.earlyStopPatience)
                state.stoppedEarly = true;

            // The checkpoint commits the epoch; best.lbx and metrics.csv follow it. A kill
            // between them is repaired on resume (recoverRunFolder).
            state.history.push_back(em);
            state.nextEpoch = epoch + 1;
            auto saved = saveCheckpoint(checkpointPath, *net, *optimizer, state, identity);
            if (!saved) {
                std::remove(pendingBestPath.c_str());
                return R::failure(saved.error());
            }
            base::faultPoint("epoch-committed");
            if (improved && std::rename(pendingBestPath.c_str(), bestPath.c_str()) != 0)
                return R::failure("cannot write " + bestPath + ": " + std::strerror(errno));
            auto csv =
                writeTextAtomically(inDir(config.runDir, kMetricsFile), metricsCsv(state.history), "metrics-write");
            if (!csv)
                return R::failure(csv.error());
            if (observer)
                observer->epochFinished(em);
            if (state.stoppedEarly) {
                session.message("early stopping: " + config.monitor + " has not improved for " +
                                std::to_string(state.sinceBest) + " epochs; best epoch " +
                                std::to_string(state.bestEpoch + 1) + " is in " + bestPath);
                break;
            }
        }
    } catch (const std::exception& e) {
        return R::failure(withHint("training failed in epoch " + std::to_string(epoch + 1) +
                                   (batchIndex >= 0 ? ", batch " + std::to_string(batchIndex + 1) : "") + ": " +
                                   detail::shortError(e)));
    }
    return finish();
}

} // namespace

// ---------------------------------------------------------------------------------------
// TrainConfig

std::string TrainConfig::toJsonText() const
{
    // Seeds above 2^53 do not survive a double: they are written as text.
    const Json seedJson = seed <= (1ull << 53) ? Json(static_cast<double>(seed))
                                               : Json(std::to_string(static_cast<unsigned long long>(seed)));
    return Json(Json::Object{{"architecture", architecture},
                             {"init_bundle", initBundle},
                             {"freeze_all_but_last", freezeAllButLast},
                             {"unfreeze_at_epoch", unfreezeAtEpoch},
                             {"task", task},
                             {"class_names", stringArray(classNames)},
                             {"not_covered", stringArray(notCovered)},
                             {"ordinal", ordinal},
                             {"preprocess", preprocessJson(preprocess)},
                             {"optimizer", optimizer},
                             {"learning_rate", learningRate},
                             {"weight_decay", weightDecay},
                             {"momentum", momentum},
                             {"epochs", epochs},
                             {"class_weights", floatArray(classWeights)},
                             {"label_smoothing", labelSmoothing},
                             {"ordinal_sigma", ordinalSigma},
                             {"head", head},
                             {"schedule", schedule},
                             {"plateau_patience", plateauPatience},
                             {"plateau_factor", plateauFactor},
                             {"min_learning_rate", minLearningRate},
                             {"early_stop_patience", earlyStopPatience},
                             {"monitor", monitor},
                             {"device", device},
                             {"mixed_precision", mixedPrecision},
                             {"threads", threads},
                             {"seed", seedJson},
                             {"run_dir", runDir}})
        .dump(2);
}

Result<TrainConfig> TrainConfig::fromJsonText(const std::string& text)
{
    using R = Result<TrainConfig>;
    Json j;
    std::string error;
    if (!Json::parse(text, j, error))
        return R::failure("training configuration is not valid JSON: " + error);
    if (!j.isObject())
        return R::failure("training configuration is not a JSON object");
    TrainConfig c;
    std::string wrong;
    auto text_ = [&](const char* key, std::string& out) {
        if (j[key].isString())
            out = j[key].toString();
        else if (!j[key].isNull())
            wrong = key;
    };
    auto real = [&](const char* key, double& out) {
        if (j[key].isNumber())
            out = j[key].toNumber();
        else if (!j[key].isNull())
            wrong = key;
    };
    auto integer = [&](const char* key, int& out) {
        const double v = j[key].toNumber(0.5);
        if (j[key].isNumber() && v == std::floor(v) && std::abs(v) < 2e9)
            out = static_cast<int>(v);
        else if (!j[key].isNull())
            wrong = key;
    };
    auto flag = [&](const char* key, bool& out) {
        if (j[key].isBool())
            out = j[key].toBool();
        else if (!j[key].isNull())
            wrong = key;
    };
    text_("architecture", c.architecture);
    text_("init_bundle", c.initBundle);
    integer("freeze_all_but_last", c.freezeAllButLast);
    integer("unfreeze_at_epoch", c.unfreezeAtEpoch);
    text_("task", c.task);
    if (j.contains("class_names")) {
        c.classNames.clear();
        if (!j["class_names"].isArray())
            wrong = "class_names";
        for (const auto& n : j["class_names"].array()) {
            if (!n.isString())
                wrong = "class_names";
            c.classNames.push_back(n.toString());
        }
    }
    if (j.contains("not_covered")) {
        c.notCovered.clear();
        for (const auto& n : j["not_covered"].array())
            if (n.isString())
                c.notCovered.push_back(n.toString());
    }
    flag("ordinal", c.ordinal);
    if (j.contains("preprocess")) {
        auto spec = preprocessFromJson(j["preprocess"]);
        if (!spec)
            return R::failure("training configuration: " + spec.error());
        c.preprocess = spec.value();
    }
    text_("optimizer", c.optimizer);
    real("learning_rate", c.learningRate);
    real("weight_decay", c.weightDecay);
    real("momentum", c.momentum);
    integer("epochs", c.epochs);
    if (j.contains("class_weights")) {
        c.classWeights.clear();
        if (!j["class_weights"].isArray())
            wrong = "class_weights";
        for (const auto& w : j["class_weights"].array()) {
            if (!w.isNumber())
                wrong = "class_weights";
            c.classWeights.push_back(static_cast<float>(w.toNumber()));
        }
    }
    real("label_smoothing", c.labelSmoothing);
    real("ordinal_sigma", c.ordinalSigma);
    text_("head", c.head);
    text_("schedule", c.schedule);
    integer("plateau_patience", c.plateauPatience);
    real("plateau_factor", c.plateauFactor);
    real("min_learning_rate", c.minLearningRate);
    integer("early_stop_patience", c.earlyStopPatience);
    text_("monitor", c.monitor);
    text_("device", c.device);
    flag("mixed_precision", c.mixedPrecision);
    integer("threads", c.threads);
    if (j["seed"].isNumber() && j["seed"].toNumber() >= 0 && j["seed"].toNumber() <= 18446744073709549568.0)
        c.seed = static_cast<uint64_t>(j["seed"].toNumber());
    else if (j["seed"].isString()) {
        try {
            size_t used = 0;
            c.seed = std::stoull(j["seed"].toString(), &used);
            if (used != j["seed"].toString().size())
                wrong = "seed";
        } catch (const std::exception&) {
            wrong = "seed";
        }
    } else if (!j["seed"].isNull())
        wrong = "seed";
    text_("run_dir", c.runDir);
    if (!wrong.empty())
        return R::failure("training configuration: '" + wrong + "' has the wrong type");
    return c;
}

std::string TrainConfig::validate() const
{
    auto finite = [](double v) { return std::isfinite(v); };
    if (runDir.empty())
        return "no run folder given";
    if (initBundle.empty()) {
        const auto known = modelArchitectures();
        if (std::find(known.begin(), known.end(), architecture) == known.end())
            return "unknown architecture '" + architecture + "' (known: " + joined(known) + ")";
    }
    if (classNames.size() < 2 && !(initBundle.size() && classNames.empty()))
        return "at least two classes are needed (" + std::to_string(classNames.size()) + " given)";
    for (size_t i = 0; i < classNames.size(); ++i) {
        if (classNames[i].empty())
            return "class " + std::to_string(i) + " has no name";
        for (size_t k = 0; k < i; ++k)
            if (classNames[k] == classNames[i])
                return "class name '" + classNames[i] + "' appears twice";
    }
    const std::string pre = preprocess.validate();
    if (!pre.empty())
        return "preprocessing: " + pre;
    if (!oneOf(optimizer, {"adam", "adamw", "sgd"}))
        return "unknown optimizer '" + optimizer + "' (use adam, adamw or sgd)";
    if (!finite(learningRate) || learningRate <= 0 || learningRate > 10)
        return "the learning rate must be above 0 (and at most 10)";
    if (!finite(weightDecay) || weightDecay < 0)
        return "the weight decay must be 0 or more";
    if (!finite(momentum) || momentum < 0 || momentum >= 1)
        return "the momentum must be in [0, 1)";
    if (epochs < 1 || epochs > 100000)
        return "the number of epochs must be at least 1";
    if (!classWeights.empty()) {
        if (!classNames.empty() && classWeights.size() != classNames.size())
            return std::to_string(classWeights.size()) + " class weights given for " +
                   std::to_string(classNames.size()) + " classes";
        for (float w : classWeights)
            if (!std::isfinite(w) || w < 0)
                return "class weights must be 0 or more";
        if (*std::max_element(classWeights.begin(), classWeights.end()) <= 0)
            return "at least one class weight must be above 0";
    }
    if (!finite(labelSmoothing) || labelSmoothing < 0 || labelSmoothing > 0.5)
        return "label smoothing must be between 0 and 0.5";
    if (!finite(ordinalSigma) || ordinalSigma < 0 || ordinalSigma > 2)
        return "the ordinal sigma must be between 0 and 2 grades";
    if (!oneOf(head, {"softmax", "corn"}))
        return "unknown head '" + head + "' (use softmax or corn)";
    if (head == "corn" && !ordinal)
        return "the corn head is for graded tasks (KL grade); this task's classes are not ordered";
    if (head == "corn" && (ordinalSigma > 0 || labelSmoothing > 0))
        return "the corn head has its own ordinal loss: leave ordinal soft labels and label smoothing off";
    if (!oneOf(schedule, {"none", "plateau", "cosine"}))
        return "unknown schedule '" + schedule + "' (use none, plateau or cosine)";
    if (plateauPatience < 0)
        return "the plateau patience must be 0 or more";
    if (!finite(plateauFactor) || plateauFactor <= 0 || plateauFactor >= 1)
        return "the plateau factor must be between 0 and 1";
    if (!finite(minLearningRate) || minLearningRate < 0)
        return "the minimum learning rate must be 0 or more";
    if (!oneOf(monitor, {"val_loss", "val_accuracy", "val_qwk"}))
        return "unknown monitor '" + monitor + "' (use val_loss, val_accuracy or val_qwk)";
    if (freezeAllButLast < -1)
        return "freezeAllButLast must be -1 (train everything) or the number of stages to train";
    if (unfreezeAtEpoch < -1)
        return "unfreezeAtEpoch must be -1 (never) or an epoch";
    if (threads < 0)
        return "the thread count must be 0 (all cores) or more";
    if (device.empty())
        return "no device given (use auto, cpu, cuda or cuda:N)";
    return {};
}

// ---------------------------------------------------------------------------------------
// Trainer

Result<TrainSummary> Trainer::run(const TrainConfig& config, BatchSource& train, BatchSource* val,
                                  TrainingObserver* observer, TrainingControl* control, bool resume)
{
    try {
        return runTraining(config, train, val, observer, control, resume);
    } catch (const std::exception& e) {
        return Result<TrainSummary>::failure(withHint("training failed: " + detail::shortError(e)));
    } catch (...) {
        return Result<TrainSummary>::failure("training failed with an unknown error");
    }
}

bool Trainer::canResume(const std::string& runDir)
{
    std::error_code ec;
    const fs::path p = fs::path(runDir) / kCheckpointFile;
    return !runDir.empty() && fs::is_regular_file(p, ec) && fs::file_size(p, ec) > 0 && !ec;
}

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
    const auto start = Clock::now();
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
        auto pass = evaluatePass(
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
        out.seconds = secondsSince(start);
        return out;
    } catch (const std::exception& e) {
        return R::failure(withHint("evaluation failed: " + detail::shortError(e)));
    }
}

} // namespace lightbox::ml
