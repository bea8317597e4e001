#pragma once
// Internal to core/net (it includes DCMTK): the DcmSCU that every call of PacsClient.h runs
// one association with, its hooks turned into std::function members, and the pieces shared
// with the storage SCP (TLS layer, DCMTK's logger, conditions as one line).

#include <net/PacsTypes.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmnet/scu.h>
#include <dcmtk/dcmtls/tlslayer.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace lightbox::net {

/// Once per process: turns DCMTK's own logger off (nothing it says may reach stderr, and its
/// debug lines would carry patient data) and Nagle's algorithm off (TCP_NODELAY).
void setUpDcmtk();

/// "message; sub-message" from a DCMTK condition (its text can span several lines).
std::string conditionText(const OFCondition& cond);

/// A TLS layer for `role` from the files in `tls`, or the reason it cannot be made.
Result<std::shared_ptr<DcmTLSTransportLayer>> makeTlsLayer(const TlsOptions& tls, T_ASC_NetworkRole role);

/// The encapsulated (compressed) transfer syntaxes a retrieve keeps as they come, and the
/// uncompressed ones (Explicit, then Implicit VR Little Endian).
const std::vector<std::string>& compressedTransferSyntaxes();
const std::vector<std::string>& uncompressedTransferSyntaxes();

/// One presentation context to propose: an abstract syntax, its transfer syntaxes, a role.
struct Context {
    std::string abstractSyntax;
    std::vector<std::string> transferSyntaxes;
    T_ASC_SC_ROLE role = ASC_SC_ROLE_DEFAULT;
};

class Scu : public DcmSCU {
public:
    Scu(const PacsNode& node, const LocalAe& local);

    /// Connects and negotiates `contexts`; the one-line reason on failure.
    std::string open(const std::vector<Context>& contexts);
    /// Releases the association (aborts it when `abort`); safe to call twice.
    void close(bool abort = false);
    std::string peerName() const { return m_node.toString(); }

    /// A C-FIND response: `wait` says whether more are to come; may be cleared to stop.
    std::function<void(QRResponse&, OFBool& wait)> onFind;
    /// A C-GET or C-MOVE response, as onFind.
    std::function<void(RetrieveResponse&, OFBool& wait)> onRetrieve;
    /// A C-STORE within a C-GET: returns the DIMSE status to answer; may clear `more`.
    std::function<Uint16(DcmDataset&, OFBool& more)> onStore;
    /// Bytes of the data set now being received or sent (from the start of that data set).
    std::function<void(unsigned long)> onBytes;

    using DcmSCU::sendCANCELRequest;

protected:
    OFCondition handleFINDResponse(T_ASC_PresentationContextID presID, QRResponse* response,
                                   OFBool& waitForNextResponse) override;
    OFCondition handleMOVEResponse(T_ASC_PresentationContextID presID, RetrieveResponse* response,
                                   OFBool& waitForNextResponse) override;
    OFCondition handleCGETResponse(T_ASC_PresentationContextID presID, RetrieveResponse* response,
                                   OFBool& continueCGETSession) override;
    OFCondition handleSTORERequest(T_ASC_PresentationContextID presID, DcmDataset* incomingObject,
                                   OFBool& continueCGETSession, Uint16& cStoreReturnStatus) override;
    void notifySENDProgress(unsigned long byteCount) override;
    void notifyRECEIVEProgress(unsigned long byteCount) override;

private:
    PacsNode m_node;
    LocalAe m_local;
    std::shared_ptr<DcmTLSTransportLayer> m_tls;
    bool m_open = false;
};

} // namespace lightbox::net
