#pragma once
// Lightbox's storage SCP: receives C-STORE (the sub-operations of a C-MOVE, or a modality
// pushing) into the cache folder, on DCMTK's DcmSCP, on a thread of its own.

#include <net/PacsTypes.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lightbox::net {

struct StorageServerOptions {
    /// aeTitle: the called AE title it answers to; port: where it listens (0 picks a free
    /// one); tls.certFile and tls.keyFile make it a TLS SCP (tls.caFile then requires the
    /// peer's certificate to chain to it); timeoutSeconds for each message.
    LocalAe local;
    /// The nodes it accepts associations from: the calling AE title must be one of theirs
    /// AND the connection must come from an address that node's host resolves to.
    std::vector<PacsNode> peers;
    std::string cacheDir; ///< files go to <cacheDir>/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm
};

/// Not done here: storage commitment, more than one association at a time, accepting an
/// instance whose UIDs are not safe as file names (isSafeUid), which it answers with an error.
class StorageServer {
public:
    explicit StorageServer(StorageServerOptions options);
    ~StorageServer(); ///< stops
    StorageServer(const StorageServer&) = delete;
    StorageServer& operator=(const StorageServer&) = delete;

    /// Opens the port (errors such as a port in use come back here) and starts accepting on
    /// its own thread. Returns the port it listens on.
    Result<int> start();
    /// Stops within about a second: an association still running is aborted. Idempotent.
    void stop();

    /// What has arrived so far (safe to call while it runs).
    std::vector<std::string> files() const;
    std::vector<std::string> sopInstanceUids() const;
    std::uint64_t bytes() const;
    /// One line per association it refused ("refused AE 'X' from 10.0.0.7: ...") and per
    /// instance it could not keep. No patient data.
    std::vector<std::string> refusals() const;
    /// Removes the files it created (a failed or cancelled C-MOVE); call after stop().
    void removeReceived();

private:
    class Impl;
    std::unique_ptr<Impl> m_impl;
};

} // namespace lightbox::net
