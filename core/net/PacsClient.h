#pragma once
// The DICOM network calls Lightbox makes to a PACS, on DCMTK's DcmSCU: C-ECHO, C-FIND,
// C-GET, C-MOVE (with a storage SCP of its own for the call) and C-STORE.
//
// Each call opens one association, does its work and closes it; it is synchronous and meant
// for a worker thread. Calls may run at the same time on different threads (DCMTK's connect
// timeout is process-wide: the last call's LocalAe::timeoutSeconds holds for all). Nothing here is Qt, nothing prints;
// failures come back as one line. Not done here: worklists, storage commitment, query of several nodes at once, keeping
// an association open between calls.

#include <net/PacsTypes.h>

#include <string>
#include <vector>

namespace lightbox::net {

/// The answer to a C-ECHO.
struct EchoReply {
    double roundTripMs = 0; ///< association, echo and release
};

/// The query/retrieve level of a C-FIND (Patient Root at Patient level, Study Root below).
enum class Level { Patient, Study, Series, Image };
const char* toString(Level level); ///< "PATIENT", "STUDY", "SERIES", "IMAGE"

/// The keys of a C-FIND; empty fields match everything. Matching is the peer's: names
/// take the wildcards * and ?, the other fields match exactly.
struct Query {
    std::string patientName; ///< "DOE^J*"
    std::string patientId;
    std::string studyDate; ///< "20240101", "20240101-20240131", "20240101-", "-20231231"
    std::string modality;  ///< "CT"; at Study level matched against ModalitiesInStudy
    std::string accessionNumber;
    std::string studyUid;  ///< needed at Series and Image level (hierarchical query)
    std::string seriesUid; ///< needed at Image level
};

/// Empty when the query's fields are well formed (a date range of YYYYMMDD dates, UIDs that
/// isSafeUid() accepts, no backslash), otherwise the reason.
std::string validateQuery(const Query& query);

/// One C-FIND match. The fields the level does not return stay empty (counts: -1).
struct Match {
    Level level = Level::Study;
    std::string patientName, patientId, patientBirthDate, patientSex;
    std::string studyUid, studyDate, studyTime, studyDescription, accessionNumber, modalitiesInStudy;
    int studyInstances = -1; ///< NumberOfStudyRelatedInstances
    int patientStudies = -1; ///< NumberOfPatientRelatedStudies
    std::string seriesUid, modality, seriesNumber, seriesDescription;
    int seriesInstances = -1; ///< NumberOfSeriesRelatedInstances
    std::string sopInstanceUid, sopClassUid, instanceNumber;
};

/// Which part of the matches a find() returns. C-FIND itself has no pages: a page is the
/// matches from `offset` to `offset + maxResults` in the order the peer sends them. The call
/// counts the matches up to the end of its page, then sends C-CANCEL, so reading page k costs
/// receiving k pages. A peer that keeps its order for the same query and data (Orthanc does)
/// gives disjoint pages; narrowing the query (a date range, a name) is the cheaper way to
/// see everything when `truncated` says there is more.
struct FindOptions {
    int maxResults = 500; ///< 1 or more
    int offset = 0;
};

struct FindPage {
    std::vector<Match> matches;
    int offset = 0;
    bool truncated = false; ///< the peer had more matches after this page (they were cancelled)
    double elapsedMs = 0;
};

/// What to retrieve: a study, or one series of it, into `cacheDir` as
/// `<cacheDir>/<StudyUID>/<SeriesUID>/<SOPInstanceUID>.dcm`.
struct RetrieveRequest {
    Level level = Level::Study; ///< Study or Series
    std::string studyUid;
    std::string seriesUid; ///< Series level only
    std::string cacheDir;
};

struct RetrieveSummary {
    int completed = 0, failed = 0, warnings = 0; ///< the peer's final sub-operation counts
    std::uint64_t bytes = 0;                     ///< DICOM data received
    std::vector<std::string> files;              ///< written (or rewritten) by this call
    std::vector<std::string> sopInstanceUids;    ///< of `files`, in the same order
    double elapsedMs = 0;
};

struct StoreSummary {
    int sent = 0;   ///< accepted by the peer (success or warning)
    int failed = 0; ///< unreadable files and refused ones, each with a line in `failures`
    std::uint64_t bytes = 0;
    std::vector<std::string> failures; ///< "FILE: reason"
    double elapsedMs = 0;
};

/// C-ECHO: is the node there, does it accept Lightbox's AE title?
Result<EchoReply> echo(const PacsNode& node, const LocalAe& local, const Control& control = {});

/// C-FIND at `level`. When the peer has more matches than the page holds the call cancels the
/// rest and sets FindPage::truncated (see FindOptions).
Result<FindPage> find(const PacsNode& node, const LocalAe& local, Level level, const Query& query,
                      const FindOptions& options = {}, const Control& control = {});

/// C-GET of a study or series: the instances come back on the same association and are
/// written to the cache folder (each to a temporary name, renamed when whole). On failure or
/// cancel every file the call created is removed again, so the cache holds whole retrieves
/// only. The transfer syntax is the one the peer stores (JPEG 2000 stays JPEG 2000).
Result<RetrieveSummary> get(const PacsNode& node, const LocalAe& local, const RetrieveRequest& request,
                            const Control& control = {});

/// C-MOVE of a study or series to Lightbox itself: runs a storage SCP on LocalAe::port for
/// the duration of the call that accepts associations only from `node` (its AE title and its
/// host's addresses) and writes as get() does. The PACS must know LocalAe::aeTitle with this
/// host and port as a destination.
Result<RetrieveSummary> move(const PacsNode& node, const LocalAe& local, const RetrieveRequest& request,
                             const Control& control = {});

/// C-STORE of DICOM files, each in its own transfer syntax (Explicit and Implicit VR Little
/// Endian are proposed too). A file that cannot be read or that the peer refuses is counted
/// in StoreSummary::failed and the others are still sent; the call fails only when nothing
/// can be sent (no association, cancel, a lost connection).
Result<StoreSummary> store(const PacsNode& node, const LocalAe& local, const std::vector<std::string>& files,
                           const Control& control = {});

} // namespace lightbox::net
