#include "Runtime.h"

#include <torch/torch.h>

#include <cstdlib>
#include <string>
#include <thread>

namespace lightbox::ml {

int configureThreads(int threads)
{
    if (threads <= 0) {
        const char* env = std::getenv("LIGHTBOX_TORCH_THREADS");
        threads = env ? std::atoi(env) : 0;
    }
    if (threads <= 0)
        threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
    torch::set_num_threads(threads);
    return torch::get_num_threads();
}

void manualSeed(uint64_t seed)
{
    torch::manual_seed(seed);
}

int cudaDeviceCount()
{
    return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
}

bool cpuHasFastBFloat16()
{
    static const bool has = [] {
        const char* off = std::getenv("LIGHTBOX_NO_BF16");
        if (off && *off && std::string(off) != "0")
            return false;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx512bf16") != 0;
#else
        return false;
#endif
    }();
    return has;
}

std::string reducedPrecisionName(const std::string& device)
{
    const bool cuda = device.rfind("cuda", 0) == 0 || (device == "auto" && cudaDeviceCount() > 0);
    if (cuda)
        return "float16";
    return cpuHasFastBFloat16() ? "bfloat16" : "";
}

bool reducedPrecisionAvailable(const std::string& device)
{
    return !reducedPrecisionName(device).empty();
}

std::string torchSummary()
{
    std::string s = TORCH_VERSION;
    const int n = cudaDeviceCount();
    s += n > 0 ? " (CUDA, " + std::to_string(n) + " device" + (n > 1 ? "s" : "") + ")" : " (CPU)";
    s += ", " + std::to_string(torch::get_num_threads()) + " threads";
    return s;
}

} // namespace lightbox::ml
