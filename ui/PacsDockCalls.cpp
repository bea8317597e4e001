// The PACS dock's calls: echo, the study search and its pages, the series of a study when it
// is opened in the tree, retrieve and send. The widgets and settings are in PacsDock.cpp.
#include "PacsDock.h"

#include <jobs/PacsJob.h>

#include <QCheckBox>
#include <QComboBox>
#include <QDateEdit>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTreeWidget>

#include <map>

namespace lightbox::ui {
namespace {

constexpr int kPageSize = 200;

QString q(const std::string& s)
{
    return QString::fromStdString(s);
}

QString personName(const std::string& dicom)
{
    QStringList parts = q(dicom).split(QLatin1Char('^'));
    while (!parts.isEmpty() && parts.last().trimmed().isEmpty())
        parts.removeLast();
    return parts.size() <= 1 ? parts.value(0)
                             : parts.first() + QStringLiteral(", ") + parts.mid(1).join(QLatin1Char(' '));
}

QString dicomDate(const std::string& d)
{
    const QDate date = QDate::fromString(q(d), QStringLiteral("yyyyMMdd"));
    return date.isValid() ? date.toString(Qt::ISODate) : q(d);
}

QString count(int n)
{
    return n >= 0 ? QString::number(n) : QString();
}

} // namespace

void PacsDock::echo()
{
    auto n = node();
    if (!n)
        return;
    setStatus(tr("Echo %1…").arg(q(n->toString())));
    m_job->echo(n.value(), local());
}

Result<net::Query> PacsDock::query() const
{
    net::Query query;
    query.patientName = m_patientName->text().trimmed().toStdString();
    query.patientId = m_patientId->text().trimmed().toStdString();
    query.accessionNumber = m_accession->text().trimmed().toStdString();
    query.modality = m_modality->currentText().trimmed().toUpper().toStdString();
    const QString from = m_fromOn->isChecked() ? m_from->date().toString(QStringLiteral("yyyyMMdd")) : QString();
    const QString to = m_toOn->isChecked() ? m_to->date().toString(QStringLiteral("yyyyMMdd")) : QString();
    if (!from.isEmpty() && !to.isEmpty() && from > to)
        return Result<net::Query>::failure(tr("the study date range ends before it starts").toStdString());
    if (!from.isEmpty() || !to.isEmpty())
        query.studyDate = from == to ? from.toStdString() : (from + QLatin1Char('-') + to).toStdString();
    const std::string bad = net::validateQuery(query);
    if (!bad.empty())
        return Result<net::Query>::failure(bad);
    return query;
}

void PacsDock::search()
{
    auto n = node();
    if (!n)
        return;
    auto qr = query();
    if (!qr) {
        setStatus(tr("Search not started: %1").arg(q(qr.error())), true);
        return;
    }
    m_lastQuery = qr.value();
    m_tree->clear();
    m_seriesFinds.clear();
    m_studyCount = 0;
    m_nextOffset = 0;
    m_pageLabel->clear();
    setStatus(tr("Searching %1…").arg(q(n->aeTitle)));
    m_findId = m_job->find(n.value(), local(), net::Level::Study, m_lastQuery, {kPageSize, 0});
    updateButtons();
}

void PacsDock::searchMore()
{
    if (m_nextOffset <= 0 || m_findId != 0)
        return;
    m_findId = m_job->find(m_lastNode, local(), net::Level::Study, m_lastQuery, {kPageSize, m_nextOffset});
    setStatus(tr("Searching %1…").arg(q(m_lastNode.aeTitle)));
    updateButtons();
}

void PacsDock::addStudies(const net::FindPage& page)
{
    // Patients group their studies: one top-level item per patient ID and name.
    std::map<QString, QTreeWidgetItem*> patients;
    for (int i = 0; i < m_tree->topLevelItemCount(); ++i)
        patients[m_tree->topLevelItem(i)->data(0, kUidRole).toString()] = m_tree->topLevelItem(i);
    for (const net::Match& m : page.matches) {
        const QString key = q(m.patientId) + QLatin1Char('\n') + q(m.patientName);
        QTreeWidgetItem*& patient = patients[key];
        if (!patient) {
            patient = new QTreeWidgetItem(m_tree);
            patient->setText(0, personName(m.patientName));
            patient->setText(1, q(m.patientId));
            patient->setData(0, kUidRole, key);
            patient->setData(0, kLevelRole, int(net::Level::Patient));
            patient->setExpanded(true);
        }
        auto* study = new QTreeWidgetItem(patient);
        study->setText(0, m.studyDescription.empty() ? tr("(no description)") : q(m.studyDescription));
        study->setText(1, q(m.accessionNumber));
        study->setText(2, dicomDate(m.studyDate));
        study->setText(3, q(m.modalitiesInStudy).replace(QLatin1Char('\\'), QLatin1Char('/')));
        study->setText(4, count(m.studyInstances));
        study->setData(0, kUidRole, q(m.studyUid));
        study->setData(0, kLevelRole, int(net::Level::Study));
        study->setChildIndicatorPolicy(QTreeWidgetItem::ShowIndicator); // series load when opened
        ++m_studyCount;
    }
    m_nextOffset = page.truncated ? page.offset + int(page.matches.size()) : 0;
    m_pageLabel->setText(page.truncated
                             ? tr("%1 studies shown; the PACS has more (More, or narrow the search)").arg(m_studyCount)
                             : tr("Studies: %1").arg(m_studyCount));
    setStatus(tr("Studies found: %1 (%2 ms)").arg(page.matches.size()).arg(page.elapsedMs, 0, 'f', 0));
}

void PacsDock::studyExpanded(QTreeWidgetItem* item)
{
    if (item->data(0, kLevelRole).toInt() != int(net::Level::Study) || item->data(0, kLoadedRole).toBool())
        return;
    item->setData(0, kLoadedRole, true);
    net::Query series;
    series.studyUid = item->data(0, kUidRole).toString().toStdString();
    const quint64 id = m_job->find(m_lastNode, local(), net::Level::Series, series, {1000, 0});
    m_seriesFinds[id] = item->data(0, kUidRole).toString();
}

void PacsDock::addSeries(QTreeWidgetItem* study, const net::FindPage& page)
{
    for (const net::Match& m : page.matches) {
        auto* s = new QTreeWidgetItem(study);
        const QString number = q(m.seriesNumber).trimmed();
        const QString description = q(m.seriesDescription).trimmed();
        s->setText(0, (number.isEmpty() ? tr("Series") : tr("Series %1").arg(number)) +
                          (description.isEmpty() ? QString() : QStringLiteral(": ") + description));
        s->setText(3, q(m.modality));
        s->setText(4, count(m.seriesInstances));
        s->setData(0, kUidRole, q(m.seriesUid));
        s->setData(0, kLevelRole, int(net::Level::Series));
    }
    if (page.matches.empty())
        study->setChildIndicatorPolicy(QTreeWidgetItem::DontShowIndicatorWhenChildless);
}

void PacsDock::retrieveSelected()
{
    const auto selected = m_tree->selectedItems();
    if (selected.isEmpty() || m_retrieveId != 0)
        return;
    QTreeWidgetItem* item = selected.first();
    const auto level = net::Level(item->data(0, kLevelRole).toInt());
    if (level == net::Level::Patient) {
        setStatus(tr("Choose a study or a series to retrieve"), true);
        return;
    }
    net::RetrieveRequest request;
    request.level = level;
    request.cacheDir = cacheFolder().toStdString();
    if (level == net::Level::Series) {
        request.seriesUid = item->data(0, kUidRole).toString().toStdString();
        request.studyUid = item->parent()->data(0, kUidRole).toString().toStdString();
    } else {
        request.studyUid = item->data(0, kUidRole).toString().toStdString();
    }
    const bool move = m_retrieveBy->currentData().toString() == QLatin1String("move");
    const qint64 limit = qint64(m_cacheLimit->value()) * 1000 * 1000 * 1000;
    m_progress->setRange(0, 0); // busy until the peer tells the count
    m_progress->setFormat(tr("Retrieving…"));
    setStatus(tr("Retrieving %1 by %2…")
                  .arg(level == net::Level::Series ? tr("the series") : tr("the study"))
                  .arg(move ? QStringLiteral("C-MOVE") : QStringLiteral("C-GET")));
    m_retrieveId = m_job->retrieve(m_lastNode, local(), request, move, limit);
    updateButtons();
}

void PacsDock::cancelRetrieve()
{
    if (m_retrieveId == 0)
        return;
    m_job->cancel(m_retrieveId);
    setStatus(tr("Cancelling…"));
}

void PacsDock::send(const QString& what)
{
    auto n = node();
    if (!n)
        return;
    const SendSource& source = what == QLatin1String("capture")  ? m_sources.secondaryCapture
                               : what == QLatin1String("report") ? m_sources.report
                                                                 : m_sources.currentFile;
    QString error;
    const QString file = source ? source(&error) : QString();
    if (file.isEmpty()) {
        setStatus(tr("Nothing sent: %1").arg(error.isEmpty() ? tr("no image is open") : error), true);
        return;
    }
    setStatus(tr("Sending to %1…").arg(q(n->aeTitle)));
    m_job->store(n.value(), local(), {file});
}

} // namespace lightbox::ui
