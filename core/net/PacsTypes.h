#pragma once
// The value types every PACS call shares: the remote node, Lightbox's own application entity,
// TLS files, and what a long call reports while it runs (progress, cancel, log lines).

#include <base/Result.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace lightbox::net {

/// PEM files for DICOM TLS. `certFile` and `keyFile` are Lightbox's own (a PACS that asks for
/// a client certificate needs them); `caFile` holds the certificates the peer's must chain to.
struct TlsOptions {
    std::string certFile, keyFile, caFile;
};

/// A remote DICOM node (a PACS, a modality): "ORTHANC@pacs.example.org:4242".
struct PacsNode {
    std::string aeTitle;
    std::string host;
    int port = 0;
    bool tls = false; ///< talk DICOM TLS to it (LocalAe::tls gives the files)

    /// "AET@HOST:PORT", as parseNode() reads it.
    std::string toString() const;
};

/// Reads "AET@HOST:PORT" (an IPv6 host in brackets: "AET@[::1]:104"), checked as
/// validateAeTitle(), a non-empty host without spaces and a port in 1..65535.
Result<PacsNode> parseNode(const std::string& text);

/// Empty when `aeTitle` is a valid AE title (1 to 16 characters, no backslash, no control
/// character, not only spaces), otherwise the reason in a few words.
std::string validateAeTitle(const std::string& aeTitle);

/// True for a UID that is safe as a file name: 1 to 64 characters, digits and dots only,
/// no leading or trailing dot, no "..". Every UID that becomes part of a path is checked
/// with it, so a hostile peer cannot write outside the cache folder.
bool isSafeUid(const std::string& uid);

/// Lightbox's own application entity for one call.
struct LocalAe {
    std::string aeTitle = "LIGHTBOX";
    /// The port of the storage SCP that move() runs for the duration of the call (the PACS
    /// must know Lightbox under aeTitle at this port); 0 is only valid for the other calls.
    int port = 0;
    TlsOptions tls;
    /// Connecting, negotiating and each wait for a message give up after this many seconds.
    int timeoutSeconds = 30;
    /// Allows patient names and IDs in log lines (they are left out otherwise).
    bool verbose = false;
};

/// Where a long call is. For a retrieve, `completed`, `remaining`, `failed` and `warnings`
/// count the peer's C-STORE sub-operations as it reports them (`remaining` is -1 until the
/// peer says); for store() they count the files sent. `bytes` counts DICOM data received
/// (retrieve) or sent (store).
struct Progress {
    int completed = 0;
    int remaining = -1;
    int failed = 0;
    int warnings = 0;
    std::uint64_t bytes = 0;
};

/// What the caller hands a long call; all parts are optional. The callbacks run on the
/// calling thread (a GUI wraps them in queued signals and throttles them itself).
struct Control {
    std::function<void(const Progress&)> progress;
    /// Polled between network messages; when it turns true the call sends C-CANCEL (or stops
    /// sending), removes what it wrote and fails with "cancelled".
    const std::atomic<bool>* cancel = nullptr;
    /// One line per event (association, counts, failures). Patient names and IDs appear
    /// only when LocalAe::verbose is set. Nothing is printed to stdout or stderr.
    std::function<void(const std::string&)> log;

    bool cancelled() const { return cancel && cancel->load(); }
};

} // namespace lightbox::net
