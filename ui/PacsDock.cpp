// The PACS dock: its widgets, the nodes and this workstation's settings, the cache. The
// calls (echo, search, retrieve, send) are in PacsDockCalls.cpp.
#include "PacsDock.h"

#include "SettingsWriter.h"

#include <jobs/PacsJob.h>
#include <net/StorageCache.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDateEdit>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QLocale>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QToolButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>

namespace lightbox::ui {
namespace {

constexpr int kTimeoutSeconds = 30;
const QString kGroup = QStringLiteral("pacs/");

QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

QString megabytes(std::uint64_t bytes)
{
    return QLocale().toString(double(bytes) / 1e6, 'f', 1) + QStringLiteral(" MB");
}

} // namespace

PacsDock::PacsDock(QWidget* parent) : QWidget(parent), m_job(new jobs::PacsJob(this))
{
    auto* layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    buildNodeBox();
    buildLocalBox();
    buildSearchBox();
    for (QWidget* w : findChildren<QGroupBox*>(QString(), Qt::FindDirectChildrenOnly))
        layout->addWidget(w);

    m_tree = new QTreeWidget;
    m_tree->setObjectName(QStringLiteral("pacsResults"));
    m_tree->setHeaderLabels(
        {tr("Patient / study / series"), tr("ID / accession"), tr("Date"), tr("Modality"), tr("Images")});
    m_tree->setRootIsDecorated(true);
    m_tree->setSelectionMode(QAbstractItemView::SingleSelection);
    m_tree->header()->setStretchLastSection(false);
    m_tree->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    for (int c = 1; c < 5; ++c)
        m_tree->header()->setSectionResizeMode(c, QHeaderView::ResizeToContents);
    m_tree->setMinimumHeight(160);
    layout->addWidget(m_tree, 1);
    connect(m_tree, &QTreeWidget::itemExpanded, this, &PacsDock::studyExpanded);
    connect(m_tree, &QTreeWidget::itemSelectionChanged, this, &PacsDock::updateButtons);
    connect(m_tree, &QTreeWidget::itemDoubleClicked, this, [this](QTreeWidgetItem* item) {
        if (item->data(0, kLevelRole).toInt() != int(net::Level::Patient))
            retrieveSelected();
    });

    auto* retrieveRow = new QHBoxLayout;
    m_retrieve = new QPushButton(tr("Retrieve"));
    m_retrieve->setObjectName(QStringLiteral("pacsRetrieve"));
    m_retrieve->setToolTip(tr("Retrieve the chosen study or series into the cache and open it"));
    m_cancel = new QPushButton(tr("Cancel"));
    m_cancel->setObjectName(QStringLiteral("pacsCancel"));
    m_progress = new QProgressBar;
    m_progress->setTextVisible(true);
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    m_progress->setFormat(QString());
    retrieveRow->addWidget(m_retrieve);
    retrieveRow->addWidget(m_cancel);
    retrieveRow->addWidget(m_progress, 1);
    layout->addLayout(retrieveRow);
    connect(m_retrieve, &QPushButton::clicked, this, &PacsDock::retrieveSelected);
    connect(m_cancel, &QPushButton::clicked, this, &PacsDock::cancelRetrieve);

    auto* sendRow = new QHBoxLayout;
    sendRow->addWidget(new QLabel(tr("Send:")));
    for (const auto& [key, label, tip] :
         {std::tuple{QStringLiteral("file"), tr("Image"), tr("Send the DICOM file shown to the node")},
          std::tuple{QStringLiteral("capture"), tr("View"), tr("Send the view as a DICOM Secondary Capture")},
          std::tuple{QStringLiteral("report"), tr("Report"), tr("Send the report as a DICOM Encapsulated PDF")}}) {
        auto* b = new QPushButton(label);
        b->setObjectName(QStringLiteral("pacsSend-") + key);
        b->setToolTip(tip);
        connect(b, &QPushButton::clicked, this, [this, k = key] { send(k); });
        sendRow->addWidget(b);
    }
    sendRow->addStretch(1);
    layout->addLayout(sendRow);

    m_status = new QLabel;
    m_status->setObjectName(QStringLiteral("pacsStatus"));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_status);
    m_log = new QPlainTextEdit;
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(300);
    m_log->setMaximumHeight(70);
    m_log->setToolTip(tr("Network events; patient names and IDs are left out"));
    layout->addWidget(m_log);

    connect(m_job, &jobs::PacsJob::logLine, m_log, &QPlainTextEdit::appendPlainText);
    connect(m_job, &jobs::PacsJob::echoed, this, [this](quint64, const QString& error, double ms) {
        if (error.isEmpty())
            setStatus(tr("Echo: %1 answered in %2 ms").arg(m_lastNode.aeTitle.c_str()).arg(ms, 0, 'f', 0));
        else
            setStatus(tr("Echo failed: %1").arg(error), true);
        emit answered();
    });
    connect(m_job, &jobs::PacsJob::found, this, [this](quint64 id, const QString& error, const net::FindPage& page) {
        if (const auto it = m_seriesFinds.find(id); it != m_seriesFinds.end()) {
            const QString study = it->second;
            m_seriesFinds.erase(it);
            QTreeWidgetItem* item = nullptr;
            for (int i = 0; i < m_tree->topLevelItemCount() && !item; ++i)
                for (int k = 0; k < m_tree->topLevelItem(i)->childCount(); ++k)
                    if (m_tree->topLevelItem(i)->child(k)->data(0, kUidRole).toString() == study)
                        item = m_tree->topLevelItem(i)->child(k);
            if (!error.isEmpty())
                setStatus(tr("Series not found: %1").arg(error), true);
            else if (item)
                addSeries(item, page);
        } else if (id == m_findId) {
            m_findId = 0;
            if (error.isEmpty())
                addStudies(page);
            else
                setStatus(tr("Search failed: %1").arg(error), true);
        }
        updateButtons();
        emit answered();
    });
    connect(m_job, &jobs::PacsJob::progress, this, [this](quint64 id, const net::Progress& p) {
        if (id != m_retrieveId)
            return;
        if (p.remaining >= 0) {
            m_progress->setRange(0, std::max(1, p.completed + p.failed + p.remaining));
            m_progress->setValue(p.completed + p.failed);
        }
        m_progress->setFormat(tr("%1 images, %2").arg(p.completed).arg(megabytes(p.bytes)));
    });
    connect(m_job, &jobs::PacsJob::retrieved, this,
            [this](quint64 id, const QString& error, const net::RetrieveSummary& s) {
                if (id != m_retrieveId)
                    return;
                m_retrieveId = 0;
                m_progress->setRange(0, 1);
                m_progress->setValue(error.isEmpty() ? 1 : 0);
                updateCacheLabel();
                updateButtons();
                if (!error.isEmpty()) {
                    m_progress->setFormat(tr("Not retrieved"));
                    setStatus(tr("Retrieve failed: %1").arg(error), true);
                } else {
                    m_progress->setFormat(tr("%1 images").arg(s.completed));
                    setStatus(tr("Retrieved %1 images (%2) in %3 s%4")
                                  .arg(s.completed)
                                  .arg(megabytes(s.bytes))
                                  .arg(s.elapsedMs / 1000.0, 0, 'f', 1)
                                  .arg(s.failed ? tr(", %1 failed").arg(s.failed) : QString()));
                    QStringList files;
                    for (const auto& f : s.files)
                        files << q(f);
                    files.sort();
                    if (!files.isEmpty())
                        emit filesRetrieved(files);
                }
                emit answered();
            });
    connect(m_job, &jobs::PacsJob::stored, this, [this](quint64, const QString& error, const net::StoreSummary& s) {
        if (!error.isEmpty())
            setStatus(tr("Send failed: %1").arg(error), true);
        else if (s.failed > 0)
            setStatus(tr("Sent %1, %2 refused: %3").arg(s.sent).arg(s.failed).arg(q(s.failures.front())), true);
        else
            setStatus(tr("Sent %1 to %2").arg(s.sent).arg(q(m_lastNode.aeTitle)));
        emit answered();
    });

    loadSettings();
    updateButtons();
}

void PacsDock::showEvent(QShowEvent* event)
{
    // The cache is walked when the dock is seen, not at every start of the program.
    updateCacheLabel();
    QWidget::showEvent(event);
}

PacsDock::~PacsDock()
{
    storeLocalSettings();
}

void PacsDock::buildNodeBox()
{
    auto* box = new QGroupBox(tr("PACS node"), this);
    auto* grid = new QVBoxLayout(box);
    m_nodes = new QComboBox;
    m_nodes->setObjectName(QStringLiteral("pacsNodes"));
    m_nodes->setToolTip(tr("Saved nodes"));
    auto* save = new QPushButton(tr("Save"));
    save->setToolTip(tr("Save the node below in the list"));
    auto* remove = new QPushButton(tr("Remove"));
    auto* echoButton = new QPushButton(tr("Echo"));
    echoButton->setObjectName(QStringLiteral("pacsEcho"));
    echoButton->setToolTip(tr("Check that the node answers and accepts this workstation (C-ECHO)"));
    auto* row = new QHBoxLayout;
    row->addWidget(m_nodes, 1);
    row->addWidget(save);
    row->addWidget(remove);
    row->addWidget(echoButton);
    grid->addLayout(row);
    m_peerAe = new QLineEdit;
    m_peerAe->setObjectName(QStringLiteral("pacsPeerAe"));
    m_peerAe->setMaxLength(16);
    m_peerAe->setPlaceholderText(tr("AE title"));
    m_peerAe->setToolTip(tr("The node's AE title"));
    m_host = new QLineEdit;
    m_host->setObjectName(QStringLiteral("pacsHost"));
    m_host->setPlaceholderText(tr("host"));
    m_port = new QSpinBox;
    m_port->setObjectName(QStringLiteral("pacsPort"));
    m_port->setRange(1, 65535);
    m_port->setValue(104);
    m_port->setToolTip(tr("The node's DICOM port"));
    m_tls = new QCheckBox(tr("TLS"));
    auto* hostRow = new QHBoxLayout;
    hostRow->addWidget(m_peerAe, 2);
    hostRow->addWidget(new QLabel(QStringLiteral("@")));
    hostRow->addWidget(m_host, 3);
    hostRow->addWidget(new QLabel(QStringLiteral(":")));
    hostRow->addWidget(m_port);
    hostRow->addWidget(m_tls);
    grid->addLayout(hostRow);
    connect(echoButton, &QPushButton::clicked, this, &PacsDock::echo);
    connect(save, &QPushButton::clicked, this, &PacsDock::saveNode);
    connect(remove, &QPushButton::clicked, this, &PacsDock::removeNode);
    connect(m_nodes, qOverload<int>(&QComboBox::activated), this, &PacsDock::nodeChosen);
}

void PacsDock::buildLocalBox()
{
    auto* box = new QGroupBox(tr("This workstation"), this);
    auto* outer = new QVBoxLayout(box);
    auto* toggle = new QToolButton;
    toggle->setText(tr("Settings"));
    toggle->setCheckable(true);
    toggle->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    toggle->setArrowType(Qt::RightArrow);
    auto* settingsWidget = new QWidget;
    settingsWidget->setVisible(false);
    connect(toggle, &QToolButton::toggled, this, [toggle, settingsWidget](bool on) {
        settingsWidget->setVisible(on);
        toggle->setArrowType(on ? Qt::DownArrow : Qt::RightArrow);
    });
    m_cacheLabel = new QLabel;
    auto* clear = new QPushButton(tr("Clear cache"));
    connect(clear, &QPushButton::clicked, this, &PacsDock::clearCache);
    auto* top = new QHBoxLayout;
    top->addWidget(toggle);
    top->addWidget(m_cacheLabel, 1);
    top->addWidget(clear);
    outer->addLayout(top);
    outer->addWidget(settingsWidget);

    auto* form = new QFormLayout(settingsWidget);
    form->setContentsMargins(0, 0, 0, 0);
    m_ownAe = new QLineEdit(QStringLiteral("LIGHTBOX"));
    m_ownAe->setObjectName(QStringLiteral("pacsOwnAe"));
    m_ownAe->setMaxLength(16);
    m_ownPort = new QSpinBox;
    m_ownPort->setObjectName(QStringLiteral("pacsOwnPort"));
    m_ownPort->setRange(1, 65535);
    m_ownPort->setValue(11112);
    m_ownPort->setToolTip(tr("The port of this workstation's storage service, where a C-MOVE sends the images"));
    m_retrieveBy = new QComboBox;
    m_retrieveBy->setObjectName(QStringLiteral("pacsRetrieveBy"));
    m_retrieveBy->addItem(tr("C-GET (one connection)"), QStringLiteral("get"));
    m_retrieveBy->addItem(tr("C-MOVE (the PACS connects back)"), QStringLiteral("move"));
    m_tlsCa = new QLineEdit;
    m_tlsCert = new QLineEdit;
    m_tlsKey = new QLineEdit;
    m_tlsCa->setPlaceholderText(tr("CA certificates (PEM)"));
    m_tlsCert->setPlaceholderText(tr("this workstation's certificate (PEM, optional)"));
    m_tlsKey->setPlaceholderText(tr("its private key (PEM, optional)"));
    m_cacheLimit = new QSpinBox;
    m_cacheLimit->setRange(1, 10000);
    m_cacheLimit->setValue(2);
    m_cacheLimit->setSuffix(QStringLiteral(" GB"));
    form->addRow(tr("AE title:"), m_ownAe);
    form->addRow(tr("Storage port:"), m_ownPort);
    form->addRow(tr("Retrieve by:"), m_retrieveBy);
    form->addRow(tr("TLS CA:"), m_tlsCa);
    form->addRow(tr("TLS certificate:"), m_tlsCert);
    form->addRow(tr("TLS key:"), m_tlsKey);
    form->addRow(tr("Cache limit:"), m_cacheLimit);
}

void PacsDock::buildSearchBox()
{
    auto* box = new QGroupBox(tr("Search"), this);
    auto* form = new QFormLayout(box);
    m_patientName = new QLineEdit;
    m_patientName->setObjectName(QStringLiteral("pacsPatientName"));
    m_patientName->setPlaceholderText(tr("DOE^J* (wildcards * and ?)"));
    m_patientId = new QLineEdit;
    m_patientId->setObjectName(QStringLiteral("pacsPatientId"));
    m_accession = new QLineEdit;
    m_accession->setObjectName(QStringLiteral("pacsAccession"));
    m_modality = new QComboBox;
    m_modality->setObjectName(QStringLiteral("pacsModality"));
    m_modality->setEditable(true);
    m_modality->addItem(QString());
    m_modality->addItems({QStringLiteral("CR"), QStringLiteral("DX"), QStringLiteral("CT"), QStringLiteral("MR"),
                          QStringLiteral("US"), QStringLiteral("MG"), QStringLiteral("XA"), QStringLiteral("OT")});
    auto makeDate = [](QCheckBox*& on, QDateEdit*& edit, const QString& label, const QString& name) {
        on = new QCheckBox(label);
        edit = new QDateEdit(QDate::currentDate());
        edit->setObjectName(name);
        edit->setCalendarPopup(true);
        edit->setDisplayFormat(QStringLiteral("yyyy-MM-dd"));
        edit->setEnabled(false);
        QObject::connect(on, &QCheckBox::toggled, edit, &QWidget::setEnabled);
    };
    makeDate(m_fromOn, m_from, tr("from"), QStringLiteral("pacsFrom"));
    makeDate(m_toOn, m_to, tr("to"), QStringLiteral("pacsTo"));
    m_fromOn->setObjectName(QStringLiteral("pacsFromOn"));
    m_toOn->setObjectName(QStringLiteral("pacsToOn"));
    auto* dates = new QHBoxLayout;
    dates->addWidget(m_fromOn);
    dates->addWidget(m_from, 1);
    dates->addWidget(m_toOn);
    dates->addWidget(m_to, 1);
    form->addRow(tr("Patient name:"), m_patientName);
    form->addRow(tr("Patient ID:"), m_patientId);
    form->addRow(tr("Study date:"), dates);
    auto* row = new QHBoxLayout;
    row->addWidget(m_modality);
    row->addWidget(new QLabel(tr("Accession:")));
    row->addWidget(m_accession, 1);
    form->addRow(tr("Modality:"), row);
    m_search = new QPushButton(tr("Search"));
    m_search->setObjectName(QStringLiteral("pacsSearch"));
    m_search->setDefault(true);
    m_more = new QPushButton(tr("More"));
    m_more->setObjectName(QStringLiteral("pacsMore"));
    m_more->setToolTip(tr("The next page of matches"));
    m_pageLabel = new QLabel;
    auto* buttons = new QHBoxLayout;
    buttons->addWidget(m_search);
    buttons->addWidget(m_more);
    buttons->addWidget(m_pageLabel, 1);
    form->addRow(buttons);
    connect(m_search, &QPushButton::clicked, this, &PacsDock::search);
    connect(m_more, &QPushButton::clicked, this, &PacsDock::searchMore);
    for (QLineEdit* e : {m_patientName, m_patientId, m_accession})
        connect(e, &QLineEdit::returnPressed, this, &PacsDock::search);
}

// ---------------------------------------------------------------------------------------
// Nodes and settings

void PacsDock::loadSettings()
{
    const QStringList nodes = settings::value(kGroup + QStringLiteral("nodes")).toStringList();
    for (const QString& n : nodes)
        m_nodes->addItem(n);
    m_ownAe->setText(settings::value(kGroup + QStringLiteral("ownAe"), QStringLiteral("LIGHTBOX")).toString());
    m_ownPort->setValue(settings::value(kGroup + QStringLiteral("ownPort"), 11112).toInt());
    m_retrieveBy->setCurrentIndex(
        std::max(0, m_retrieveBy->findData(settings::value(kGroup + QStringLiteral("retrieveBy"), "get"))));
    m_tlsCa->setText(settings::value(kGroup + QStringLiteral("tlsCa")).toString());
    m_tlsCert->setText(settings::value(kGroup + QStringLiteral("tlsCert")).toString());
    m_tlsKey->setText(settings::value(kGroup + QStringLiteral("tlsKey")).toString());
    m_cacheLimit->setValue(settings::value(kGroup + QStringLiteral("cacheLimitGb"), 2).toInt());
    const int chosen = m_nodes->findText(settings::value(kGroup + QStringLiteral("node")).toString());
    if (m_nodes->count() > 0) {
        m_nodes->setCurrentIndex(std::max(0, chosen));
        nodeChosen(m_nodes->currentIndex());
    }
}

void PacsDock::storeLocalSettings() const
{
    settings::set(kGroup + QStringLiteral("ownAe"), m_ownAe->text());
    settings::set(kGroup + QStringLiteral("ownPort"), m_ownPort->value());
    settings::set(kGroup + QStringLiteral("retrieveBy"), m_retrieveBy->currentData());
    settings::set(kGroup + QStringLiteral("tlsCa"), m_tlsCa->text());
    settings::set(kGroup + QStringLiteral("tlsCert"), m_tlsCert->text());
    settings::set(kGroup + QStringLiteral("tlsKey"), m_tlsKey->text());
    settings::set(kGroup + QStringLiteral("cacheLimitGb"), m_cacheLimit->value());
}

void PacsDock::nodeChosen(int index)
{
    // Entries are "AET@HOST:PORT", with " (TLS)" for a TLS node.
    QString text = m_nodes->itemText(index);
    const bool tls = text.endsWith(QStringLiteral(" (TLS)"));
    if (tls)
        text.chop(6);
    auto parsed = net::parseNode(text.toStdString());
    if (!parsed)
        return;
    m_peerAe->setText(q(parsed->aeTitle));
    m_host->setText(q(parsed->host));
    m_port->setValue(parsed->port);
    m_tls->setChecked(tls);
    settings::set(kGroup + QStringLiteral("node"), m_nodes->itemText(index));
}

void PacsDock::saveNode()
{
    auto n = node();
    if (!n)
        return;
    const QString text = q(n->toString()) + (n->tls ? QStringLiteral(" (TLS)") : QString());
    if (m_nodes->findText(text) < 0)
        m_nodes->addItem(text);
    m_nodes->setCurrentIndex(m_nodes->findText(text));
    QStringList all;
    for (int i = 0; i < m_nodes->count(); ++i)
        all << m_nodes->itemText(i);
    settings::set(kGroup + QStringLiteral("nodes"), all);
    settings::set(kGroup + QStringLiteral("node"), text);
    setStatus(tr("Saved %1").arg(text));
}

void PacsDock::removeNode()
{
    if (m_nodes->currentIndex() < 0)
        return;
    m_nodes->removeItem(m_nodes->currentIndex());
    QStringList all;
    for (int i = 0; i < m_nodes->count(); ++i)
        all << m_nodes->itemText(i);
    settings::set(kGroup + QStringLiteral("nodes"), all);
}

Result<net::PacsNode> PacsDock::node()
{
    const QString host = m_host->text().trimmed();
    const QString text = m_peerAe->text().trimmed() + QLatin1Char('@') +
                         (host.contains(QLatin1Char(':')) && !host.startsWith(QLatin1Char('['))
                              ? QLatin1Char('[') + host + QLatin1Char(']')
                              : host) +
                         QLatin1Char(':') + QString::number(m_port->value());
    auto n = net::parseNode(text.toStdString());
    if (!n) {
        setStatus(tr("The node is not complete: %1").arg(q(n.error())), true);
        return n;
    }
    n->tls = m_tls->isChecked();
    m_lastNode = n.value();
    return n;
}

net::LocalAe PacsDock::local() const
{
    net::LocalAe l;
    l.aeTitle = m_ownAe->text().trimmed().toStdString();
    l.port = m_ownPort->value();
    l.timeoutSeconds = kTimeoutSeconds;
    l.tls.caFile = m_tlsCa->text().trimmed().toStdString();
    l.tls.certFile = m_tlsCert->text().trimmed().toStdString();
    l.tls.keyFile = m_tlsKey->text().trimmed().toStdString();
    return l;
}

QString PacsDock::cacheFolder() const
{
    return jobs::defaultPacsCacheFolder();
}

void PacsDock::updateCacheLabel()
{
    const net::StorageCache cache(cacheFolder().toStdString());
    const auto studies = cache.studies(); // one walk of the folder gives both figures
    std::uint64_t bytes = 0;
    for (const auto& s : studies)
        bytes += s.bytes;
    m_cacheLabel->setText(tr("Cache: %1, studies: %2").arg(megabytes(bytes)).arg(studies.size()));
}

void PacsDock::clearCache()
{
    const net::StorageCache cache(cacheFolder().toStdString());
    auto cleared = cache.clear();
    if (cleared)
        setStatus(tr("Cleared the cache: %1 freed").arg(megabytes(cleared.value())));
    else
        setStatus(tr("Cannot clear the cache: %1").arg(q(cleared.error())), true);
    updateCacheLabel();
}

void PacsDock::setSendSources(SendSources sources)
{
    m_sources = std::move(sources);
}

void PacsDock::setStatus(const QString& text, bool error)
{
    m_status->setText(text);
    m_status->setStyleSheet(error ? QStringLiteral("color: #d04040;") : QString());
}

QString PacsDock::statusText() const
{
    return m_status->text();
}

void PacsDock::updateButtons()
{
    const auto selected = m_tree->selectedItems();
    const bool retrievable =
        !selected.isEmpty() && selected.first()->data(0, kLevelRole).toInt() != int(net::Level::Patient);
    m_retrieve->setEnabled(retrievable && m_retrieveId == 0);
    m_cancel->setEnabled(m_retrieveId != 0);
    m_search->setEnabled(m_findId == 0);
    m_more->setEnabled(m_findId == 0 && m_nextOffset > 0);
}

} // namespace lightbox::ui
