#pragma once
// Internal to core/net: writes the instances one retrieve receives into the cache folder and
// takes them back out when the retrieve fails or is cancelled.

#include <base/Result.h>

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

class DcmDataset;

namespace lightbox::net {

/// Writes received data sets as `<cacheDir>/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm`,
/// each first to a hidden temporary name in that folder and renamed when whole, so a reader
/// never sees half a file. Every UID is checked with isSafeUid() first. rollback() removes
/// the files (and folders) this sink created; files that were there before it stay.
/// Thread-safe: the storage SCP writes from its own thread.
class InstanceSink {
public:
    explicit InstanceSink(std::string cacheDir);

    /// Writes `dataset` in the transfer syntax it was received in; returns the file's path.
    Result<std::string> write(DcmDataset& dataset);
    void rollback();

    std::vector<std::string> files() const;
    std::vector<std::string> sopInstanceUids() const;
    std::uint64_t bytes() const { return m_bytes.load(); }
    /// The study folders written to, for StorageCache::touch().
    std::vector<std::string> studyUids() const;

private:
    std::string m_cacheDir;
    mutable std::mutex m_mutex;
    std::vector<std::string> m_files, m_uids, m_created, m_createdDirs, m_studies;
    std::atomic<std::uint64_t> m_bytes{0};
};

} // namespace lightbox::net
