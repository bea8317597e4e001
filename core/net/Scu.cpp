#include "Scu.h"

#include <dcmtk/dcmnet/diutil.h>
#include <dcmtk/oflog/oflog.h>

#include <cstdlib>
#include <filesystem>
#include <mutex>

namespace lightbox::net {

void setUpDcmtk()
{
    static std::once_flag once;
    std::call_once(once, [] {
        OFLog::configure(OFLogger::OFF_LOG_LEVEL);
        // DCMTK as Debian builds it leaves Nagle's algorithm on unless this is set: every
        // small message then waits for a delayed ACK (40 ms), 50 times slower on a LAN. Set
        // once, before the first association, unless the user chose a value.
        ::setenv("TCP_NODELAY", "1", 0);
    });
}

std::string conditionText(const OFCondition& cond)
{
    std::string text = cond.text();
    for (char& c : text)
        if (c == '\n' || c == '\r')
            c = ';';
    return text;
}

Result<std::shared_ptr<DcmTLSTransportLayer>> makeTlsLayer(const TlsOptions& tls, T_ASC_NetworkRole role)
{
    using R = Result<std::shared_ptr<DcmTLSTransportLayer>>;
    const bool acceptor = role == NET_ACCEPTOR;
    if (tls.caFile.empty() && !acceptor)
        return R::failure("TLS needs the CA certificate that the peer's certificate chains to");
    if (acceptor && (tls.certFile.empty() || tls.keyFile.empty()))
        return R::failure("a TLS storage SCP needs a certificate and its private key");
    if (tls.certFile.empty() != tls.keyFile.empty())
        return R::failure("TLS needs both the certificate and its private key, or neither");
    for (const std::string* f : {&tls.certFile, &tls.keyFile, &tls.caFile}) {
        std::error_code ec;
        if (!f->empty() && !std::filesystem::is_regular_file(*f, ec))
            return R::failure("TLS file " + *f + " does not exist");
    }
    auto layer = std::make_shared<DcmTLSTransportLayer>(role, nullptr, OFTrue);
    if (!*layer)
        return R::failure("cannot set up TLS (OpenSSL)");
    OFCondition cond = layer->setTLSProfile(TSP_Profile_BCP195);
    if (cond.good())
        cond = layer->activateCipherSuites();
    if (cond.bad())
        return R::failure("cannot set up TLS: " + conditionText(cond));
    if (!tls.certFile.empty()) {
        cond = layer->setPrivateKeyFile(tls.keyFile.c_str(), DCF_Filetype_PEM);
        if (cond.bad())
            return R::failure("cannot load the TLS private key " + tls.keyFile + ": " + conditionText(cond));
        cond = layer->setCertificateFile(tls.certFile.c_str(), DCF_Filetype_PEM);
        if (cond.bad())
            return R::failure("cannot load the TLS certificate " + tls.certFile + ": " + conditionText(cond));
        if (!layer->checkPrivateKeyMatchesCertificate())
            return R::failure("the TLS private key " + tls.keyFile + " does not match the certificate " + tls.certFile);
    }
    if (!tls.caFile.empty()) {
        cond = layer->addTrustedCertificateFile(tls.caFile.c_str(), DCF_Filetype_PEM);
        if (cond.bad())
            return R::failure("cannot load the TLS CA certificate " + tls.caFile + ": " + conditionText(cond));
        layer->setCertificateVerification(DCV_requireCertificate);
    } else {
        layer->setCertificateVerification(DCV_ignoreCertificate);
    }
    return layer;
}

const std::vector<std::string>& compressedTransferSyntaxes()
{
    static const std::vector<std::string> list = {
        UID_JPEG2000LosslessOnlyTransferSyntax, UID_JPEG2000TransferSyntax,
        UID_JPEGLSLosslessTransferSyntax,       UID_JPEGLSLossyTransferSyntax,
        UID_JPEGProcess14SV1TransferSyntax,     UID_JPEGProcess14TransferSyntax,
        UID_JPEGProcess1TransferSyntax,         UID_JPEGProcess2_4TransferSyntax,
        UID_RLELosslessTransferSyntax,          UID_DeflatedExplicitVRLittleEndianTransferSyntax};
    return list;
}

const std::vector<std::string>& uncompressedTransferSyntaxes()
{
    static const std::vector<std::string> list = {UID_LittleEndianExplicitTransferSyntax,
                                                  UID_LittleEndianImplicitTransferSyntax};
    return list;
}

Scu::Scu(const PacsNode& node, const LocalAe& local) : m_node(node), m_local(local)
{
    setUpDcmtk();
}

std::string Scu::open(const std::vector<Context>& contexts)
{
    const Uint32 timeout = static_cast<Uint32>(std::max(1, m_local.timeoutSeconds));
    setAETitle(m_local.aeTitle.c_str());
    setPeerAETitle(m_node.aeTitle.c_str());
    setPeerHostName(m_node.host.c_str());
    setPeerPort(static_cast<Uint16>(m_node.port));
    setACSETimeout(timeout);
    setDIMSETimeout(timeout);
    setDIMSEBlockingMode(DIMSE_NONBLOCKING);
    setConnectionTimeout(static_cast<Sint32>(timeout));
    setMaxReceivePDULength(ASC_MAXIMUMPDUSIZE);
    for (const Context& c : contexts) {
        OFList<OFString> xfers;
        for (const auto& x : c.transferSyntaxes)
            xfers.push_back(x.c_str());
        OFCondition cond = addPresentationContext(c.abstractSyntax.c_str(), xfers, c.role);
        if (cond.bad())
            return "cannot propose " + c.abstractSyntax + ": " + conditionText(cond);
    }
    OFCondition cond = initNetwork();
    if (cond.bad())
        return "cannot start the network: " + conditionText(cond);
    if (m_node.tls) {
        auto tls = makeTlsLayer(m_local.tls, NET_REQUESTOR);
        if (!tls)
            return tls.error();
        m_tls = tls.value();
        cond = useSecureConnection(m_tls.get());
        if (cond.bad())
            return "cannot set up TLS: " + conditionText(cond);
    }
    cond = negotiateAssociation();
    if (cond == DUL_ASSOCIATIONREJECTED)
        return peerName() + " rejected the association (is " + m_node.aeTitle + " its AE title, does it know " +
               m_local.aeTitle + "?)";
    if (cond == NET_EC_NoAcceptablePresentationContexts)
        return peerName() + " accepted none of the services Lightbox asked for";
    if (cond.bad()) {
        const std::string text = conditionText(cond);
        if (text.find("imeout") != std::string::npos || cond == DUL_READTIMEOUT)
            return peerName() + " did not answer within " + std::to_string(timeout) + " s";
        return "cannot connect to " + peerName() + ": " + text;
    }
    m_open = true;
    return {};
}

void Scu::close(bool abort)
{
    if (m_open && isConnected()) {
        if (abort)
            abortAssociation();
        else
            releaseAssociation();
    }
    m_open = false;
}

OFCondition Scu::handleFINDResponse(T_ASC_PresentationContextID presID, QRResponse* response,
                                    OFBool& waitForNextResponse)
{
    OFCondition cond = DcmSCU::handleFINDResponse(presID, response, waitForNextResponse);
    if (cond.good() && response && onFind)
        onFind(*response, waitForNextResponse);
    return cond;
}

OFCondition Scu::handleMOVEResponse(T_ASC_PresentationContextID presID, RetrieveResponse* response,
                                    OFBool& waitForNextResponse)
{
    OFCondition cond = DcmSCU::handleMOVEResponse(presID, response, waitForNextResponse);
    if (cond.good() && response && onRetrieve)
        onRetrieve(*response, waitForNextResponse);
    return cond;
}

OFCondition Scu::handleCGETResponse(T_ASC_PresentationContextID presID, RetrieveResponse* response,
                                    OFBool& continueCGETSession)
{
    OFCondition cond = DcmSCU::handleCGETResponse(presID, response, continueCGETSession);
    if (cond.good() && response && onRetrieve)
        onRetrieve(*response, continueCGETSession);
    return cond;
}

OFCondition Scu::handleSTORERequest(T_ASC_PresentationContextID, DcmDataset* incomingObject,
                                    OFBool& continueCGETSession, Uint16& cStoreReturnStatus)
{
    // The session deletes the data set after this returns.
    if (!incomingObject || !onStore) {
        cStoreReturnStatus = STATUS_STORE_Error_CannotUnderstand;
        return EC_Normal;
    }
    cStoreReturnStatus = onStore(*incomingObject, continueCGETSession);
    return EC_Normal;
}

void Scu::notifySENDProgress(unsigned long byteCount)
{
    if (onBytes)
        onBytes(byteCount);
}

void Scu::notifyRECEIVEProgress(unsigned long byteCount)
{
    if (onBytes)
        onBytes(byteCount);
}

} // namespace lightbox::net
