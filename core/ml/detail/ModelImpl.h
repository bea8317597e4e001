#pragma once

// Internal to core/ml (see detail/Net.h).
#include "../MlResult.h"
#include "../Model.h"
#include "../Trust.h"
#include "Net.h"

#include <torch/script.h>

#include <optional>
#include <tuple>
#include <utility>

namespace lightbox::ml {

/// The LibTorch side of Model: a built-in network or a TorchScript module.
struct Model::Impl {
    std::shared_ptr<detail::NetImpl> net;     ///< built-in network, or null
    std::optional<torch::jit::Module> script; ///< TorchScript module, or empty
    int inChannels = 0;
    int numClasses = 0;
    bool scriptHasParts = false; ///< script has forward_features and forward_head
    /// An ensemble's other members (same architecture and card); empty for a single network.
    /// forward() and embed() then give log(mean of the members' softmax) as logits, and the
    /// detector's features of this (the first) member.
    std::vector<std::shared_ptr<Impl>> members;

    bool isEnsemble() const { return !members.empty(); }
    /// Every member's logits, this one first.
    std::vector<torch::Tensor> memberLogits(const torch::Tensor& x);

    torch::Tensor forward(const torch::Tensor& x);
    /// Output of stage `stage` (index into layerNames) computed from x; `blocks`, when given,
    /// receives the detector's feature blocks up to it (see embedFrom).
    torch::Tensor featuresUpTo(const torch::Tensor& x, int stage, std::vector<torch::Tensor>* blocks = nullptr);
    /// Logits from the output of stage `stage`.
    torch::Tensor headFrom(const torch::Tensor& a, int stage);
    /// The out-of-distribution detector's features and the logits from the output of stage
    /// `stage`, given the blocks up to it (featuresUpTo's `blocks`). The features are two blocks
    /// of the input (each channel's mean and SD; an 8 x 8 thumbnail), then one per stage: its
    /// channel means (the global
    /// average pool; the last stage's is the penultimate layer) and the channels' spatial SDs,
    /// concatenated [N, sum of featureBlocks()]. A TorchScript module gives no features.
    std::pair<torch::Tensor, torch::Tensor> embedFrom(const torch::Tensor& a, int stage,
                                                      std::vector<torch::Tensor> blocks);
    /// The same from the input image: one forward pass (of every member).
    std::pair<torch::Tensor, torch::Tensor> embed(const torch::Tensor& x);
    /// embed() plus every member's own logits (only this network's for a single one).
    std::tuple<torch::Tensor, torch::Tensor, std::vector<torch::Tensor>> embedAll(const torch::Tensor& x);
    /// The widths of the feature blocks (empty for TorchScript).
    std::vector<int> featureBlocks() const;
    int layerCount() const;
    int layerIndex(const std::string& name) const; ///< -1 when unknown; last for empty
    void setEval();
    void to(const torch::Device& device);
    void freeze(); ///< parameters stop requiring gradients (inference only)
};

namespace detail {
/// Copies one preprocessed image into a new [1, C, H, W] float tensor.
torch::Tensor toTensor(const InputImage& input);
/// "what(): ..." first line of an exception from LibTorch, for user-facing messages.
std::string shortError(const std::exception& e);
/// Writes a bundle file (atomically) from card JSON and a module's parameters and buffers.
/// saveBundle() checks its arguments first; tests use this to write deliberately wrong bundles.
Status writeBundleFile(const std::string& path, const std::string& cardJson, const torch::nn::Module& net,
                       const MahalanobisModel* gaussians = nullptr,
                       const std::vector<const torch::nn::Module*>& otherMembers = {});
/// Writes `archive` to `path` through a temporary file renamed over it. LibTorch serialises
/// into memory first: its file writer cannot report a failed write (a full disk) and then
/// throws again in its destructor, which ends the program. Here a failed write is a message
/// naming the file and the system's reason. `faultName`: see core/base/FaultInjection.h.
Status saveArchiveAtomically(torch::serialize::OutputArchive& archive, const std::string& path, const char* faultName);
} // namespace detail

} // namespace lightbox::ml
