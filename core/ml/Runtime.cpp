#include "Runtime.h"

#include <torch/torch.h>

#include <cstdlib>
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

std::string torchSummary()
{
    std::string s = TORCH_VERSION;
    const int n = cudaDeviceCount();
    s += n > 0 ? " (CUDA, " + std::to_string(n) + " device" + (n > 1 ? "s" : "") + ")" : " (CPU)";
    s += ", " + std::to_string(torch::get_num_threads()) + " threads";
    return s;
}

} // namespace lightbox::ml
