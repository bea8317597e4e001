#include "CropPanel.h"

#include "Language.h"
#include "SettingsWriter.h"

#include <data/TaskPreset.h>

#include <QCheckBox>
#include <QComboBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSettings>
#include <QSignalBlocker>
#include <QSpinBox>
#include <QToolButton>
#include <QVBoxLayout>

namespace lightbox::ui {

CropPanel::CropPanel(QWidget* parent) : QWidget(parent)
{
    QSettings s;
    s.beginGroup(QStringLiteral("crop"));

    m_root = new QLineEdit(s.value(QStringLiteral("datasetRoot")).toString());
    m_root->setPlaceholderText(tr("Data-set folder"));
    auto* browse = new QToolButton;
    browse->setText(tr("…"));
    browse->setToolTip(tr("Choose the data-set folder"));
    auto* rootRow = new QHBoxLayout;
    rootRow->addWidget(m_root);
    rootRow->addWidget(browse);

    m_task = new QComboBox;
    m_task->setObjectName(QStringLiteral("taskPicker"));
    m_task->setToolTip(tr("Task preset: sets the class labels, their keys and the output size"));
    for (const data::TaskPreset& p : data::taskPresets())
        m_task->addItem(Language::taskText(p.title), QString::fromStdString(p.id));
    m_task->addItem(tr("Custom labels"), QString());
    m_task->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_task->setMinimumContentsLength(12);

    m_classes = new QLineEdit;
    m_classes->setToolTip(tr("The task's classes, comma separated; keys 0-9 pick them in order"));
    m_size = new QSpinBox;
    m_size->setRange(16, 2048);
    m_size->setSuffix(tr(" px"));
    m_size->setValue(s.value(QStringLiteral("outputSize"), 224).toInt());
    m_mode = new QComboBox;
    m_mode->addItem(tr("Windowed, 8-bit PNG"));
    m_mode->addItem(tr("Raw values (16-bit PNG)"));
    m_mode->setCurrentIndex(s.value(QStringLiteral("raw"), false).toBool() ? 1 : 0);
    m_mode->setSizeAdjustPolicy(QComboBox::AdjustToMinimumContentsLengthWithIcon);
    m_mode->setMinimumContentsLength(12);
    m_square = new QCheckBox(tr("Square rectangle"));
    m_square->setChecked(s.value(QStringLiteral("square"), true).toBool());
    m_advance = new QCheckBox(tr("Open the next image after saving"));
    m_advance->setChecked(s.value(QStringLiteral("advance"), true).toBool());

    auto* form = new QFormLayout;
    form->addRow(tr("Task"), m_task);
    form->addRow(tr("Data set"), rootRow);
    form->addRow(tr("Classes"), m_classes);
    form->addRow(tr("Output"), m_size);
    form->addRow(tr("Pixels"), m_mode);

    m_buttons = new QGridLayout;
    m_roiInfo = new QLabel(tr("Drag a rectangle over the image"));
    m_roiInfo->setWordWrap(true);
    m_lastSaved = new QLabel;
    m_lastSaved->setWordWrap(true);
    m_lastSaved->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_undo = new QPushButton(tr("Undo last save"));
    m_undo->setEnabled(false);

    auto* layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_square);
    layout->addWidget(m_advance);
    layout->addWidget(new QLabel(tr("Save the crop as:")));
    layout->addLayout(m_buttons);
    layout->addWidget(m_roiInfo);
    layout->addWidget(m_lastSaved);
    layout->addWidget(m_undo);
    layout->addStretch(1);

    QStringList labels = s.value(QStringLiteral("labels")).toStringList();
    const QString task = s.value(QStringLiteral("task"), QStringLiteral("knee-kl")).toString();
    s.endGroup();
    if (labels.isEmpty()) {
        setTask(task); // Kellgren-Lawrence grades by default, the knee study's task
    } else {
        const int i = m_task->findData(task);
        m_task->setCurrentIndex(i >= 0 ? i : m_task->count() - 1);
        setLabels(labels);
    }
    m_taskChosen = false; // the remembered or default task is no hint about the images
    connect(m_task, &QComboBox::activated, this, [this](int i) { setTask(m_task->itemData(i).toString()); });

    connect(browse, &QToolButton::clicked, this, &CropPanel::chooseRoot);
    connect(m_root, &QLineEdit::editingFinished, this, &CropPanel::store);
    connect(m_size, &QSpinBox::valueChanged, this, &CropPanel::store);
    connect(m_mode, &QComboBox::currentIndexChanged, this, &CropPanel::store);
    connect(m_advance, &QCheckBox::toggled, this, &CropPanel::store);
    connect(m_square, &QCheckBox::toggled, this, [this](bool on) {
        store();
        emit squareToggled(on);
    });
    connect(m_classes, &QLineEdit::editingFinished, this, [this] {
        QStringList parts;
        for (const QString& p : m_classes->text().split(QLatin1Char(',')))
            parts << p.trimmed();
        setLabels(parts);
    });
    connect(m_undo, &QPushButton::clicked, this, &CropPanel::undoRequested);
}

data::CropSettings CropPanel::settings() const
{
    data::CropSettings s;
    s.datasetRoot = m_root->text().trimmed();
    s.outputWidth = s.outputHeight = m_size->value();
    s.raw = m_mode->currentIndex() == 1;
    return s;
}

void CropPanel::setLabels(const QStringList& labels)
{
    QStringList valid;
    for (const QString& l : labels)
        if (data::CropExporter::isValidLabel(l) && !valid.contains(l))
            valid << l;
    if (valid.isEmpty())
        valid = {"0", "1", "2", "3", "4"};
    m_classes->setText(valid.join(QStringLiteral(", ")));
    if (valid == m_labels)
        return;
    const data::TaskPreset* preset = data::findTaskPreset(task().toStdString());
    if (preset) {
        QStringList classes;
        for (const std::string& c : preset->classes)
            classes << QString::fromStdString(c);
        if (classes != valid) {
            const QSignalBlocker block(m_task);
            m_task->setCurrentIndex(m_task->count() - 1); // custom
        }
    }
    m_labels = valid;
    rebuildButtons();
    store();
    emit labelsChanged(m_labels);
}

void CropPanel::setTask(const QString& presetId)
{
    m_taskChosen = true;
    const data::TaskPreset* preset = data::findTaskPreset(presetId.toStdString());
    int index = preset ? m_task->findData(presetId) : m_task->count() - 1;
    {
        const QSignalBlocker block(m_task);
        m_task->setCurrentIndex(index);
    }
    if (preset) {
        QStringList classes;
        for (const std::string& c : preset->classes)
            classes << QString::fromStdString(c);
        m_size->setValue(preset->inputSize);
        setLabels(classes);
    }
    store();
    emit taskChanged(task());
}

QString CropPanel::task() const
{
    return m_task->currentData().toString();
}

void CropPanel::rebuildButtons()
{
    while (QLayoutItem* item = m_buttons->takeAt(0)) {
        delete item->widget();
        delete item;
    }
    for (int i = 0; i < m_labels.size(); ++i) {
        auto* b = new QToolButton; // QPushButton insists on a wide minimum
        b->setText(m_labels[i]);
        b->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
        if (i < 10)
            b->setToolTip(tr("Save the crop as \"%1\" (key %2)").arg(m_labels[i]).arg(i));
        b->setMinimumHeight(32);
        const QString label = m_labels[i];
        connect(b, &QToolButton::clicked, this, [this, label] { emit labelChosen(label); });
        m_buttons->addWidget(b, i / 5, i % 5);
    }
}

void CropPanel::chooseRoot()
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Data-set folder"), m_root->text());
    if (!dir.isEmpty())
        setDatasetRoot(dir);
}

void CropPanel::setDatasetRoot(const QString& path)
{
    m_root->setText(path);
    store();
}

QString CropPanel::datasetRoot() const
{
    return m_root->text().trimmed();
}
void CropPanel::setOutputSize(int pixels)
{
    m_size->setValue(pixels);
}
void CropPanel::setRaw(bool raw)
{
    m_mode->setCurrentIndex(raw ? 1 : 0);
}
void CropPanel::setSquare(bool on)
{
    m_square->setChecked(on);
}
bool CropPanel::square() const
{
    return m_square->isChecked();
}
bool CropPanel::advanceAfterSave() const
{
    return m_advance->isChecked();
}
void CropPanel::setAdvanceAfterSave(bool on)
{
    m_advance->setChecked(on);
}
void CropPanel::setRoiInfo(const QString& text)
{
    m_roiInfo->setText(text);
}
QString CropPanel::roiInfo() const
{
    return m_roiInfo->text();
}
void CropPanel::setLastSaved(const QString& text)
{
    m_lastSaved->setText(text);
}
void CropPanel::setUndoEnabled(bool on)
{
    m_undo->setEnabled(on);
}

void CropPanel::store() const
{
    const QString g = QStringLiteral("crop/");
    settings::set(g + QStringLiteral("datasetRoot"), m_root->text().trimmed());
    settings::set(g + QStringLiteral("outputSize"), m_size->value());
    settings::set(g + QStringLiteral("raw"), m_mode->currentIndex() == 1);
    settings::set(g + QStringLiteral("square"), m_square->isChecked());
    settings::set(g + QStringLiteral("advance"), m_advance->isChecked());
    settings::set(g + QStringLiteral("labels"), m_labels);
    settings::set(g + QStringLiteral("task"), task());
}

} // namespace lightbox::ui
