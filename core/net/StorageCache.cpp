#include "StorageCache.h"

#include <net/PacsTypes.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace lightbox::net {
namespace {

const char* kMarker = ".last-use";

std::int64_t seconds(fs::file_time_type t)
{
    // file_time_type's clock has no portable epoch in C++17: measure from now on both clocks.
    const auto now = fs::file_time_type::clock::now();
    const auto sys =
        std::chrono::system_clock::now() + std::chrono::duration_cast<std::chrono::system_clock::duration>(t - now);
    return std::chrono::duration_cast<std::chrono::seconds>(sys.time_since_epoch()).count();
}

} // namespace

StorageCache::StorageCache(std::string root) : m_root(std::move(root)) {}

std::vector<StorageCache::Study> StorageCache::studies() const
{
    std::vector<Study> out;
    std::error_code ec;
    for (fs::directory_iterator it(m_root, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (!it->is_directory(ec) || !isSafeUid(name))
            continue;
        Study s;
        s.uid = name;
        s.path = it->path().string();
        fs::file_time_type newest{};
        for (fs::recursive_directory_iterator f(it->path(), ec), fend; !ec && f != fend; f.increment(ec)) {
            if (!f->is_regular_file(ec))
                continue;
            s.bytes += f->file_size(ec);
            newest = std::max(newest, f->last_write_time(ec));
        }
        const fs::path marker = it->path() / kMarker;
        s.lastUse = seconds(fs::exists(marker, ec) ? fs::last_write_time(marker, ec) : newest);
        out.push_back(std::move(s));
    }
    std::sort(out.begin(), out.end(), [](const Study& a, const Study& b) {
        return a.lastUse != b.lastUse ? a.lastUse < b.lastUse : a.uid < b.uid;
    });
    return out;
}

std::uint64_t StorageCache::totalBytes() const
{
    std::uint64_t total = 0;
    for (const Study& s : studies())
        total += s.bytes;
    return total;
}

void StorageCache::touch(const std::string& studyUid) const
{
    if (!isSafeUid(studyUid))
        return;
    const fs::path dir = fs::path(m_root) / studyUid;
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        return;
    const fs::path marker = dir / kMarker;
    std::ofstream(marker, std::ios::app).close();
    fs::last_write_time(marker, fs::file_time_type::clock::now(), ec);
}

Result<std::uint64_t> StorageCache::evictTo(std::uint64_t limitBytes) const
{
    std::vector<Study> all = studies();
    std::uint64_t total = 0;
    for (const Study& s : all)
        total += s.bytes;
    std::uint64_t freed = 0;
    for (const Study& s : all) {
        if (total <= limitBytes)
            break;
        std::error_code ec;
        fs::remove_all(s.path, ec);
        if (ec)
            return Result<std::uint64_t>::failure("cannot remove " + s.path + ": " + ec.message());
        total -= s.bytes;
        freed += s.bytes;
    }
    return freed;
}

Result<std::uint64_t> StorageCache::clear() const
{
    return evictTo(0);
}

} // namespace lightbox::net
