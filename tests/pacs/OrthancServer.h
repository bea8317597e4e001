#pragma once
// A throw-away Orthanc for the PACS tests: its own configuration, storage and index in a
// temporary folder, DICOM and HTTP ports picked free on loopback, killed by the destructor.

#include <QProcess>
#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>

namespace lightbox::test {

class OrthancServer {
public:
    struct Modality {
        QString aeTitle, host;
        int port = 0;
    };
    struct Options {
        QString aeTitle = QStringLiteral("ORTHANC");
        QList<Modality> modalities; ///< the C-MOVE destinations it knows
        bool tls = false;           ///< DICOM TLS with the three files below
        QString tlsCert, tlsKey, tlsCa;
    };

    static QString executable(); ///< /usr/sbin/Orthanc, or empty when it is not installed
    /// A TCP port nothing listens on now (bound to 0 and released).
    static int freePort();
    /// A socket bound to a free loopback port (listening when asked), or -1.
    static int loopbackSocket(bool listening, int* port);

    explicit OrthancServer(Options options);
    ~OrthancServer();

    /// Writes the configuration, starts Orthanc and waits (20 s at most) until it answers a
    /// DICOM echo. False with the reason (and the end of its log) in `error`.
    bool start(QString* error);
    /// SIGKILL, as a crash or a pulled cable would look to the peer.
    void kill();
    qint64 pid() const { return m_process.processId(); }

    int dicomPort() const { return m_dicomPort; }
    QString aeTitle() const { return m_options.aeTitle; }
    QString log() const;

private:
    Options m_options;
    QTemporaryDir m_dir;
    QProcess m_process;
    int m_dicomPort = 0, m_httpPort = 0;
};

} // namespace lightbox::test
