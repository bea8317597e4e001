#pragma once

#include <cstdint>
#include <string>

namespace lightbox::ml {

/// Sets LibTorch's intra-op thread count: `threads` when positive, else the environment
/// variable LIGHTBOX_TORCH_THREADS when set to a positive number, else the number of cores
/// (LibTorch may default to one thread). Returns the count in force afterwards. The
/// variable lets ctest run several torch suites side by side without LibTorch's threads
/// spinning against each other (on 2 cores, two suites with 2 threads each ran 3-5x slower).
int configureThreads(int threads = 0);

/// "1.13.1 (CPU)" or "2.x (CUDA 12.x, 1 device)": what this build of LibTorch can use.
std::string torchSummary();

/// Seeds LibTorch's global generators (CPU and CUDA) for repeatable initialisation and training.
void manualSeed(uint64_t seed);

/// Number of CUDA devices LibTorch sees (0 on a CPU build or a machine without a GPU).
int cudaDeviceCount();

/// True when this CPU computes bfloat16 in hardware (AVX-512 BF16, which AMX CPUs also
/// have), so that oneDNN runs bfloat16 convolutions at about twice the float32 rate. Elsewhere
/// bfloat16 would be emulated and slower than float32, so reduced precision stays off on the
/// CPU. LIGHTBOX_NO_BF16=1 turns it off for comparisons.
bool cpuHasFastBFloat16();

/// Whether reduced precision takes effect on `device` ("cpu", "cuda", "cuda:N", "auto"):
/// float16 on a GPU, bfloat16 on a CPU that has it, nothing otherwise.
bool reducedPrecisionAvailable(const std::string& device);

/// "float16", "bfloat16" or "" (not available) for `device`, as reducedPrecisionAvailable().
std::string reducedPrecisionName(const std::string& device);

} // namespace lightbox::ml
