// The trainer's run folder: checkpoints (weights, optimiser and RunState in one archive, the
// commit point of each epoch), metrics.csv, and the repair and resume of a folder whose run
// was killed between writes.
#include "Json.h"
#include "Trainer.h"
#include "detail/Device.h"
#include "detail/ModelImpl.h"
#include "detail/TrainParts.h"

#include <base/FaultInjection.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

namespace lightbox::ml {

namespace fs = std::filesystem;

namespace detail {

namespace {

constexpr int kCheckpointFormat = 1;

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

} // namespace

std::string inRunDir(const std::string& runDir, const char* name)
{
    return (fs::path(runDir) / name).string();
}

Status writeTextAtomically(const std::string& path, const std::string& text, const char* faultName)
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
// Run state <-> JSON (inside the checkpoint)

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

Status recoverRunFolder(const std::string& runDir, const RunState& state,
                        const std::function<void(const std::string&)>& message)
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
    const std::string pending = inRunDir(runDir, kPendingBestFile);
    if (fs::exists(pending, ec)) {
        auto card = readModelCard(pending);
        bool committed = false;
        if (card && state.bestEpoch >= 0) {
            const auto epoch = card->metrics.find("epoch");
            committed = epoch != card->metrics.end() && static_cast<int>(epoch->second) == state.bestEpoch;
        }
        if (committed) {
            if (std::rename(pending.c_str(), inRunDir(runDir, kBestFile).c_str()) != 0)
                return Status::failure("cannot move " + pending + " to " + kBestFile + ": " + std::strerror(errno));
            message("best.lbx: the best epoch's bundle (epoch " + std::to_string(state.bestEpoch + 1) +
                    "), written before the program stopped, is in place");
        } else {
            std::remove(pending.c_str());
        }
    }
    if (!state.history.empty()) {
        auto csv = writeTextAtomically(inRunDir(runDir, kMetricsFile), metricsCsv(state.history), "metrics-repair");
        if (!csv)
            return csv;
    }
    return success();
}

} // namespace detail

bool Trainer::canResume(const std::string& runDir)
{
    std::error_code ec;
    const fs::path p = fs::path(runDir) / detail::kCheckpointFile;
    return !runDir.empty() && fs::is_regular_file(p, ec) && fs::file_size(p, ec) > 0 && !ec;
}

} // namespace lightbox::ml
