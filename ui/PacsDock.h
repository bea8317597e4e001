#pragma once

#include <net/PacsClient.h>

#include <QString>
#include <QStringList>
#include <QWidget>

#include <functional>
#include <map>

class QCheckBox;
class QComboBox;
class QDateEdit;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTreeWidget;
class QTreeWidgetItem;

namespace lightbox::jobs {
class PacsJob;
}

namespace lightbox::ui {

/// The PACS dock: a list of DICOM nodes with an echo, a study search (patient name or ID,
/// dates, modality, accession number) whose results show patient, study and series in a tree,
/// a retrieve (C-GET, or C-MOVE to Lightbox's own storage SCP) with progress and cancel whose
/// files open in the viewer, and sending the shown file, a Secondary Capture of the view or
/// the report to a node. Every call runs in the background (jobs::PacsJob); the dock stays
/// usable while it runs.
class PacsDock : public QWidget {
    Q_OBJECT
public:
    /// Makes a file to send and returns its path, or an empty path with the reason in `error`.
    using SendSource = std::function<QString(QString* error)>;
    /// What the Send buttons send: the file shown, a Secondary Capture of the view, the report.
    struct SendSources {
        SendSource currentFile, secondaryCapture, report;
    };

    explicit PacsDock(QWidget* parent = nullptr);
    ~PacsDock() override;

    void setSendSources(SendSources sources);

    // The calls the buttons make, for the window's menus and for tests.
    void echo();
    void search();
    void searchMore();
    void retrieveSelected();
    void cancelRetrieve();
    void send(const QString& what); ///< "file", "capture" or "report"
    void clearCache();

    QString statusText() const;
    QTreeWidget* results() const { return m_tree; }
    jobs::PacsJob* job() const { return m_job; }
    QString cacheFolder() const;
    bool retrieving() const { return m_retrieveId != 0; }

protected:
    void showEvent(QShowEvent* event) override;

signals:
    /// A retrieve finished: its files, the first to open.
    void filesRetrieved(const QStringList& files);
    /// A call answered (echo, search, series, retrieve, send), with or without an error.
    void answered();

private:
    // What the result tree's items carry (column 0).
    static constexpr int kUidRole = Qt::UserRole;        ///< study or series UID; a patient's key
    static constexpr int kLevelRole = Qt::UserRole + 1;  ///< net::Level
    static constexpr int kLoadedRole = Qt::UserRole + 2; ///< a study's series were asked for

    void buildNodeBox();
    void buildLocalBox();
    void buildSearchBox();
    void loadSettings();
    void saveNode();
    void removeNode();
    void nodeChosen(int index);
    void storeLocalSettings() const;
    Result<net::PacsNode> node();
    net::LocalAe local() const;
    Result<net::Query> query() const;
    void setStatus(const QString& text, bool error = false);
    void addStudies(const net::FindPage& page);
    void addSeries(QTreeWidgetItem* study, const net::FindPage& page);
    void studyExpanded(QTreeWidgetItem* item);
    void updateCacheLabel();
    void updateButtons();

    jobs::PacsJob* m_job;
    SendSources m_sources;

    QComboBox* m_nodes;
    QLineEdit* m_peerAe;
    QLineEdit* m_host;
    QSpinBox* m_port;
    QCheckBox* m_tls;
    QLineEdit* m_ownAe;
    QSpinBox* m_ownPort;
    QComboBox* m_retrieveBy;
    QLineEdit* m_tlsCa;
    QLineEdit* m_tlsCert;
    QLineEdit* m_tlsKey;
    QSpinBox* m_cacheLimit;
    QLabel* m_cacheLabel;
    QLineEdit* m_patientName;
    QLineEdit* m_patientId;
    QLineEdit* m_accession;
    QComboBox* m_modality;
    QCheckBox* m_fromOn;
    QDateEdit* m_from;
    QCheckBox* m_toOn;
    QDateEdit* m_to;
    QPushButton* m_search;
    QPushButton* m_more;
    QLabel* m_pageLabel;
    QTreeWidget* m_tree;
    QPushButton* m_retrieve;
    QPushButton* m_cancel;
    QProgressBar* m_progress;
    QLabel* m_status;
    QPlainTextEdit* m_log;

    quint64 m_findId = 0;
    quint64 m_retrieveId = 0;
    std::map<quint64, QString> m_seriesFinds; ///< job id -> the study UID whose series it finds
    net::Query m_lastQuery;
    net::PacsNode m_lastNode;
    int m_nextOffset = 0;
    int m_studyCount = 0;
};

} // namespace lightbox::ui
