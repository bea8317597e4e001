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

/// Turns autocast on while alive: float16 for CUDA ops when `device` is a GPU, bfloat16 for
/// CPU ops otherwise (the caller checks cpuHasFastBFloat16()). The API changed in LibTorch 2.4.
class AutocastGuard {
public:
    AutocastGuard(bool enable, const torch::Device& device) : m_enabled(enable), m_cuda(device.is_cuda())
    {
        if (!m_enabled)
            return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        const auto type = m_cuda ? at::kCUDA : at::kCPU;
        m_previous = at::autocast::is_autocast_enabled(type);
        m_previousType = at::autocast::get_autocast_dtype(type);
        at::autocast::set_autocast_dtype(type, m_cuda ? at::kHalf : at::kBFloat16);
        at::autocast::set_autocast_enabled(type, true);
#else
        if (m_cuda) {
            m_previous = at::autocast::is_enabled();
            at::autocast::set_enabled(true);
        } else {
            m_previous = at::autocast::is_cpu_enabled();
            m_previousType = at::autocast::get_autocast_cpu_dtype();
            at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
            at::autocast::set_cpu_enabled(true);
        }
#endif
    }
    ~AutocastGuard()
    {
        if (!m_enabled)
            return;
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        const auto type = m_cuda ? at::kCUDA : at::kCPU;
        at::autocast::set_autocast_enabled(type, m_previous);
        at::autocast::set_autocast_dtype(type, m_previousType);
#else
        if (m_cuda) {
            at::autocast::set_enabled(m_previous);
        } else {
            at::autocast::set_cpu_enabled(m_previous);
            at::autocast::set_autocast_cpu_dtype(m_previousType);
        }
#endif
        at::autocast::clear_cache();
    }
    AutocastGuard(const AutocastGuard&) = delete;
    AutocastGuard& operator=(const AutocastGuard&) = delete;

private:
    bool m_enabled;
    bool m_cuda;
    bool m_previous = false;
    at::ScalarType m_previousType = at::kBFloat16;
};

} // namespace lightbox::ml::detail
