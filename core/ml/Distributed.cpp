// Data-parallel training on PyTorch's c10d: the rendezvous (TCPStore), Gloo on the CPU, NCCL
// on CUDA (compiled only where LibTorch has it), and the collectives the trainer needs. The
// one translation unit that includes c10d. c10d's C++ API moved between LibTorch 1.13 (a
// backend is a c10d::ProcessGroup) and 2.x (a c10d::Backend); the guards below keep both.
#include "Distributed.h"
#include "detail/Collective.h"
#include "detail/ModelImpl.h"

#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <torch/version.h>
#ifdef LIGHTBOX_HAVE_GLOO
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#endif
#ifdef LIGHTBOX_HAVE_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <arpa/inet.h>
#include <chrono>
#include <cstdlib>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

namespace lightbox::ml {

int freeLocalPort()
{
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0)
        return -1;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    int port = -1;
    if (::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::getsockname(s, reinterpret_cast<sockaddr*>(&addr), &len) == 0)
        port = ntohs(addr.sin_port);
    ::close(s);
    return port;
}

std::string DistributedConfig::describe() const
{
    return "rank " + std::to_string(rank) + " of " + std::to_string(worldSize);
}

std::string DistributedConfig::validate() const
{
    if (worldSize < 1)
        return "the world size must be at least 1";
    if (rank < 0 || rank >= worldSize)
        return "rank " + std::to_string(rank) + " is outside 0.." + std::to_string(worldSize - 1);
    if (localRank < 0)
        return "the local rank must not be negative";
    if (worldSize > 1 && masterAddr.empty())
        return "no master address (MASTER_ADDR) for a distributed run";
    if (masterPort < 1 || masterPort > 65535)
        return "the master port " + std::to_string(masterPort) + " is outside 1..65535";
    if (timeoutSeconds < 1)
        return "the distributed timeout must be at least 1 second";
    if (backend != "auto" && backend != "gloo" && backend != "nccl")
        return "unknown distributed backend '" + backend + "' (auto, gloo or nccl)";
    return {};
}

bool distributedBackendAvailable(const std::string& backend)
{
#ifdef LIGHTBOX_HAVE_GLOO
    if (backend == "gloo")
        return true;
#endif
#ifdef LIGHTBOX_HAVE_NCCL
    if (backend == "nccl")
        return true;
#endif
    return false;
}

namespace detail {

namespace {

#if TORCH_VERSION_MAJOR >= 2
using BackendBase = c10d::Backend;
#else
using BackendBase = c10d::ProcessGroup;
#endif

bool isLoopback(const std::string& addr)
{
    return addr == "localhost" || addr.rfind("127.", 0) == 0 || addr == "::1";
}

std::vector<uint8_t> bytes(const std::string& s)
{
    return std::vector<uint8_t>(s.begin(), s.end());
}

} // namespace

struct Collective::Impl {
    DistributedConfig config;
    torch::Device device{torch::kCPU};
    std::string backend;
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<BackendBase> group;

    /// Runs a collective; c10d's and Gloo's errors become one line naming this rank.
    template <class F> auto guarded(const char* what, F&& f) -> decltype(f())
    {
        try {
            return f();
        } catch (const std::exception& e) {
            throw std::runtime_error(config.describe() + ": the " + what + " across ranks failed (" + shortError(e) +
                                     "): a peer rank stopped, or did not answer within " +
                                     std::to_string(config.timeoutSeconds) + " s");
        }
    }
    void wait(const c10::intrusive_ptr<c10d::Work>& work) { work->wait(); }
};

Collective::Collective(std::unique_ptr<Impl> impl) : m(std::move(impl)) {}
Collective::~Collective() = default;

int Collective::rank() const
{
    return m->config.rank;
}

int Collective::size() const
{
    return m->config.worldSize;
}

const std::string& Collective::backend() const
{
    return m->backend;
}

Result<std::unique_ptr<Collective>> Collective::connect(const DistributedConfig& config, const torch::Device& device)
{
    using R = Result<std::unique_ptr<Collective>>;
    if (const std::string bad = config.validate(); !bad.empty())
        return R::failure("distributed training: " + bad);
    auto impl = std::make_unique<Impl>();
    impl->config = config;
    impl->device = device;
    impl->backend = config.backend == "auto" ? (device.is_cuda() ? "nccl" : "gloo") : config.backend;
    if (impl->backend == "nccl" && !device.is_cuda())
        return R::failure("distributed training: NCCL needs a CUDA device, this run uses " + device.str());
    if (impl->backend == "gloo" && device.is_cuda())
        return R::failure("distributed training: this build runs Gloo on CPU tensors only; use NCCL on " +
                          device.str());
    if (!distributedBackendAvailable(impl->backend))
        return R::failure("distributed training: this build of LibTorch has no " + impl->backend + " backend");

    const auto timeout = std::chrono::milliseconds(int64_t(config.timeoutSeconds) * 1000);
    const std::string where = config.masterAddr + ":" + std::to_string(config.masterPort);
    const std::string who = config.describe();
    // The rendezvous: rank 0 serves the store, everyone counts in, and all wait until the
    // count is complete; a missing rank or a wrong port ends here, within the timeout.
    try {
        c10d::TCPStoreOptions options;
        options.port = static_cast<uint16_t>(config.masterPort);
        options.isServer = config.rank == 0 && !config.launcherStore;
        options.waitWorkers = false;
        options.timeout = timeout;
        impl->store = c10::make_intrusive<c10d::TCPStore>(config.masterAddr, options);
    } catch (const std::exception& e) {
        return R::failure(who + ": cannot reach the rendezvous at " + where + " within " +
                          std::to_string(config.timeoutSeconds) + " s (" + shortError(e) +
                          "); check MASTER_ADDR and MASTER_PORT, and that rank 0 is running");
    }
    const std::string key = "lightbox/" + std::to_string(config.attempt) + "/";
    try {
        const int64_t joined = impl->store->add(key + "joined", 1);
        if (joined == config.worldSize)
            impl->store->set(key + "complete", bytes("1"));
        impl->store->wait({key + "complete"}, timeout);
    } catch (const std::exception& e) {
        int64_t joined = -1;
        try {
            joined = impl->store->add(key + "joined", 0);
        } catch (const std::exception&) {
        }
        return R::failure(
            who + ": " +
            (joined >= 0 ? "only " + std::to_string(joined) + " of " + std::to_string(config.worldSize) + " ranks came"
                         : std::string("the other ranks did not come")) +
            " to the rendezvous at " + where + " within " + std::to_string(config.timeoutSeconds) + " s (" +
            shortError(e) + "): a rank is missing, failed to start, or was given another MASTER_PORT or WORLD_SIZE");
    }
    try {
#ifdef LIGHTBOX_HAVE_GLOO
        if (impl->backend == "gloo") {
            auto options = c10d::ProcessGroupGloo::Options::create(timeout);
            // GLOO_SOCKET_IFNAME picks the interface as in PyTorch; on one machine, loopback.
            if (const char* ifname = std::getenv("GLOO_SOCKET_IFNAME"); ifname && *ifname)
                options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(ifname));
            else if (isLoopback(config.masterAddr))
                options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1"));
            else
                options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
            impl->group =
                c10::make_intrusive<c10d::ProcessGroupGloo>(impl->store, config.rank, config.worldSize, options);
        }
#endif
#ifdef LIGHTBOX_HAVE_NCCL
        if (impl->backend == "nccl") {
            // Untested here (no GPU on the development machine): see docs/training.md.
            auto options = c10d::ProcessGroupNCCL::Options::create();
            options->timeout = timeout;
            impl->group =
                c10::make_intrusive<c10d::ProcessGroupNCCL>(impl->store, config.rank, config.worldSize, options);
        }
#endif
        if (!impl->group)
            return R::failure("distributed training: no " + impl->backend + " backend in this build");
    } catch (const std::exception& e) {
        return R::failure(who + ": cannot connect the " + impl->backend + " process group through " + where + " (" +
                          shortError(e) + ")");
    }
    return std::unique_ptr<Collective>(new Collective(std::move(impl)));
}

void Collective::broadcast(std::vector<torch::Tensor> tensors)
{
    torch::NoGradGuard noGrad;
    m->guarded("broadcast", [&] {
        for (auto& t : tensors) {
            std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
            m->wait(m->group->broadcast(one));
            if (!one[0].is_same(t))
                t.copy_(one[0]);
        }
    });
}

std::vector<double> Collective::sum(std::vector<double> values)
{
    if (values.empty())
        return values;
    return m->guarded("sum", [&] {
        auto t = torch::tensor(values, torch::kFloat64).to(m->device);
        std::vector<at::Tensor> one{t};
        m->wait(m->group->allreduce(one));
        auto cpu = one[0].to(torch::kCPU).contiguous();
        return std::vector<double>(cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel());
    });
}

double Collective::averageGradients(const std::vector<torch::Tensor>& parameters, double weight)
{
    torch::NoGradGuard noGrad;
    return m->guarded("gradient all-reduce", [&] {
        // Buckets of consecutive parameters, each flattened into one float32 buffer, all
        // started before any is waited for; the last small buffer carries which gradients
        // each rank computed and the weights.
        const size_t n = parameters.size();
        auto flags = torch::zeros({int64_t(n) + 1}, torch::kFloat32);
        auto* f = flags.data_ptr<float>();
        std::vector<std::pair<size_t, size_t>> buckets; // [first, last) parameters
        size_t bytes = 0;
        for (size_t i = 0; i < n; ++i) {
            if (buckets.empty() || bytes >= kBucketBytes) {
                buckets.emplace_back(i, i);
                bytes = 0;
            }
            buckets.back().second = i + 1;
            bytes += size_t(parameters[i].numel()) * sizeof(float);
            f[i] = parameters[i].grad().defined() ? 1.0f : 0.0f;
        }
        f[n] = static_cast<float>(weight);
        std::vector<torch::Tensor> flat;
        std::vector<c10::intrusive_ptr<c10d::Work>> works;
        for (const auto& [first, last] : buckets) {
            std::vector<torch::Tensor> parts;
            for (size_t i = first; i < last; ++i) {
                const auto& p = parameters[i];
                parts.push_back(p.grad().defined() ? (p.grad().to(torch::kFloat32) * weight).reshape(-1)
                                                   : torch::zeros({p.numel()}, p.options().dtype(torch::kFloat32)));
            }
            flat.push_back(torch::cat(parts));
            std::vector<at::Tensor> one{flat.back()};
            works.push_back(m->group->allreduce(one));
        }
        auto flagsOnDevice = flags.to(m->device);
        std::vector<at::Tensor> flagOne{flagsOnDevice};
        works.push_back(m->group->allreduce(flagOne));
        for (auto& w : works)
            m->wait(w);
        const auto counted = flagOne[0].to(torch::kCPU);
        const float* c = counted.data_ptr<float>();
        const double total = c[n];
        if (total <= 0)
            return 0.0;
        for (size_t b = 0; b < buckets.size(); ++b) {
            int64_t offset = 0;
            for (size_t i = buckets[b].first; i < buckets[b].second; ++i) {
                auto p = parameters[i];
                const int64_t k = p.numel();
                if (c[i] > 0) {
                    auto g = flat[b].narrow(0, offset, k).view(p.sizes()).div(total).to(p.scalar_type());
                    if (p.grad().defined())
                        p.mutable_grad().copy_(g);
                    else
                        p.mutable_grad() = g;
                }
                offset += k;
            }
        }
        return total;
    });
}

void Collective::averageBuffers(const std::vector<torch::Tensor>& buffers)
{
    torch::NoGradGuard noGrad;
    m->guarded("batch-norm statistics exchange", [&] {
        for (auto t : buffers) {
            std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
            if (t.is_floating_point()) {
                m->wait(m->group->allreduce(one));
                one[0].div_(double(m->config.worldSize));
            } else {
                m->wait(m->group->broadcast(one));
            }
            if (!one[0].is_same(t))
                t.copy_(one[0]);
        }
    });
}

} // namespace detail
} // namespace lightbox::ml
