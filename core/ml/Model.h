#pragma once

#include "MlResult.h"
#include "Preprocess.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lightbox::ml {

/// A classification network, held without exposing LibTorch: one of the built-in
/// architectures (see modelArchitectures()) or a TorchScript module imported from Python.
///
/// Copies share the same network (a handle, like a Qt implicitly shared class but without
/// copy-on-write): moving one copy to a GPU moves them all. Not thread-safe; run one
/// forward pass at a time per network. It does not train: training lives in the trainer.
class Model {
public:
    struct Impl; ///< LibTorch side; defined in detail/ModelImpl.h, visible to core/ml's .cpp files only

    Model() = default;
    explicit Model(std::shared_ptr<Impl> impl) : m_impl(std::move(impl)) {}

    bool valid() const { return m_impl != nullptr; }
    /// "resnet18", ... or "torchscript".
    std::string architecture() const;
    int inChannels() const;
    int numClasses() const;
    bool isTorchScript() const;
    /// Blocks whose output Grad-CAM can use, input side first; the last is the default (the
    /// last convolutional block). A TorchScript module offers "features" when it has
    /// forward_features/forward_head methods, else nothing.
    std::vector<std::string> layerNames() const;
    int64_t parameterCount() const; ///< all members' together for an ensemble
    /// Networks whose softmax outputs are averaged: 1, or more for an ensemble.
    int memberCount() const;
    /// Widths of the feature blocks the out-of-distribution detector models: the input's
    /// channel means and SDs, an 8 x 8 thumbnail of it, then each block's channel means and
    /// spatial SDs (layerNames() order). Empty for TorchScript.
    std::vector<int> featureBlocks() const;

    /// Runs the network (eval mode, no gradients) on one preprocessed image; returns logits.
    Result<std::vector<float>> logits(const InputImage& input) const;
    /// Output shape {C, H, W} of block `layer` (default: last) for an input of the given size.
    Result<std::vector<int64_t>> layerShape(int height, int width, const std::string& layer = {}) const;

    const std::shared_ptr<Impl>& impl() const { return m_impl; }

private:
    std::shared_ptr<Impl> m_impl;
};

/// An ensemble of built-in networks of one architecture, input and class count: its logits are
/// log(mean of the members' softmax), so its probabilities are the members' average. The
/// members are shared, not copied. Fails for fewer than two, mixed or TorchScript networks.
Result<Model> makeEnsemble(const std::vector<Model>& members);

/// Architectures createModel() knows: cnn5, resnet10s (compact), resnet18, resnet34, resnet50, densenet121,
/// efficientnet_b0, xception, vgg16.
std::vector<std::string> modelArchitectures();

/// A freshly initialised network (Kaiming-normal convolutions, zero biases, batch-norm
/// weights one) for `inChannels` (1 or 3) and `numClasses` (>= 2) outputs. Initialisation
/// draws from LibTorch's global generator: call manualSeed() first for repeatable weights.
/// Fails with a message naming the known architectures for an unknown name.
Result<Model> createModel(const std::string& architecture, int inChannels, int numClasses);

} // namespace lightbox::ml
