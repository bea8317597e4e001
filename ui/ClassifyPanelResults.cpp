// The classify panel's result: probability bars, the expected grade, the out-of-distribution
// banner, the heat map on the viewer that asked, and the texts tests and reports read.
#include "ClassifyPanel.h"
#include "ClassifyPanelPrivate.h"

#include "Language.h"

#include <QGridLayout>
#include <QLabel>
#include <QProgressBar>

#include <opencv2/core.hpp>

#include <algorithm>

namespace lightbox::ui {

using namespace classifypanel;

void ClassifyPanel::applyResult(const jobs::PredictResult& result)
{
    m_result = result;
    if (!result.ok()) {
        clearResult(QString());
        showError(result.error.left(1).toUpper() + result.error.mid(1));
        emit resultApplied(result);
        return;
    }
    m_error->hide();
    if (result.model.path == modelPath() && m_describedPath != result.model.path)
        applyModelInfo(result.model);
    const QStringList names = shownClassNames(result.model);
    if (names != m_classNames)
        rebuildBars(names);
    m_highlighted = result.topClass;
    // An image unlike the training images: say so first, and grey the probabilities out.
    const bool distrusted = result.ood.available && result.ood.flagged;
    if (distrusted) {
        m_oodBanner->setText(tr("This image is unlike the images this model was trained on: its %1 score is "
                                "above %2 % of the model's validation images. Do not trust these probabilities.")
                                 .arg(result.ood.method == "energy" ? tr("energy") : tr("Mahalanobis"))
                                 .arg(result.ood.percentile, 0, 'f', 1));
        m_oodBanner->show();
    } else {
        m_oodBanner->clear();
        m_oodBanner->hide();
    }
    for (std::size_t i = 0; i < m_barValues.size() && i < result.probabilities.size(); ++i) {
        const double p = result.probabilities[i];
        QProgressBar* bar = m_barValues[i];
        bar->setValue(static_cast<int>(std::lround(p * kBarSteps)));
        bar->setFormat(QStringLiteral("%1 %").arg(100.0 * p, 0, 'f', 1));
        const bool top = static_cast<int>(i) == result.topClass;
        QPalette pal = bar->palette();
        pal.setColor(QPalette::Highlight, distrusted ? kDistrustedColour : top ? kTopColour : kOtherColour);
        bar->setPalette(pal);
        bar->setEnabled(!distrusted);
        m_barNames[i]->setEnabled(!distrusted);
        QFont f = m_barNames[i]->font();
        f.setBold(top && !distrusted);
        m_barNames[i]->setFont(f);
    }
    m_grade->setEnabled(!distrusted);
    if (result.model.card.ordinal && result.expectedGrade >= 0 && !result.model.card.cutPoints.empty())
        m_grade->setText(tr("Grade %1 (expected grade %2 under the model's cut points; top: %3, %4 %)")
                             .arg(names.value(result.grade))
                             .arg(result.expectedGrade, 0, 'f', 2)
                             .arg(names.value(result.topClass))
                             .arg(100.0 * result.probabilities[static_cast<std::size_t>(result.topClass)], 0, 'f', 1));
    else if (result.model.card.ordinal && result.expectedGrade >= 0)
        m_grade->setText(tr("Expected grade %1 (top: %2, %3 %)")
                             .arg(result.expectedGrade, 0, 'f', 2)
                             .arg(names.value(result.topClass))
                             .arg(100.0 * result.probabilities[static_cast<std::size_t>(result.topClass)], 0, 'f', 1));
    else
        m_grade->setText(tr("Top: %1 (%2 %)")
                             .arg(names.value(result.topClass))
                             .arg(100.0 * result.probabilities[static_cast<std::size_t>(result.topClass)], 0, 'f', 1));
    const QString where = result.camRect.isValid() && m_viewer && m_viewer->roi() == result.camRect
                              ? tr("crop %1 × %2").arg(result.camRect.width()).arg(result.camRect.height())
                              : QString();
    QString trust;
    if (result.ood.available && !distrusted)
        trust = tr(" · like the training images (%1th percentile)").arg(result.ood.percentile, 0, 'f', 0);
    if (result.model.card.head == "corn")
        trust += tr(" · ordinal head (CORN)");
    if (result.temperature != 1.0)
        trust += tr(" · calibrated (T = %1)").arg(result.temperature, 0, 'f', 2);
    if (result.members > 1)
        trust += tr(" · %1 of %2 networks agree (spread ±%3 %)")
                     .arg(result.membersAgreeing)
                     .arg(result.members)
                     .arg(100.0 * result.memberSpread, 0, 'f', 0);
    if (result.views > 1)
        trust += tr(" · TTA %1 views (+%2 ms)")
                     .arg(result.views)
                     .arg(std::max(0.0, result.latencyMs - result.singleViewMs), 0, 'f', 0);
    m_info->setText(
        tr("%1 · %2 ms%3%4%5")
            .arg(result.device)
            .arg(result.latencyMs, 0, 'f', 1)
            .arg(result.model.loadMs > 0 ? tr(" (+ %1 ms load)").arg(result.model.loadMs, 0, 'f', 0) : QString())
            .arg(where.isEmpty() ? QString() : QStringLiteral(" · ") + where)
            .arg(trust));
    if (m_viewer)
        showHeatMap(m_viewer, result);
    emit resultApplied(result);
}

void ClassifyPanel::showHeatMap(ImageViewer* viewer, const jobs::PredictResult& result) const
{
    if (!result.hasCam()) {
        viewer->clearHeatMap();
        return;
    }
    const QStringList names = shownClassNames(result.model);
    const cv::Mat values(result.cam.height, result.cam.width, CV_32F, const_cast<float*>(result.cam.values.data()));
    const QString method = result.camMethod == ml::CamMethod::GradCamPlusPlus ? tr("Grad-CAM++") : tr("Grad-CAM");
    QString title = tr("%1, class %2").arg(method, names.value(result.camClass));
    if (result.ood.available && result.ood.flagged) // the map explains a decision the model is not fit to make here
        title = tr("Out of distribution, not reliable: %1").arg(title);
    viewer->setHeatMap(values, result.camRect, title); // copies the values
}

void ClassifyPanel::rebuildBars(const QStringList& names)
{
    for (QLabel* l : m_barNames)
        delete l;
    for (QProgressBar* b : m_barValues)
        delete b;
    m_barNames.clear();
    m_barValues.clear();
    m_classNames = names;
    for (int i = 0; i < names.size(); ++i) {
        auto* name = new QLabel(names[i]);
        auto* bar = new QProgressBar;
        bar->setRange(0, kBarSteps);
        bar->setValue(0);
        bar->setTextVisible(true);
        bar->setFormat(QStringLiteral("–"));
        bar->setAlignment(Qt::AlignCenter);
        bar->setMaximumHeight(QFontMetrics(bar->font()).height() + 6);
        m_bars->addWidget(name, i, 0);
        m_bars->addWidget(bar, i, 1);
        m_barNames.push_back(name);
        m_barValues.push_back(bar);
    }
    m_highlighted = -1;
}

void ClassifyPanel::clearResult(const QString& status, bool clearMap)
{
    for (std::size_t i = 0; i < m_barValues.size(); ++i) {
        m_barValues[i]->setValue(0);
        m_barValues[i]->setFormat(QStringLiteral("–"));
        QFont f = m_barNames[i]->font();
        f.setBold(false);
        m_barNames[i]->setFont(f);
    }
    m_highlighted = -1;
    m_grade->clear();
    m_oodBanner->clear();
    m_oodBanner->hide();
    m_info->setText(status);
    if (m_viewer && clearMap)
        m_viewer->clearHeatMap();
}

void ClassifyPanel::showError(const QString& text)
{
    m_error->setText(text);
    m_error->setVisible(!text.isEmpty());
}

QString ClassifyPanel::oodBannerText() const
{
    return m_oodBanner->isHidden() ? QString() : m_oodBanner->text();
}

QString ClassifyPanel::errorText() const
{
    return m_error->isHidden() ? QString() : m_error->text();
}

QString ClassifyPanel::infoText() const
{
    return m_info->text();
}

QString ClassifyPanel::expectedGradeText() const
{
    return m_grade->text();
}

QString ClassifyPanel::modelSummary() const
{
    return m_card->text();
}

std::vector<double> ClassifyPanel::barValues() const
{
    std::vector<double> out;
    for (const QProgressBar* b : m_barValues)
        out.push_back(100.0 * b->value() / kBarSteps);
    return out;
}

QStringList ClassifyPanel::barLabels() const
{
    QStringList out;
    for (const QLabel* l : m_barNames)
        out << l->text();
    return out;
}

} // namespace lightbox::ui
