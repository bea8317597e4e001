#pragma once
// The folder that retrieves write into, kept under a size limit.

#include <base/Result.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lightbox::net {

/// The cache folder as `<root>/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm` (what get() and
/// move() write). A study's last use is the time of its `.last-use` marker (touch()), else
/// the newest file in it. Not done here: locking against a retrieve writing into a study
/// that is being evicted (the caller runs the two one after the other).
class StorageCache {
public:
    struct Study {
        std::string uid;
        std::string path;
        std::uint64_t bytes = 0;
        std::int64_t lastUse = 0; ///< seconds since the epoch
    };

    explicit StorageCache(std::string root);
    const std::string& root() const { return m_root; }

    /// The study folders (those named by a valid UID), least recently used first.
    std::vector<Study> studies() const;
    std::uint64_t totalBytes() const;
    /// Marks a study as used now (a retrieve, an open in the viewer).
    void touch(const std::string& studyUid) const;
    /// Removes least recently used studies until the cache holds at most `limitBytes`;
    /// returns the bytes freed.
    Result<std::uint64_t> evictTo(std::uint64_t limitBytes) const;
    /// Removes every study folder (and nothing else); returns the bytes freed.
    Result<std::uint64_t> clear() const;

private:
    std::string m_root;
};

} // namespace lightbox::net
