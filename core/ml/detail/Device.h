#pragma once

// Internal to core/ml (see detail/Net.h): device choice and autocast, shared by the
// classifier and the trainer.
#include "../MlResult.h"

#include <ATen/autocast_mode.h>
#include <torch/torch.h>
#include <torch/version.h>

#include <string>

namespace lightbox::ml::detail {

/// "auto" (first GPU, else CPU), "cpu", "cuda" or "cuda:N"; a failure names what is missing.
Result<torch::Device> chooseDevice(const std::string& text);

/// Turns autocast to float16 on for CUDA ops while alive (the API changed in LibTorch 2.4).
class AutocastGuard {
public:
    explicit AutocastGuard(bool enable) : m_enabled(enable)
    {
        if (!m_enabled)
            return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        m_previous = at::autocast::is_autocast_enabled(at::kCUDA);
        at::autocast::set_autocast_enabled(at::kCUDA, true);
#else
        m_previous = at::autocast::is_enabled();
        at::autocast::set_enabled(true);
#endif
    }
    ~AutocastGuard()
    {
        if (!m_enabled)
            return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        at::autocast::set_autocast_enabled(at::kCUDA, m_previous);
#else
        at::autocast::set_enabled(m_previous);
#endif
        at::autocast::clear_cache();
    }
    AutocastGuard(const AutocastGuard&) = delete;
    AutocastGuard& operator=(const AutocastGuard&) = delete;

private:
    bool m_enabled;
    bool m_previous = false;
};

} // namespace lightbox::ml::detail
