#pragma once

#include <cstdint>
#include <string>

namespace lightbox::ml {

/// Sets LibTorch's intra-op thread count: `threads` when positive, else the number of
/// cores (LibTorch may default to one thread). Returns the count in force afterwards.
int configureThreads(int threads = 0);

/// "1.13.1 (CPU)" or "2.x (CUDA 12.x, 1 device)": what this build of LibTorch can use.
std::string torchSummary();

/// Seeds LibTorch's global generators (CPU and CUDA) for repeatable initialisation and training.
void manualSeed(uint64_t seed);

/// Number of CUDA devices LibTorch sees (0 on a CPU build or a machine without a GPU).
int cudaDeviceCount();

} // namespace lightbox::ml
