// lightbox-cli pacs echo|find|get|store: the PACS calls of core/net from the command line.
#include "CommandLine.h"
#include "Commands.h"

#include <net/PacsClient.h>
#include <net/StorageCache.h>

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <unistd.h>

namespace lightbox::cli {
namespace {

std::atomic<bool> g_interrupted{false};

// Ctrl-C cancels the call, which removes what it wrote.
void onInterrupt(int)
{
    g_interrupted = true;
}

int failed(const std::string& message)
{
    std::fprintf(stderr, "lightbox-cli pacs: %s\n", message.c_str());
    return kFailed;
}

void addNodeOptions(CommandLine& cl)
{
    cl.option("peer", "AET@HOST:PORT", "The PACS (its AE title, host and DICOM port).", true);
    cl.option("aet", "AET", "Lightbox's own AE title (default LIGHTBOX).");
    cl.option("port", "PORT", "Lightbox's own storage port, for --move (the PACS must know it).");
    cl.flag("tls", "Talk DICOM TLS to the peer.");
    cl.option("tls-cert", "FILE", "Lightbox's TLS certificate (PEM), when the peer asks for one.");
    cl.option("tls-key", "FILE", "The private key of --tls-cert (PEM, unencrypted).");
    cl.option("tls-ca", "FILE", "The CA certificate(s) the peer's certificate must chain to (PEM).");
    cl.option("timeout", "S", "Seconds to wait for the peer at each step (default 30).");
    cl.flag("verbose", "Log each step on stderr, patient names and IDs included.");
}

// What every subcommand sends with its call.
struct Call {
    net::PacsNode node;
    net::LocalAe local;
    net::Control control;
};

// --peer and the own AE options; false after a usage error.
bool nodeOptions(CommandLine& cl, Call& call)
{
    net::PacsNode& node = call.node;
    net::LocalAe& local = call.local;
    net::Control& control = call.control;
    auto parsed = net::parseNode(cl.text("peer"));
    if (!parsed) {
        cl.usageError("--peer " + QString::fromStdString(parsed.error()));
        return false;
    }
    node = parsed.value();
    node.tls = cl.has("tls");
    if (cl.has("aet")) {
        local.aeTitle = cl.text("aet");
        if (const std::string why = net::validateAeTitle(local.aeTitle); !why.empty()) {
            cl.usageError("--aet: " + QString::fromStdString(why));
            return false;
        }
    }
    if (!cl.integer("port", 1, 65535, local.port) || !cl.integer("timeout", 1, 3600, local.timeoutSeconds))
        return false;
    local.tls = {cl.text("tls-cert"), cl.text("tls-key"), cl.text("tls-ca")};
    if (!node.tls && (cl.has("tls-cert") || cl.has("tls-key") || cl.has("tls-ca"))) {
        cl.usageError("--tls-cert, --tls-key and --tls-ca need --tls");
        return false;
    }
    local.verbose = cl.has("verbose");
    if (local.verbose)
        control.log = [](const std::string& line) { std::fprintf(stderr, "%s\n", line.c_str()); };
    g_interrupted = false;
    std::signal(SIGINT, onInterrupt);
    control.cancel = &g_interrupted;
    return true;
}

// Parses the command line (node options added before by the caller); false with cl.exitCode().
bool parseCall(CommandLine& cl, const QStringList& argv, int minPositional, int maxPositional, Call& call)
{
    return cl.parse(argv, minPositional, maxPositional) && nodeOptions(cl, call);
}

void addQueryOptions(CommandLine& cl)
{
    cl.option("level", "L", "patient, study (default), series or image.");
    cl.option("patient", "NAME", "Patient name; * and ? are wildcards (\"DOE^J*\").");
    cl.option("patient-id", "ID", "Patient ID.");
    cl.option("date", "FROM-TO", "Study date YYYYMMDD, or a range with either end open (20240101-, -20231231).");
    cl.option("modality", "M", "Modality (CT, MR, CR...).");
    cl.option("accession", "N", "Accession number.");
    cl.option("study-uid", "UID", "Study Instance UID.");
    cl.option("series-uid", "UID", "Series Instance UID (series or image level).");
}

net::Query queryOptions(const CommandLine& cl)
{
    net::Query q;
    q.patientName = cl.text("patient");
    q.patientId = cl.text("patient-id");
    q.studyDate = cl.text("date");
    q.modality = cl.text("modality");
    q.accessionNumber = cl.text("accession");
    q.studyUid = cl.text("study-uid");
    q.seriesUid = cl.text("series-uid");
    return q;
}

QJsonObject matchJson(const net::Match& m)
{
    QJsonObject o;
    auto put = [&](const char* key, const std::string& value) {
        if (!value.empty())
            o[key] = QString::fromStdString(value);
    };
    auto count = [&](const char* key, int value) {
        if (value >= 0)
            o[key] = value;
    };
    put("patientName", m.patientName);
    put("patientId", m.patientId);
    put("patientBirthDate", m.patientBirthDate);
    put("patientSex", m.patientSex);
    count("numberOfPatientRelatedStudies", m.patientStudies);
    put("studyInstanceUid", m.studyUid);
    put("studyDate", m.studyDate);
    put("studyTime", m.studyTime);
    put("studyDescription", m.studyDescription);
    put("accessionNumber", m.accessionNumber);
    put("modalitiesInStudy", m.modalitiesInStudy);
    count("numberOfStudyRelatedInstances", m.studyInstances);
    put("seriesInstanceUid", m.seriesUid);
    put("modality", m.modality);
    put("seriesNumber", m.seriesNumber);
    put("seriesDescription", m.seriesDescription);
    count("numberOfSeriesRelatedInstances", m.seriesInstances);
    put("sopInstanceUid", m.sopInstanceUid);
    put("sopClassUid", m.sopClassUid);
    put("instanceNumber", m.instanceNumber);
    return o;
}

void printMatch(const net::Match& m)
{
    switch (m.level) {
    case net::Level::Patient:
        std::printf("%-32s %-16s %-8s %s\n", m.patientName.c_str(), m.patientId.c_str(), m.patientBirthDate.c_str(),
                    m.patientSex.c_str());
        break;
    case net::Level::Study:
        std::printf("%-8s %-28s %-14s %-8s %4d  %-24s %s\n", m.studyDate.c_str(), m.patientName.c_str(),
                    m.patientId.c_str(), m.modalitiesInStudy.c_str(), m.studyInstances, m.studyDescription.c_str(),
                    m.studyUid.c_str());
        break;
    case net::Level::Series:
        std::printf("%-4s %-6s %4d  %-32s %s\n", m.seriesNumber.c_str(), m.modality.c_str(), m.seriesInstances,
                    m.seriesDescription.c_str(), m.seriesUid.c_str());
        break;
    case net::Level::Image:
        std::printf("%-6s %s %s\n", m.instanceNumber.c_str(), m.sopInstanceUid.c_str(), m.sopClassUid.c_str());
        break;
    }
}

int runEcho(const QStringList& argv)
{
    CommandLine cl("pacs echo", "", "C-ECHO: is the PACS there, and does it accept Lightbox's AE title?");
    addNodeOptions(cl);
    Call call;
    if (!parseCall(cl, argv, 0, 0, call))
        return cl.exitCode();
    const net::PacsNode& node = call.node;
    const net::LocalAe& local = call.local;
    net::Control& control = call.control;
    auto r = net::echo(node, local, control);
    if (!r)
        return failed(r.error());
    std::printf("%s answered in %.0f ms\n", node.toString().c_str(), r->roundTripMs);
    return 0;
}

int runFind(const QStringList& argv)
{
    CommandLine cl("pacs find", "", "C-FIND: search the PACS by patient, date, modality, accession number or UID.");
    addNodeOptions(cl);
    addQueryOptions(cl);
    cl.option("max", "N", "Print at most N matches (default 500); more are cancelled and reported.");
    cl.option("offset", "N", "Skip the first N matches (the next page: --offset 500).");
    cl.flag("json", "Print JSON.");
    Call call;
    if (!parseCall(cl, argv, 0, 0, call))
        return cl.exitCode();
    const net::PacsNode& node = call.node;
    const net::LocalAe& local = call.local;
    net::Control& control = call.control;
    net::FindOptions page;
    QString levelName = "study";
    if (!cl.integer("max", 1, 1000000, page.maxResults) ||
        !cl.integer("offset", 0, CommandLine::kIntMax, page.offset) ||
        (cl.has("level") && !cl.choice("level", {"patient", "study", "series", "image"}, levelName)))
        return cl.exitCode();
    const net::Level level = levelName == "patient"  ? net::Level::Patient
                             : levelName == "series" ? net::Level::Series
                             : levelName == "image"  ? net::Level::Image
                                                     : net::Level::Study;
    const net::Query query = queryOptions(cl);
    if (const std::string why = net::validateQuery(query); !why.empty())
        return cl.usageError(QString::fromStdString(why));
    auto r = net::find(node, local, level, query, page, control);
    if (!r)
        return failed(r.error());
    if (cl.has("json")) {
        QJsonArray matches;
        for (const auto& m : r->matches)
            matches.append(matchJson(m));
        QJsonObject o{{"peer", QString::fromStdString(node.toString())},
                      {"level", levelName},
                      {"offset", r->offset},
                      {"truncated", r->truncated},
                      {"matches", matches}};
        std::printf("%s", QJsonDocument(o).toJson(QJsonDocument::Indented).constData());
        return 0;
    }
    for (const auto& m : r->matches)
        printMatch(m);
    std::printf("%zu match(es)%s\n", r->matches.size(),
                r->truncated ? ", more on the PACS: narrow the search or ask for the next page with --offset" : "");
    return 0;
}

int runGet(const QStringList& argv)
{
    CommandLine cl("pacs get", "",
                   "Retrieve studies (or one series) into DIR/<study>/<series>/<instance>.dcm: C-GET, or C-MOVE to "
                   "Lightbox's own storage port with --move. Without --study-uid every study that the filters "
                   "match is retrieved.");
    addNodeOptions(cl);
    addQueryOptions(cl);
    cl.option("out", "DIR", "The cache folder to write into.", true);
    cl.flag("move", "Use C-MOVE (needs --port, known to the PACS) instead of C-GET.");
    Call call;
    if (!parseCall(cl, argv, 0, 0, call))
        return cl.exitCode();
    const net::PacsNode& node = call.node;
    const net::LocalAe& local = call.local;
    net::Control& control = call.control;
    if (cl.has("move") && !cl.has("port"))
        return cl.usageError("--move needs --port, the storage port the PACS knows Lightbox by");
    if (cl.has("level"))
        return cl.usageError("get retrieves studies, or one series with --series-uid; --level is for find");
    const net::Query query = queryOptions(cl);
    if (const std::string why = net::validateQuery(query); !why.empty())
        return cl.usageError(QString::fromStdString(why));
    if (!query.seriesUid.empty() && query.studyUid.empty())
        return cl.usageError("--series-uid needs --study-uid");
    std::vector<std::string> studies;
    if (!query.studyUid.empty()) {
        studies.push_back(query.studyUid);
    } else {
        if (query.patientName.empty() && query.patientId.empty() && query.studyDate.empty() && query.modality.empty() &&
            query.accessionNumber.empty())
            return cl.usageError("give --study-uid, or filters (--patient, --patient-id, --date, --modality, "
                                 "--accession) that pick the studies");
        auto found = net::find(node, local, net::Level::Study, query, {}, control);
        if (!found)
            return failed(found.error());
        if (found->truncated)
            return failed("more than " + std::to_string(found->matches.size()) + " studies match; narrow the search");
        for (const auto& m : found->matches)
            studies.push_back(m.studyUid);
        if (studies.empty())
            return failed("no study matches");
    }
    net::Progress last;
    const bool terminal = ::isatty(STDERR_FILENO);
    control.progress = [&](const net::Progress& p) {
        if (terminal && (p.completed != last.completed || p.remaining != last.remaining))
            std::fprintf(stderr, "\r%d done, %d to go, %d failed   ", p.completed, std::max(0, p.remaining), p.failed);
        last = p;
    };
    net::StorageCache cache(cl.text("out"));
    for (const std::string& study : studies) {
        net::RetrieveRequest request;
        request.level = query.seriesUid.empty() ? net::Level::Study : net::Level::Series;
        request.studyUid = study;
        request.seriesUid = query.seriesUid;
        request.cacheDir = cl.text("out");
        last = {};
        auto r = cl.has("move") ? net::move(node, local, request, control) : net::get(node, local, request, control);
        if (terminal && (last.completed || last.remaining > 0))
            std::fprintf(stderr, "\r%60s\r", "");
        if (!r)
            return failed(r.error());
        cache.touch(study);
        std::printf("%s: %zu instance(s), %.1f MB in %.0f ms\n", study.c_str(), r->files.size(), r->bytes / 1e6,
                    r->elapsedMs);
    }
    return 0;
}

int runStore(const QStringList& argv)
{
    CommandLine cl("pacs store", "FILE...", "C-STORE: send DICOM files to the PACS, each in its own transfer syntax.");
    addNodeOptions(cl);
    Call call;
    if (!parseCall(cl, argv, 1, -1, call))
        return cl.exitCode();
    const net::PacsNode& node = call.node;
    const net::LocalAe& local = call.local;
    net::Control& control = call.control;
    std::vector<std::string> files;
    for (const QString& f : cl.positional())
        files.push_back(f.toStdString());
    auto r = net::store(node, local, files, control);
    if (!r)
        return failed(r.error());
    for (const auto& line : r->failures)
        std::fprintf(stderr, "lightbox-cli pacs: %s\n", line.c_str());
    std::printf("%d sent, %d failed (%.1f MB in %.0f ms)\n", r->sent, r->failed, r->bytes / 1e6, r->elapsedMs);
    return r->failed ? kFailed : 0;
}

} // namespace

int runPacs(const QStringList& args)
{
    static const struct {
        const char* name;
        int (*run)(const QStringList&);
        const char* summary;
    } kSub[] = {{"echo", runEcho, "is the PACS there (C-ECHO)"},
                {"find", runFind, "search it (C-FIND), as text or --json"},
                {"get", runGet, "retrieve studies or a series into a folder (C-GET, or C-MOVE with --move)"},
                {"store", runStore, "send DICOM files to it (C-STORE)"}};
    const QString sub = args.value(0);
    for (const auto& s : kSub)
        if (sub == QLatin1String(s.name))
            return s.run(args.mid(1));
    const bool help = sub == "--help" || sub == "-h";
    FILE* out = help ? stdout : stderr;
    if (!help) {
        std::fprintf(stderr, "lightbox-cli pacs: %s (lightbox-cli pacs --help lists them)\n",
                     sub.isEmpty() ? "needs a subcommand: echo, find, get or store"
                                   : qPrintable("unknown subcommand '" + sub + "'; it is echo, find, get or store"));
        return kUsage;
    }
    std::fprintf(out, "usage: lightbox-cli pacs SUBCOMMAND --peer AET@HOST:PORT [options]\n\nsubcommands:\n");
    for (const auto& s : kSub)
        std::fprintf(out, "  %-6s %s\n", s.name, s.summary);
    std::fprintf(out, "\nlightbox-cli pacs SUBCOMMAND --help shows its options.\n");
    return 0;
}

} // namespace lightbox::cli
