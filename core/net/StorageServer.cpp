#include "StorageServer.h"

#include "InstanceSink.h"
#include "Scu.h"

#include <dcmtk/dcmdata/dcuid.h>
#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/dcmnet/scp.h>

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

namespace lightbox::net {
namespace {

// The numeric addresses `host` resolves to ("127.0.0.1", "::1").
std::set<std::string> addressesOf(const std::string& host)
{
    std::set<std::string> out;
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* list = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &list) != 0)
        return out;
    for (addrinfo* a = list; a; a = a->ai_next) {
        char text[NI_MAXHOST];
        if (getnameinfo(a->ai_addr, a->ai_addrlen, text, sizeof text, nullptr, 0, NI_NUMERICHOST) == 0)
            out.insert(text);
    }
    freeaddrinfo(list);
    return out;
}

// "::ffff:127.0.0.1" is 127.0.0.1 for this purpose.
std::string plainAddress(std::string address)
{
    if (address.rfind("::ffff:", 0) == 0 && address.find('.') != std::string::npos)
        address = address.substr(7);
    return address;
}

// An AE title as DCMTK hands it over: padded with spaces.
std::string trimmed(const char* text)
{
    std::string s(text ? text : "");
    const auto first = s.find_first_not_of(' ');
    if (first == std::string::npos)
        return {};
    return s.substr(first, s.find_last_not_of(' ') - first + 1);
}

// A port nothing listens on now; DCMTK 3.6.7's DcmSCP cannot listen on port 0 itself.
int freePort()
{
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    socklen_t len = sizeof a;
    int port = 0;
    if (s >= 0 && ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
        ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) == 0)
        port = ntohs(a.sin_port);
    if (s >= 0)
        ::close(s);
    return port;
}

class Scp : public DcmSCP {
public:
    Scp(const StorageServerOptions& options, InstanceSink& sink) : m_options(options), m_sink(sink)
    {
        for (const PacsNode& peer : options.peers)
            for (const std::string& a : addressesOf(peer.host))
                m_allowed.insert({peer.aeTitle, plainAddress(a)});
    }

    std::atomic<bool> stopping{false};

    std::vector<std::string> refusals() const
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        return m_refusals;
    }

protected:
    void notifyAssociationRequest(const T_ASC_Parameters& params, DcmSCPActionType&) override
    {
        const std::string calling = trimmed(params.DULparams.callingAPTitle);
        const std::string called = trimmed(params.DULparams.calledAPTitle);
        const std::string from = plainAddress(params.DULparams.callingPresentationAddress);
        m_refuse.clear();
        if (called != m_options.local.aeTitle) {
            m_refuse = "called AE title '" + called + "' is not " + m_options.local.aeTitle;
        } else {
            bool titleKnown = false, match = false;
            for (const auto& [ae, address] : m_allowed) {
                titleKnown = titleKnown || ae == calling;
                match = match || (ae == calling && address == from);
            }
            if (!titleKnown)
                m_refuse = "AE title not configured";
            else if (!match)
                m_refuse = "AE title configured for another host";
        }
        if (!m_refuse.empty()) {
            std::lock_guard<std::mutex> lock(m_mutex);
            m_refusals.push_back("refused AE '" + calling.substr(0, 16) + "' from " + from.substr(0, 64) + ": " +
                                 m_refuse);
        }
    }

    OFBool checkCalledAETitleAccepted(const OFString& calledAE) override
    {
        return trimmed(calledAE.c_str()) == m_options.local.aeTitle;
    }

    OFBool checkCallingAETitleAccepted(const OFString&) override { return m_refuse.empty(); }

    OFCondition handleIncomingCommand(T_DIMSE_Message* message, const DcmPresentationContextInfo& info) override
    {
        if (message->CommandField != DIMSE_C_STORE_RQ)
            return DcmSCP::handleIncomingCommand(message, info);
        // Stopping: an error here makes DcmSCP abort the association.
        if (stopping.load())
            return NET_EC_StopAfterAssociation;
        T_DIMSE_C_StoreRQ& request = message->msg.CStoreRQ;
        DcmDataset* dataset = nullptr;
        OFCondition cond = receiveSTORERequest(request, info.presentationContextID, dataset);
        if (cond.bad()) {
            delete dataset;
            return cond;
        }
        Uint16 status = STATUS_Success;
        if (auto written = m_sink.write(*dataset); !written) {
            status = STATUS_STORE_Error_CannotUnderstand;
            std::lock_guard<std::mutex> lock(m_mutex);
            m_refusals.push_back(written.error());
        }
        delete dataset;
        return sendSTOREResponse(info.presentationContextID, request, status);
    }

    OFBool stopAfterCurrentAssociation() override { return stopping.load(); }
    OFBool stopAfterConnectionTimeout() override { return stopping.load(); }

private:
    const StorageServerOptions& m_options;
    InstanceSink& m_sink;
    std::set<std::pair<std::string, std::string>> m_allowed;
    std::string m_refuse; // for the association being negotiated (one at a time)
    mutable std::mutex m_mutex;
    std::vector<std::string> m_refusals;
};

} // namespace

class StorageServer::Impl {
public:
    explicit Impl(StorageServerOptions o) : options(std::move(o)), sink(options.cacheDir), scp(options, sink) {}
    StorageServerOptions options;
    InstanceSink sink;
    Scp scp;
    std::shared_ptr<DcmTLSTransportLayer> tls;
    std::thread thread;
    int port = 0;
};

StorageServer::StorageServer(StorageServerOptions options) : m_impl(std::make_unique<Impl>(std::move(options))) {}

StorageServer::~StorageServer()
{
    stop();
}

Result<int> StorageServer::start()
{
    setUpDcmtk();
    Impl& d = *m_impl;
    if (d.thread.joinable())
        return d.port;
    const LocalAe& local = d.options.local;
    if (const std::string why = validateAeTitle(local.aeTitle); !why.empty())
        return Result<int>::failure("storage SCP: " + why);
    if (local.port < 0 || local.port > 65535)
        return Result<int>::failure("storage SCP: the port is not in 0..65535");
    DcmSCPConfig& cfg = d.scp.getConfig();
    cfg.setAETitle(local.aeTitle.c_str());
    const int port = local.port ? local.port : freePort();
    cfg.setPort(static_cast<Uint16>(port));
    const Uint32 timeout = static_cast<Uint32>(std::max(1, local.timeoutSeconds));
    cfg.setACSETimeout(timeout);
    cfg.setDIMSETimeout(timeout);
    cfg.setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    // Wakes up every second to see whether stop() was called.
    cfg.setConnectionBlockingMode(DUL_NOBLOCK);
    cfg.setConnectionTimeout(1);
    cfg.setHostLookupEnabled(OFFalse); // numeric calling addresses, compared with the peers'
    cfg.setMaxReceivePDULength(ASC_MAXIMUMPDUSIZE);

    OFList<OFString> xfers;
    for (const auto& x : compressedTransferSyntaxes())
        xfers.push_back(x.c_str());
    for (const auto& x : uncompressedTransferSyntaxes())
        xfers.push_back(x.c_str());
    xfers.push_back(UID_BigEndianExplicitTransferSyntax);
    OFList<OFString> plain;
    for (const auto& x : uncompressedTransferSyntaxes())
        plain.push_back(x.c_str());
    cfg.addPresentationContext(UID_VerificationSOPClass, plain);
    for (int i = 0; i < numberOfDcmAllStorageSOPClassUIDs; ++i)
        cfg.addPresentationContext(dcmAllStorageSOPClassUIDs[i], xfers);

    if (!local.tls.certFile.empty() || !local.tls.keyFile.empty()) {
        auto tls = makeTlsLayer(local.tls, NET_ACCEPTOR);
        if (!tls)
            return Result<int>::failure("storage SCP: " + tls.error());
        d.tls = tls.value();
        cfg.setTransportLayer(d.tls.get());
    }
    OFCondition cond = d.scp.openListenPort();
    if (cond.bad())
        return Result<int>::failure("storage SCP cannot listen on port " + std::to_string(port) + ": " +
                                    conditionText(cond));
    d.port = port;
    d.scp.stopping = false;
    d.thread = std::thread([&d] { d.scp.acceptAssociations(); });
    return d.port;
}

void StorageServer::stop()
{
    Impl& d = *m_impl;
    if (!d.thread.joinable())
        return;
    d.scp.stopping = true;
    // A connection that closes at once wakes the accept loop now instead of at its next timeout.
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    if (s >= 0) {
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<uint16_t>(d.port));
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
        ::close(s);
    }
    d.thread.join();
}

std::vector<std::string> StorageServer::files() const
{
    return m_impl->sink.files();
}

std::vector<std::string> StorageServer::sopInstanceUids() const
{
    return m_impl->sink.sopInstanceUids();
}

std::uint64_t StorageServer::bytes() const
{
    return m_impl->sink.bytes();
}

std::vector<std::string> StorageServer::refusals() const
{
    return m_impl->scp.refusals();
}

void StorageServer::removeReceived()
{
    m_impl->sink.rollback();
}

} // namespace lightbox::net
