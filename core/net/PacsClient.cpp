// The PACS calls: echo, find, get, move and store on DcmSCU (net/Scu.h), and the checks of
// their requests. Over 600 lines: the five calls share the association set-up, the status
// texts and the progress reporter at the top, which stay private to this file.
#include "PacsClient.h"

#include "InstanceSink.h"
#include "Scu.h"
#include "StorageServer.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

namespace lightbox::net {
namespace {

using Clock = std::chrono::steady_clock;

double msSince(Clock::time_point start)
{
    return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string hex(Uint16 status)
{
    char text[8];
    std::snprintf(text, sizeof text, "0x%04x", status);
    return text;
}

bool isPending(Uint16 status)
{
    return status == STATUS_Pending || status == STATUS_FIND_Pending_WarningUnsupportedOptionalKeys;
}

void log(const Control& control, const std::string& line)
{
    if (control.log)
        control.log(line);
}

std::string text(DcmDataset& ds, const DcmTagKey& tag)
{
    OFString value;
    ds.findAndGetOFStringArray(tag, value);
    return value.c_str();
}

int number(DcmDataset& ds, const DcmTagKey& tag)
{
    const std::string v = text(ds, tag);
    if (v.empty() || v.find_first_not_of(" 0123456789") != std::string::npos)
        return -1;
    return std::atoi(v.c_str());
}

bool validDate(const std::string& d)
{
    return d.size() == 8 && d.find_first_not_of("0123456789") == std::string::npos;
}

// Progress with byte updates at most every 100 ms; sub-operation counts always go through.
class Reporter {
public:
    explicit Reporter(const Control& control) : m_control(control) {}
    void counts(const Progress& p)
    {
        m_progress = p;
        emit();
    }
    void bytes(std::uint64_t b)
    {
        m_progress.bytes = b;
        if (Clock::now() - m_last > std::chrono::milliseconds(100))
            emit();
    }
    Progress& progress() { return m_progress; }

private:
    void emit()
    {
        m_last = Clock::now();
        if (m_control.progress)
            m_control.progress(m_progress);
    }
    const Control& m_control;
    Progress m_progress;
    Clock::time_point m_last{};
};

std::string checkCall(const PacsNode& node, const LocalAe& local)
{
    if (const std::string why = validateAeTitle(node.aeTitle); !why.empty())
        return "peer: " + why;
    if (const std::string why = validateAeTitle(local.aeTitle); !why.empty())
        return "own AE: " + why;
    if (node.host.empty() || node.port < 1 || node.port > 65535)
        return "peer " + node.toString() + ": no host, or a port not in 1..65535";
    if (local.timeoutSeconds < 1)
        return "the timeout must be at least 1 s";
    return {};
}

std::string retrieveStatusText(Uint16 status)
{
    switch (status) {
    case STATUS_MOVE_Failed_MoveDestinationUnknown: return "the move destination is unknown to the peer";
    case STATUS_MOVE_Refused_OutOfResourcesNumberOfMatches:
    case STATUS_MOVE_Refused_OutOfResourcesSubOperations: return "the peer is out of resources";
    case STATUS_MOVE_Failed_IdentifierDoesNotMatchSOPClass: return "the peer did not understand the request";
    case STATUS_MOVE_Cancel_SubOperationsTerminatedDueToCancelIndication: return "cancelled";
    default: return (status & 0xf000) == 0xc000 ? "the peer could not process the request" : "the peer failed";
    }
}

DcmDataset retrieveKeys(const RetrieveRequest& request)
{
    DcmDataset keys;
    keys.putAndInsertString(DCM_QueryRetrieveLevel, request.level == Level::Series ? "SERIES" : "STUDY");
    keys.putAndInsertString(DCM_StudyInstanceUID, request.studyUid.c_str());
    if (request.level == Level::Series)
        keys.putAndInsertString(DCM_SeriesInstanceUID, request.seriesUid.c_str());
    return keys;
}

std::string checkRetrieve(const RetrieveRequest& request)
{
    if (request.level != Level::Study && request.level != Level::Series)
        return "a retrieve is of a study or a series";
    if (!isSafeUid(request.studyUid))
        return "the study UID is not a valid UID";
    if (request.level == Level::Series && !isSafeUid(request.seriesUid))
        return "the series UID is not a valid UID";
    if (request.cacheDir.empty())
        return "no cache folder given";
    std::error_code ec;
    std::filesystem::create_directories(request.cacheDir, ec);
    if (!std::filesystem::is_directory(request.cacheDir, ec))
        return "cannot create the cache folder " + request.cacheDir;
    return {};
}

// One C-GET or C-MOVE as the peer's responses tell it, judged the same way for both.
struct Session {
    std::string what, peer;
    bool cancelled = false, gotFinal = false;
    Uint16 finalStatus = 0;

    // Takes a response's counts into `p`; sends C-CANCEL (once) when the caller asks for it.
    void take(const RetrieveResponse& rsp, Progress& p, Scu& scu, T_ASC_PresentationContextID pc,
              const Control& control, OFBool& more)
    {
        p.completed = rsp.m_numberOfCompletedSubops;
        p.failed = rsp.m_numberOfFailedSubops;
        p.warnings = rsp.m_numberOfWarningSubops;
        if (isPending(rsp.m_status)) {
            p.remaining = rsp.m_numberOfRemainingSubops;
        } else {
            p.remaining = 0;
            gotFinal = true;
            finalStatus = rsp.m_status;
        }
        cancelIfAsked(scu, pc, control, more);
    }
    bool cancelIfAsked(Scu& scu, T_ASC_PresentationContextID pc, const Control& control, OFBool& more)
    {
        if (!cancelled && control.cancelled()) {
            cancelled = true;
            scu.sendCANCELRequest(pc);
            more = OFFalse;
        }
        return cancelled;
    }
    bool clean(const OFCondition& cond) const { return !cancelled && cond.good() && gotFinal; }

    Result<RetrieveSummary> finish(const OFCondition& cond, const Progress& last,
                                   const std::vector<std::string>& refusals) const
    {
        auto fail = [&](const std::string& why) { return Result<RetrieveSummary>::failure(why); };
        if (cancelled)
            return fail(what + " from " + peer + " cancelled");
        if (cond.bad() || !gotFinal)
            return fail("connection to " + peer + " lost during " + what + ": " +
                        (cond.bad() ? conditionText(cond) : "no final response"));
        if (finalStatus != STATUS_Success && finalStatus != STATUS_MOVE_Warning_SubOperationsCompleteOneOrMoreFailures)
            return fail(what + " from " + peer + " failed: " + retrieveStatusText(finalStatus) + " (status " +
                        hex(finalStatus) + ")");
        if (last.failed > 0) {
            std::string why = what + " from " + peer + ": " + std::to_string(last.failed) + " of " +
                              std::to_string(last.failed + last.completed + last.warnings) +
                              " instances could not be retrieved";
            if (!refusals.empty())
                why += " (" + refusals.front() + ")";
            return fail(why);
        }
        RetrieveSummary summary;
        summary.completed = last.completed;
        summary.warnings = last.warnings;
        return summary;
    }
};

// The summary of a retrieve that went well: what was written, and its log line.
void describe(RetrieveSummary& s, std::vector<std::string> files, std::vector<std::string> uids, std::uint64_t bytes,
              Clock::time_point start, const Session& session, const Control& control)
{
    s.files = std::move(files);
    s.sopInstanceUids = std::move(uids);
    s.bytes = bytes;
    s.elapsedMs = msSince(start);
    log(control, session.what + " from " + session.peer + ": " + std::to_string(s.files.size()) + " instances, " +
                     std::to_string(s.bytes) + " bytes");
}

std::string checkRetrieveCall(const PacsNode& node, const LocalAe& local, const RetrieveRequest& request)
{
    if (std::string why = checkCall(node, local); !why.empty())
        return why;
    return checkRetrieve(request);
}

} // namespace

const char* toString(Level level)
{
    switch (level) {
    case Level::Patient: return "PATIENT";
    case Level::Study: return "STUDY";
    case Level::Series: return "SERIES";
    case Level::Image: return "IMAGE";
    }
    return "STUDY";
}

std::string validateQuery(const Query& q)
{
    for (const std::string* field :
         {&q.patientName, &q.patientId, &q.studyDate, &q.modality, &q.accessionNumber, &q.studyUid, &q.seriesUid})
        for (unsigned char c : *field)
            if (c == '\\' || c < 0x20)
                return "a query field holds a backslash or a control character";
    if (!q.studyDate.empty()) {
        const auto dash = q.studyDate.find('-');
        const std::string from = q.studyDate.substr(0, dash);
        const std::string to = dash == std::string::npos ? std::string() : q.studyDate.substr(dash + 1);
        const bool ok = dash == std::string::npos ? validDate(from)
                                                  : (from.empty() || validDate(from)) &&
                                                        (to.empty() || validDate(to)) && !(from.empty() && to.empty());
        if (!ok)
            return "the study date '" + q.studyDate.substr(0, 40) +
                   "' is not YYYYMMDD or a range YYYYMMDD-YYYYMMDD (either end may be left open)";
    }
    if (!q.studyUid.empty() && !isSafeUid(q.studyUid))
        return "the study UID is not a valid UID";
    if (!q.seriesUid.empty() && !isSafeUid(q.seriesUid))
        return "the series UID is not a valid UID";
    if (q.patientName.size() > 64 || q.patientId.size() > 64 || q.accessionNumber.size() > 16 || q.modality.size() > 16)
        return "a query field is longer than DICOM allows";
    return {};
}

Result<EchoReply> echo(const PacsNode& node, const LocalAe& local, const Control& control)
{
    if (const std::string why = checkCall(node, local); !why.empty())
        return Result<EchoReply>::failure(why);
    if (control.cancelled())
        return Result<EchoReply>::failure("echo cancelled");
    const auto start = Clock::now();
    Scu scu(node, local);
    if (const std::string why = scu.open({{UID_VerificationSOPClass, uncompressedTransferSyntaxes()}}); !why.empty())
        return Result<EchoReply>::failure(why);
    OFCondition cond = scu.sendECHORequest(0);
    if (cond.bad()) {
        scu.close(true);
        return Result<EchoReply>::failure("C-ECHO to " + node.toString() + " failed: " + conditionText(cond));
    }
    scu.close();
    EchoReply reply;
    reply.roundTripMs = msSince(start);
    log(control, "C-ECHO " + node.toString() + ": " + std::to_string(int(reply.roundTripMs)) + " ms");
    return reply;
}

Result<FindPage> find(const PacsNode& node, const LocalAe& local, Level level, const Query& query,
                      const FindOptions& options, const Control& control)
{
    using R = Result<FindPage>;
    if (const std::string why = checkCall(node, local); !why.empty())
        return R::failure(why);
    if (const std::string why = validateQuery(query); !why.empty())
        return R::failure(why);
    if (options.maxResults < 1 || options.offset < 0)
        return R::failure("a page holds at least one match and starts at 0 or later");
    const auto start = Clock::now();

    DcmDataset keys;
    keys.putAndInsertString(DCM_QueryRetrieveLevel, toString(level));
    keys.putAndInsertString(DCM_SpecificCharacterSet, "");
    keys.putAndInsertString(DCM_PatientName, query.patientName.c_str());
    keys.putAndInsertString(DCM_PatientID, query.patientId.c_str());
    if (level == Level::Patient) {
        keys.putAndInsertString(DCM_PatientBirthDate, "");
        keys.putAndInsertString(DCM_PatientSex, "");
        keys.putAndInsertString(DCM_NumberOfPatientRelatedStudies, "");
    }
    if (level != Level::Patient) {
        keys.putAndInsertString(DCM_StudyInstanceUID, query.studyUid.c_str());
        keys.putAndInsertString(DCM_StudyDate, query.studyDate.c_str());
        keys.putAndInsertString(DCM_AccessionNumber, query.accessionNumber.c_str());
    }
    if (level == Level::Study) {
        keys.putAndInsertString(DCM_PatientBirthDate, "");
        keys.putAndInsertString(DCM_PatientSex, "");
        keys.putAndInsertString(DCM_StudyTime, "");
        keys.putAndInsertString(DCM_StudyDescription, "");
        keys.putAndInsertString(DCM_ModalitiesInStudy, query.modality.c_str());
        keys.putAndInsertString(DCM_NumberOfStudyRelatedInstances, "");
    }
    if (level == Level::Series || level == Level::Image)
        keys.putAndInsertString(DCM_SeriesInstanceUID, query.seriesUid.c_str());
    if (level == Level::Series) {
        keys.putAndInsertString(DCM_Modality, query.modality.c_str());
        keys.putAndInsertString(DCM_SeriesNumber, "");
        keys.putAndInsertString(DCM_SeriesDescription, "");
        keys.putAndInsertString(DCM_NumberOfSeriesRelatedInstances, "");
    }
    if (level == Level::Image) {
        keys.putAndInsertString(DCM_SOPInstanceUID, "");
        keys.putAndInsertString(DCM_SOPClassUID, "");
        keys.putAndInsertString(DCM_InstanceNumber, "");
    }

    const char* model = level == Level::Patient ? UID_FINDPatientRootQueryRetrieveInformationModel
                                                : UID_FINDStudyRootQueryRetrieveInformationModel;
    Scu scu(node, local);
    if (const std::string why = scu.open({{model, uncompressedTransferSyntaxes()}}); !why.empty())
        return R::failure(why);
    const T_ASC_PresentationContextID pc = scu.findAnyPresentationContextID(model, "");

    FindPage page;
    page.offset = options.offset;
    int seen = 0;
    bool cancelSent = false, userCancel = false, gotFinal = false;
    Uint16 finalStatus = 0;
    scu.onFind = [&](QRResponse& rsp, OFBool& wait) {
        if (!isPending(rsp.m_status)) {
            gotFinal = true;
            finalStatus = rsp.m_status;
            return;
        }
        if (cancelSent) {
            // Matches still in flight after C-CANCEL; a peer that ignores it is cut off.
            if (++seen > options.offset + options.maxResults + 10000)
                wait = OFFalse;
            return;
        }
        if (!rsp.m_dataset)
            return;
        if (control.cancelled()) {
            userCancel = true;
        } else if (seen >= options.offset + options.maxResults) {
            page.truncated = true;
        } else if (seen++ >= options.offset) {
            DcmDataset& ds = *rsp.m_dataset;
            ds.convertToUTF8();
            Match m;
            m.level = level;
            m.patientName = text(ds, DCM_PatientName);
            m.patientId = text(ds, DCM_PatientID);
            m.patientBirthDate = text(ds, DCM_PatientBirthDate);
            m.patientSex = text(ds, DCM_PatientSex);
            m.patientStudies = number(ds, DCM_NumberOfPatientRelatedStudies);
            m.studyUid = text(ds, DCM_StudyInstanceUID);
            m.studyDate = text(ds, DCM_StudyDate);
            m.studyTime = text(ds, DCM_StudyTime);
            m.studyDescription = text(ds, DCM_StudyDescription);
            m.accessionNumber = text(ds, DCM_AccessionNumber);
            m.modalitiesInStudy = text(ds, DCM_ModalitiesInStudy);
            m.studyInstances = number(ds, DCM_NumberOfStudyRelatedInstances);
            m.seriesUid = text(ds, DCM_SeriesInstanceUID);
            m.modality = text(ds, DCM_Modality);
            m.seriesNumber = text(ds, DCM_SeriesNumber);
            m.seriesDescription = text(ds, DCM_SeriesDescription);
            m.seriesInstances = number(ds, DCM_NumberOfSeriesRelatedInstances);
            m.sopInstanceUid = text(ds, DCM_SOPInstanceUID);
            m.sopClassUid = text(ds, DCM_SOPClassUID);
            m.instanceNumber = text(ds, DCM_InstanceNumber);
            page.matches.push_back(std::move(m));
            if (control.progress) {
                Progress p;
                p.completed = int(page.matches.size());
                control.progress(p);
            }
            return;
        } else {
            return; // before the page
        }
        scu.sendCANCELRequest(pc);
        cancelSent = true;
        if (userCancel)
            wait = OFFalse;
    };
    OFCondition cond = scu.sendFINDRequest(pc, &keys, nullptr);
    if (cond.bad() || !gotFinal) {
        scu.close(true);
        if (userCancel)
            return R::failure("C-FIND cancelled");
        if (cond.bad())
            return R::failure("C-FIND on " + node.toString() + " failed: " + conditionText(cond));
    } else {
        scu.close();
    }
    if (userCancel)
        return R::failure("C-FIND cancelled");
    if (gotFinal && finalStatus != STATUS_Success && !cancelSent &&
        finalStatus != STATUS_FIND_Cancel_MatchingTerminatedDueToCancelRequest)
        return R::failure("C-FIND on " + node.toString() + " failed with status " + hex(finalStatus) +
                          ((finalStatus & 0xf000) == 0xa000 ? " (refused: out of resources)" : ""));
    page.elapsedMs = msSince(start);
    std::string line = std::string("C-FIND ") + toString(level) + " on " + node.toString() + ": " +
                       std::to_string(page.matches.size()) + " matches" + (page.truncated ? " (more cancelled)" : "");
    if (local.verbose && (!query.patientName.empty() || !query.patientId.empty()))
        line += " for name '" + query.patientName + "' id '" + query.patientId + "'";
    log(control, line);
    return page;
}

Result<RetrieveSummary> get(const PacsNode& node, const LocalAe& local, const RetrieveRequest& request,
                            const Control& control)
{
    using R = Result<RetrieveSummary>;
    if (const std::string why = checkRetrieveCall(node, local, request); !why.empty())
        return R::failure(why);
    const auto start = Clock::now();

    // C-GET receives on the same association, so the storage SOP classes must be proposed up
    // front: ask the peer which ones the instances have, and propose each with every
    // encapsulated transfer syntax on a context of its own, so that nothing is transcoded.
    Query q;
    q.studyUid = request.studyUid;
    q.seriesUid = request.level == Level::Series ? request.seriesUid : std::string();
    FindOptions all;
    all.maxResults = 1000000;
    auto instances = find(node, local, Level::Image, q, all, Control{nullptr, control.cancel, nullptr});
    if (!instances)
        return R::failure(instances.error());
    std::set<std::string> classes;
    for (const Match& m : instances->matches)
        if (!m.sopClassUid.empty())
            classes.insert(m.sopClassUid);
    if (classes.empty())
        return R::failure(std::string("C-GET from ") + node.toString() + ": no instances of that " +
                          (request.level == Level::Series ? "series" : "study"));
    const size_t perClass = 1 + compressedTransferSyntaxes().size();
    if (classes.size() * perClass + 1 > 127)
        return R::failure("C-GET: the study holds too many kinds of objects (" + std::to_string(classes.size()) +
                          ") for one association");
    std::vector<Context> contexts{{UID_GETStudyRootQueryRetrieveInformationModel, uncompressedTransferSyntaxes()}};
    for (const std::string& c : classes) {
        contexts.push_back({c, uncompressedTransferSyntaxes(), ASC_SC_ROLE_SCP});
        for (const std::string& x : compressedTransferSyntaxes())
            contexts.push_back({c, {x}, ASC_SC_ROLE_SCP});
    }

    Scu scu(node, local);
    if (const std::string why = scu.open(contexts); !why.empty())
        return R::failure(why);
    const T_ASC_PresentationContextID pc =
        scu.findAnyPresentationContextID(UID_GETStudyRootQueryRetrieveInformationModel, "");
    InstanceSink sink(request.cacheDir);
    Reporter reporter(control);
    reporter.progress().remaining = int(instances->matches.size());
    Session session{"C-GET", node.toString()};
    std::vector<std::string> refusals;
    scu.onRetrieve = [&](RetrieveResponse& rsp, OFBool& more) {
        session.take(rsp, reporter.progress(), scu, pc, control, more);
        reporter.counts(reporter.progress());
    };
    scu.onStore = [&](DcmDataset& ds, OFBool& more) -> Uint16 {
        if (session.cancelIfAsked(scu, pc, control, more))
            return STATUS_STORE_Refused_OutOfResources;
        auto written = sink.write(ds);
        if (!written) {
            refusals.push_back(written.error());
            return STATUS_STORE_Error_CannotUnderstand;
        }
        reporter.bytes(sink.bytes());
        return STATUS_Success;
    };
    scu.onBytes = [&](unsigned long b) { reporter.bytes(sink.bytes() + b); };

    DcmDataset keys = retrieveKeys(request);
    OFCondition cond = scu.sendCGETRequest(pc, &keys, nullptr);
    scu.close(!session.clean(cond));
    auto result = session.finish(cond, reporter.progress(), refusals);
    if (!result) {
        sink.rollback();
        log(control, result.error());
        return result;
    }
    describe(result.value(), sink.files(), sink.sopInstanceUids(), sink.bytes(), start, session, control);
    return result;
}

Result<RetrieveSummary> move(const PacsNode& node, const LocalAe& local, const RetrieveRequest& request,
                             const Control& control)
{
    using R = Result<RetrieveSummary>;
    if (const std::string why = checkRetrieveCall(node, local, request); !why.empty())
        return R::failure(why);
    if (local.port < 1 || local.port > 65535)
        return R::failure("C-MOVE needs Lightbox's own storage port (1..65535), the one the PACS knows");
    const auto start = Clock::now();

    StorageServerOptions options;
    options.local = local;
    options.peers = {node};
    options.cacheDir = request.cacheDir;
    StorageServer server(options);
    if (auto started = server.start(); !started)
        return R::failure(started.error());

    Scu scu(node, local);
    if (const std::string why =
            scu.open({{UID_MOVEStudyRootQueryRetrieveInformationModel, uncompressedTransferSyntaxes()}});
        !why.empty())
        return R::failure(why);
    const T_ASC_PresentationContextID pc =
        scu.findAnyPresentationContextID(UID_MOVEStudyRootQueryRetrieveInformationModel, "");
    Reporter reporter(control);
    Session session{"C-MOVE", node.toString()};
    scu.onRetrieve = [&](RetrieveResponse& rsp, OFBool& more) {
        session.take(rsp, reporter.progress(), scu, pc, control, more);
        reporter.progress().bytes = server.bytes();
        reporter.counts(reporter.progress());
    };
    DcmDataset keys = retrieveKeys(request);
    OFCondition cond = scu.sendMOVERequest(pc, local.aeTitle.c_str(), &keys, nullptr);
    scu.close(!session.clean(cond));
    server.stop();
    auto result = session.finish(cond, reporter.progress(), server.refusals());
    if (!result) {
        server.removeReceived();
        // Orthanc answers an unknown destination with 0xC000, not 0xA801: name the likely cause.
        const Uint16 status = session.finalStatus;
        if (session.gotFinal && (status == STATUS_MOVE_Failed_MoveDestinationUnknown || (status & 0xf000) == 0xc000))
            result = R::failure(result.error() + "; is " + local.aeTitle + " at port " + std::to_string(local.port) +
                                " among its move destinations?");
        log(control, result.error());
        return result;
    }
    for (const std::string& r : server.refusals())
        log(control, "storage SCP " + r);
    describe(result.value(), server.files(), server.sopInstanceUids(), server.bytes(), start, session, control);
    return result;
}

Result<StoreSummary> store(const PacsNode& node, const LocalAe& local, const std::vector<std::string>& files,
                           const Control& control)
{
    using R = Result<StoreSummary>;
    if (const std::string why = checkCall(node, local); !why.empty())
        return R::failure(why);
    const auto start = Clock::now();
    StoreSummary summary;

    // Read the meta header of each file: its SOP class and transfer syntax make the contexts.
    struct Item {
        std::string path, sopClass, xfer;
    };
    std::vector<Item> items;
    std::map<std::string, std::set<std::string>> wanted; // SOP class -> its files' transfer syntaxes
    for (const std::string& path : files) {
        DcmFileFormat ff;
        OFCondition cond = ff.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 0, ERM_metaOnly);
        OFString sopClass, xfer;
        if (cond.good())
            ff.getMetaInfo()->findAndGetOFString(DCM_MediaStorageSOPClassUID, sopClass);
        if (cond.good())
            ff.getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, xfer);
        if (cond.bad() || sopClass.empty() || xfer.empty()) {
            ++summary.failed;
            summary.failures.push_back(path + ": not a DICOM file with a meta header" +
                                       (cond.bad() ? " (" + conditionText(cond) + ")" : std::string()));
            continue;
        }
        items.push_back({path, sopClass.c_str(), xfer.c_str()});
        wanted[sopClass.c_str()].insert(xfer.c_str());
    }
    if (items.empty())
        return R::failure(files.empty() ? "no files to send"
                                        : "none of the files can be sent: " + summary.failures.front());
    std::vector<Context> contexts;
    for (const auto& [sopClass, xfers] : wanted) {
        contexts.push_back({sopClass, uncompressedTransferSyntaxes()});
        for (const std::string& x : xfers)
            if (x != UID_LittleEndianExplicitTransferSyntax && x != UID_LittleEndianImplicitTransferSyntax)
                contexts.push_back({sopClass, {x}});
    }
    if (contexts.size() > 127)
        return R::failure("the files hold too many kinds of objects for one association; send fewer at a time");

    Scu scu(node, local);
    if (const std::string why = scu.open(contexts); !why.empty())
        return R::failure(why);
    scu.setDatasetConversionMode(OFTrue); // Explicit <-> Implicit when the peer takes only one
    Reporter reporter(control);
    std::uint64_t sentBytes = 0, current = 0;
    scu.onBytes = [&](unsigned long b) {
        current = b;
        reporter.bytes(sentBytes + b);
    };
    for (size_t i = 0; i < items.size(); ++i) {
        if (control.cancelled()) {
            scu.close();
            return R::failure("C-STORE to " + node.toString() + " cancelled after " + std::to_string(summary.sent) +
                              " files");
        }
        const Item& item = items[i];
        DcmFileFormat ff;
        OFCondition cond = ff.loadFile(item.path.c_str());
        if (cond.good())
            cond = ff.loadAllDataIntoMemory();
        if (cond.bad()) {
            ++summary.failed;
            summary.failures.push_back(item.path + ": cannot be read (" + conditionText(cond) + ")");
            continue;
        }
        Uint16 status = 0;
        current = 0;
        cond = scu.sendSTORERequest(0, "", ff.getDataset(), status);
        if (cond == NET_EC_NoPresentationContextsDefined || cond == DIMSE_NOVALIDPRESENTATIONCONTEXTID ||
            cond == NET_EC_NoAcceptablePresentationContexts) {
            ++summary.failed;
            summary.failures.push_back(item.path + ": the peer does not accept this kind of object in " +
                                       dcmFindNameOfUID(item.xfer.c_str(), item.xfer.c_str()));
            continue;
        }
        if (cond.bad()) {
            scu.close(true);
            return R::failure("connection to " + node.toString() + " lost during C-STORE: " + conditionText(cond));
        }
        sentBytes += current;
        if (status == STATUS_Success || (status & 0xf000) == 0xb000) {
            ++summary.sent;
        } else {
            ++summary.failed;
            summary.failures.push_back(item.path + ": refused by the peer (status " + hex(status) + ")");
        }
        Progress& p = reporter.progress();
        p.completed = summary.sent;
        p.failed = summary.failed;
        p.remaining = int(items.size() - i - 1);
        p.bytes = sentBytes;
        reporter.counts(p);
    }
    scu.close();
    summary.bytes = sentBytes;
    summary.elapsedMs = msSince(start);
    log(control, "C-STORE to " + node.toString() + ": " + std::to_string(summary.sent) + " sent, " +
                     std::to_string(summary.failed) + " failed");
    return summary;
}

} // namespace lightbox::net
