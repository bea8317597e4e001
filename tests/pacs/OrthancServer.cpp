#include "OrthancServer.h"

#include <net/PacsClient.h>

#include <QDeadlineTimer>
#include <QFile>
#include <QFileInfo>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QThread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

namespace lightbox::test {

QString OrthancServer::executable()
{
    const QString path = QStringLiteral("/usr/sbin/Orthanc");
    return QFileInfo(path).isExecutable() ? path : QString();
}

int OrthancServer::loopbackSocket(bool listening, int* port)
{
    const int s = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (s < 0 || ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || (listening && ::listen(s, 4) != 0) ||
        ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
        if (s >= 0)
            ::close(s);
        return -1;
    }
    *port = ntohs(a.sin_port);
    return s;
}

int OrthancServer::freePort()
{
    int port = 0;
    const int s = loopbackSocket(false, &port);
    if (s >= 0)
        ::close(s);
    return port;
}

OrthancServer::OrthancServer(Options options) : m_options(std::move(options)) {}

OrthancServer::~OrthancServer()
{
    kill();
}

void OrthancServer::kill()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(10000);
    }
}

QString OrthancServer::log() const
{
    QFile f(m_dir.filePath("orthanc.log"));
    if (!f.open(QIODevice::ReadOnly))
        return {};
    return QString::fromUtf8(f.readAll().right(3000));
}

bool OrthancServer::start(QString* error)
{
    if (executable().isEmpty()) {
        *error = "Orthanc is not installed";
        return false;
    }
    m_dicomPort = freePort();
    m_httpPort = freePort();
    QJsonObject modalities;
    for (const Modality& m : m_options.modalities)
        modalities[m.aeTitle.toLower()] = QJsonArray{m.aeTitle, m.host, m.port};
    QJsonObject c{
        {"Name", "LightboxTest"},
        {"StorageDirectory", m_dir.filePath("storage")},
        {"IndexDirectory", m_dir.filePath("index")},
        {"Plugins", QJsonArray{}},
        {"DicomAet", m_options.aeTitle},
        {"DicomPort", m_dicomPort},
        {"HttpPort", m_httpPort},
        {"RemoteAccessAllowed", false},
        {"AuthenticationEnabled", false},
        {"DicomCheckCalledAet", true},
        // Any calling AE may echo, store, find and retrieve; only C-MOVE destinations must be
        // known (DicomModalities).
        {"DicomAlwaysAllowEcho", true},
        {"DicomAlwaysAllowStore", true},
        {"DicomAlwaysAllowFind", true},
        {"DicomAlwaysAllowGet", true},
        {"DicomAlwaysAllowMove", true},
        {"DicomModalities", modalities},
        {"SaveJobs", false},
        {"StorageCompression", false},
        {"DicomScpTimeout", 30},
        {"DeidentifyLogs", true},
    };
    if (m_options.tls) {
        c["DicomTlsEnabled"] = true;
        c["DicomTlsCertificate"] = m_options.tlsCert;
        c["DicomTlsPrivateKey"] = m_options.tlsKey;
        c["DicomTlsTrustedCertificates"] = m_options.tlsCa;
        c["DicomTlsRemoteCertificateRequired"] = true;
    }
    const QString config = m_dir.filePath("orthanc.json");
    QFile f(config);
    if (!f.open(QIODevice::WriteOnly) || f.write(QJsonDocument(c).toJson()) < 0) {
        *error = "cannot write " + config;
        return false;
    }
    f.close();
    // Orthanc's DCMTK leaves Nagle's algorithm on unless told: each answer then waits for a
    // delayed ACK (~40 ms per message on loopback).
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert("TCP_NODELAY", "1");
    m_process.setProcessEnvironment(env);
    m_process.setProcessChannelMode(QProcess::MergedChannels);
    m_process.setStandardOutputFile(m_dir.filePath("orthanc.log"));
    m_process.start(executable(), {config});
    if (!m_process.waitForStarted(10000)) {
        *error = "Orthanc did not start: " + m_process.errorString();
        return false;
    }
    net::PacsNode node{m_options.aeTitle.toStdString(), "127.0.0.1", m_dicomPort, m_options.tls};
    net::LocalAe local;
    local.timeoutSeconds = 2;
    local.tls = {m_options.tlsCert.toStdString(), m_options.tlsKey.toStdString(), m_options.tlsCa.toStdString()};
    QDeadlineTimer deadline(20000 * LIGHTBOX_TIME_FACTOR);
    std::string last;
    while (!deadline.hasExpired()) {
        if (m_process.state() == QProcess::NotRunning) {
            *error = "Orthanc stopped: " + log();
            return false;
        }
        auto r = net::echo(node, local);
        if (r)
            return true;
        last = r.error();
        QThread::msleep(100);
    }
    *error = "Orthanc did not answer within 20 s (" + QString::fromStdString(last) + "): " + log();
    return false;
}

} // namespace lightbox::test
