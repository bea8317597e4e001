// The classify panel's models: the folders scanned, the picker, the automatic pick for the
// image shown, and the chosen model's description.
#include "ClassifyPanel.h"
#include "ClassifyPanelPrivate.h"

#include "BackgroundPool.h"
#include "Language.h"

#include <ml/Bundle.h>

#include <QCheckBox>
#include <QComboBox>
#include <QCoreApplication>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QtConcurrent/QtConcurrent>

#include <algorithm>

#ifndef LIGHTBOX_SOURCE_MODELS_DIR
#define LIGHTBOX_SOURCE_MODELS_DIR ""
#endif

namespace lightbox::ui {

using namespace classifypanel;

// ---------------------------------------------------------------------------------------
// Models

QStringList ClassifyPanel::defaultModelFolders()
{
    QStringList candidates{
        QDir(QCoreApplication::applicationDirPath()).filePath(QStringLiteral("../share/lightbox/models")),
        QStringLiteral(LIGHTBOX_SOURCE_MODELS_DIR)};
    const QString env = qEnvironmentVariable("LIGHTBOX_MODELS");
    if (!env.isEmpty())
        candidates += env.split(QLatin1Char(':'), Qt::SkipEmptyParts);
    QStringList folders;
    for (const QString& c : candidates) {
        if (c.isEmpty() || !QFileInfo(c).isDir())
            continue;
        const QString canonical = QFileInfo(c).canonicalFilePath();
        if (!folders.contains(canonical))
            folders << canonical;
    }
    return folders;
}

void ClassifyPanel::setModelFolders(const QStringList& folders)
{
    m_folders = folders;
    rescan();
}

void ClassifyPanel::rescan()
{
    const QString current = modelPath();
    if (m_cardScan) {
        // The files may have changed: the scan under way is not waited for (reading the
        // shipped cards takes 300-400 ms), it ends on its own and its result is dropped.
        m_cardScan->disconnect(this);
        if (m_cardScan->isFinished())
            m_cardScan->deleteLater();
        else
            connect(m_cardScan, &QFutureWatcherBase::finished, m_cardScan, &QObject::deleteLater);
        m_cardScan = nullptr;
    }
    m_tasks.clear(); // files may have changed
    m_updating = true;
    m_model->clear();
    QStringList seen;
    auto add = [&](const QString& path) {
        const QString abs = QFileInfo(path).absoluteFilePath();
        if (seen.contains(abs))
            return;
        seen << abs;
        m_model->addItem(QFileInfo(abs).fileName(), abs);
        m_model->setItemData(m_model->count() - 1, abs, Qt::ToolTipRole);
    };
    for (const QString& folder : m_folders) {
        const QFileInfoList files =
            QDir(folder).entryInfoList({QStringLiteral("*.lbx"), QStringLiteral("*.pt")}, QDir::Files, QDir::Name);
        for (const QFileInfo& f : files)
            add(f.absoluteFilePath());
    }
    for (const QString& f : m_openedFiles)
        if (QFileInfo::exists(f))
            add(f);
    if (!current.isEmpty() && !seen.contains(current) && QFileInfo::exists(current))
        add(current);
    if (m_model->count() > 0)
        m_model->insertSeparator(m_model->count());
    m_model->addItem(tr("Open model file…"), kOpenEntry);
    const int at = current.isEmpty() ? -1 : m_model->findData(current);
    m_model->setCurrentIndex(at >= 0 ? at : (seen.isEmpty() ? -1 : 0));
    m_updating = false;
    m_lastModelIndex = m_model->currentIndex();
    // The cards' tasks, for picking a model per image: off the GUI thread (each read parses
    // a whole bundle), then pick again for the image shown.
    m_cardScan = new QFutureWatcher<QHash<QString, QString>>(this);
    connect(m_cardScan, &QFutureWatcher<QHash<QString, QString>>::finished, this, [this] {
        finishCardScan();
        if (m_autoPick->isChecked())
            repick();
    });
    m_cardScan->setFuture(QtConcurrent::run(backgroundPool(), [paths = seen] {
        QHash<QString, QString> tasks;
        for (const QString& p : paths) {
            auto card = ml::readModelCard(p.toStdString());
            tasks.insert(p, card ? QString::fromStdString(card->task) : QString());
        }
        return tasks;
    }));
    if (seen.isEmpty())
        m_card->setText(m_folders.isEmpty()
                            ? tr("No models folder found: open a model file.")
                            : tr("No models in %1: open a model file.").arg(m_folders.join(QStringLiteral(", "))));
}

QStringList ClassifyPanel::modelPaths() const
{
    QStringList out;
    for (int i = 0; i < m_model->count(); ++i) {
        const QString p = m_model->itemData(i).toString();
        if (!p.isEmpty() && p != kOpenEntry)
            out << p;
    }
    return out;
}

QString ClassifyPanel::modelPath() const
{
    const QString p = m_model->currentData().toString();
    return p == kOpenEntry ? QString() : p;
}

bool ClassifyPanel::selectModel(const QString& path)
{
    const QFileInfo f(path);
    if (!f.isFile()) {
        showError(tr("The model file %1 does not exist.").arg(path));
        return false;
    }
    const QString abs = f.absoluteFilePath();
    if (m_model->findData(abs) < 0) {
        m_openedFiles.removeAll(abs);
        m_openedFiles.prepend(abs);
        while (m_openedFiles.size() > 10)
            m_openedFiles.removeLast();
        m_updating = true;
        m_model->insertItem(0, f.fileName(), abs);
        m_model->setItemData(0, abs, Qt::ToolTipRole);
        if (m_model->count() == 2) // only "Open model file..." was there
            m_model->insertSeparator(1);
        m_updating = false;
    }
    m_model->setCurrentIndex(m_model->findData(abs));
    m_lastModelIndex = m_model->currentIndex();
    store();
    describeModel();
    return true;
}

void ClassifyPanel::modelActivated(int index)
{
    if (m_model->itemData(index).toString() == kOpenEntry) {
        QString path;
        if (m_interactive)
            path = QFileDialog::getOpenFileName(this, tr("Open model"), QString(),
                                                tr("Models (*.lbx *.pt);;All files (*)"));
        if (path.isEmpty()) {
            m_model->setCurrentIndex(m_lastModelIndex);
            return;
        }
        selectModel(path);
        rerunIfArmed();
        return;
    }
    if (index == m_lastModelIndex)
        return;
    m_lastModelIndex = index;
    // A model chosen by hand stays: stop picking one per image.
    m_autoPick->setChecked(false);
    m_pickReason->setText(tr("Chosen by hand."));
    store();
    describeModel();
    rerunIfArmed();
}

QString ClassifyPanel::taskOf(const QString& path)
{
    finishCardScan();
    const QString abs = QFileInfo(path).absoluteFilePath();
    auto it = m_tasks.find(abs);
    if (it != m_tasks.end())
        return it.value();
    auto card = ml::readModelCard(abs.toStdString());
    const QString task = card ? QString::fromStdString(card->task) : QString();
    m_tasks.insert(abs, task);
    return task;
}

void ClassifyPanel::setImageContext(const jobs::ImageContext& context, bool rerun)
{
    m_context = context;
    m_haveContext = true;
    if (!m_autoPick->isChecked())
        return;
    if (rerun)
        repick();
    else
        pickModel();
}

void ClassifyPanel::repick()
{
    const QString before = modelPath();
    pickModel();
    if (modelPath() != before)
        rerunIfArmed();
}

void ClassifyPanel::setAutoPick(bool on)
{
    m_autoPick->setChecked(on);
}

bool ClassifyPanel::autoPick() const
{
    return m_autoPick->isChecked();
}

QString ClassifyPanel::pickReason() const
{
    return m_pickReason->text();
}

void ClassifyPanel::finishCardScan()
{
    if (!m_cardScan)
        return;
    m_cardScan->disconnect(this);
    m_cardScan->waitForFinished();
    const QHash<QString, QString> tasks = m_cardScan->result();
    for (auto it = tasks.begin(); it != tasks.end(); ++it)
        m_tasks.insert(it.key(), it.value());
    m_cardScan->deleteLater();
    m_cardScan = nullptr;
}

void ClassifyPanel::pickModelNow()
{
    finishCardScan();
    pickModel();
}

void ClassifyPanel::pickModel()
{
    if (!m_haveContext)
        return;
    if (m_cardScan) {
        if (!m_synchronous)
            return; // picked when the cards are read
        finishCardScan();
    }
    std::vector<jobs::ModelCandidate> candidates;
    const QStringList paths = modelPaths();
    for (const QString& p : paths)
        candidates.push_back({p.toStdString(), taskOf(p).toStdString()});
    const jobs::ModelChoice choice = jobs::chooseModel(candidates, m_context);
    const QString reason = QString::fromStdString(choice.reason);
    if (choice.index < 0) {
        m_pickReason->setText(reason.isEmpty() ? tr("Nothing tells this image's task: keeping the model chosen.")
                                               : tr("No model picked: %1.").arg(reason));
        return;
    }
    const QString path = paths[choice.index];
    m_pickReason->setText(tr("Picked %1 because %2.").arg(QFileInfo(path).fileName(), reason));
    if (path == modelPath())
        return;
    const int at = m_model->findData(path);
    if (at < 0)
        return;
    m_model->setCurrentIndex(at);
    m_lastModelIndex = at;
    store();
    describeModel();
}

void ClassifyPanel::describeModel()
{
    const QString path = modelPath();
    if (path.isEmpty())
        return;
    m_job->discardPending(); // a result still on its way is from the previous model or device
    m_error->hide();
    m_card->setText(tr("Loading…"));
    if (m_synchronous) {
        auto info = m_job->loadModelNow(path, device(), m_half->isChecked() && m_half->isEnabled());
        if (info)
            applyModelInfo(info.value());
        else
            modelFailed(path, QString::fromStdString(info.error()));
        return;
    }
    m_job->loadModel(path, device(), m_half->isChecked() && m_half->isEnabled());
}

void ClassifyPanel::modelFailed(const QString& path, const QString& message)
{
    if (QFileInfo(path).absoluteFilePath() != modelPath())
        return;
    m_describedPath.clear();
    m_card->setText(tr("Cannot load this model."));
    m_card->setToolTip(path);
    showError(tr("Cannot load the model: %1").arg(message));
    emit modelDescribed(false);
}

void ClassifyPanel::applyModelInfo(const jobs::ModelInfo& info)
{
    if (QFileInfo(info.path).absoluteFilePath() != modelPath())
        return;
    m_describedPath = info.path;
    m_card->setText(info.summary());
    m_card->setToolTip(info.details());
    m_model->setToolTip(info.details());
    m_error->hide();

    // Map options follow the model's classes and layers; keep the choice where it still exists.
    m_updating = true;
    const int cls = m_camClass->currentData().toInt();
    const QString layer = m_camLayer->currentData().toString();
    m_camClass->clear();
    m_camClass->addItem(tr("Top-1"), -1);
    const QStringList names = shownClassNames(info);
    for (int i = 0; i < names.size(); ++i)
        m_camClass->addItem(names[i], i);
    m_camClass->setCurrentIndex(std::max(0, m_camClass->findData(cls)));
    m_camLayer->clear();
    m_camLayer->addItem(info.layers.isEmpty() ? tr("(none: no map)") : tr("Last block (%1)").arg(info.layers.back()),
                        QString());
    for (const QString& l : info.layers)
        m_camLayer->addItem(l, l);
    m_camLayer->setCurrentIndex(std::max(0, m_camLayer->findData(layer)));
    m_updating = false;
    if (names != m_classNames)
        rebuildBars(names);
    emit modelDescribed(true);
}

} // namespace lightbox::ui
