#pragma once

// Internal to core/ml: included by core/ml's .cpp files and by tests/benchmarks of core/ml
// only. It brings in LibTorch, so no public header may include it.
#include <torch/torch.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lightbox::ml::detail {

/// Base of every built-in network: a chain of named stages whose last one is the last
/// convolutional block, followed by a head (global average pool + classifier). Keeping the
/// two apart lets Grad-CAM take gradients at any stage output.
class NetImpl : public torch::nn::Module {
public:
    torch::Tensor forward(torch::Tensor x) { return head(features(x)); }
    /// Output of the last convolutional block.
    torch::Tensor features(torch::Tensor x) { return runStages(std::move(x), 0, stageCount()); }
    /// Runs stages [from, to) on x.
    torch::Tensor runStages(torch::Tensor x, int from, int to);
    /// Pooling and classifier on a feature map; returns logits.
    torch::Tensor head(torch::Tensor features) { return classify(pool(std::move(features))); }
    /// Global average pool of a feature map: the penultimate features [N, D] that the
    /// out-of-distribution detector models.
    torch::Tensor pool(torch::Tensor features);
    /// Dropout (training only) and the linear classifier on pooled features; returns logits
    /// (a CORN head's class log-probabilities, see useCornHead()).
    torch::Tensor classify(torch::Tensor pooled);

    /// Replaces the classifier by a CORN ordinal head (Shi, Cao and Raschka 2023, "Deep neural
    /// networks for rank-consistent ordinal regression based on conditional probabilities"):
    /// K-1 binary outputs h_k with sigmoid(h_k) = P(y > k | y > k-1), so that P(y > k) is a
    /// product of them and falls with k (rank-consistent) whatever the weights. classify() then
    /// returns the class log-probabilities (p_k = P(y > k-1) (1 - sigmoid(h_k)), p_(K-1) =
    /// P(y > K-2)), so softmax, temperature, ensembles and Grad-CAM work unchanged. Call it on a
    /// fresh network, before loading weights.
    void useCornHead();
    bool cornHead() const { return m_corn; }
    /// CORN head only: dropout (training only) and the conditional logits [N, K-1].
    torch::Tensor conditionalLogits(torch::Tensor pooled);

    int stageCount() const { return static_cast<int>(m_stages.size()); }
    const std::vector<std::string>& stageNames() const { return m_stageNames; }
    /// Index of a stage by name; the last stage for an empty name; -1 when unknown.
    int stageIndex(const std::string& name) const;

    int inChannels() const { return m_inChannels; }
    int numClasses() const { return m_numClasses; }
    const std::string& architecture() const { return m_architecture; }

protected:
    NetImpl(std::string architecture, int inChannels, int numClasses);
    void addStage(const std::string& name, torch::nn::Sequential stage);
    /// Global average pool, optional dropout and a linear layer from `features` channels.
    void addLinearHead(int64_t features, double dropout);
    /// Kaiming-normal (fan_out, ReLU) convolutions, zero biases, batch norm 1/0, linear N(0, 0.01).
    void initWeights();

private:
    std::string m_architecture;
    int m_inChannels;
    int m_numClasses;
    std::vector<torch::nn::Sequential> m_stages;
    std::vector<std::string> m_stageNames;
    torch::nn::Dropout m_dropout{nullptr};
    torch::nn::Linear m_fc{nullptr};
    int64_t m_headFeatures = 0;
    bool m_corn = false;
};

/// Class log-probabilities [N, K] from CORN conditional logits [N, K-1] (see useCornHead()).
torch::Tensor cornLogProbs(const torch::Tensor& conditional);
/// The CORN loss: threshold k's binary cross-entropy against [y > k] over the samples with
/// y >= k (its conditional training subset), summed over thresholds and divided by the number
/// of terms (each weighted by `weights[y]` when given).
torch::Tensor cornLoss(const torch::Tensor& conditional, const torch::Tensor& target, const torch::Tensor& weights);

/// A built-in network, or nullptr with `error` set for an unknown architecture or invalid sizes.
std::shared_ptr<NetImpl> createNet(const std::string& architecture, int inChannels, int numClasses, std::string& error);

/// Adds an architecture to this process's zoo (tests: a network whose training does not
/// depend on the batch's make-up, without batch norm or dropout). Not thread-safe; call it
/// before anything else reads the zoo.
void registerArchitecture(const std::string& name, std::function<std::shared_ptr<NetImpl>(int, int)> make);

/// All architecture names createNet() accepts.
std::vector<std::string> netArchitectures();

} // namespace lightbox::ml::detail
