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

} // namespace lightbox::ml
