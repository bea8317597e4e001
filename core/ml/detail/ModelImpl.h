#pragma once

// Internal to core/ml (see detail/Net.h).
#include "../MlResult.h"
#include "../Model.h"
#include "Net.h"

#include <torch/script.h>

#include <optional>

namespace lightbox::ml {

/// The LibTorch side of Model: a built-in network or a TorchScript module.
struct Model::Impl {
    std::shared_ptr<detail::NetImpl> net;     ///< built-in network, or null
    std::optional<torch::jit::Module> script; ///< TorchScript module, or empty
    int inChannels = 0;
    int numClasses = 0;
    bool scriptHasParts = false; ///< script has forward_features and forward_head

    torch::Tensor forward(const torch::Tensor& x);
    /// Output of stage `stage` (index into layerNames) computed from x.
    torch::Tensor featuresUpTo(const torch::Tensor& x, int stage);
    /// Logits from the output of stage `stage`.
    torch::Tensor headFrom(const torch::Tensor& a, int stage);
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
Status writeBundleFile(const std::string& path, const std::string& cardJson, const torch::nn::Module& net);
} // namespace detail

} // namespace lightbox::ml
