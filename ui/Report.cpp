#include "Report.h"

#include <QDateTime>
#include <QFile>
#include <QFileInfo>
#include <QFontMetricsF>
#include <QPageSize>
#include <QPainter>
#include <QPdfWriter>
#include <QSaveFile>

#include <opencv2/imgproc.hpp>

#include <algorithm>

namespace lightbox::ui {
namespace {

/// Turbo colours, bottom (0) to top (1), as the viewer draws its colour bar.
QImage colourBar(int height)
{
    cv::Mat ramp(height, 1, CV_8UC1);
    for (int i = 0; i < height; ++i)
        ramp.at<uint8_t>(i) = static_cast<uint8_t>(255.0 * (height - 1 - i) / std::max(1, height - 1));
    cv::Mat bgr;
    cv::applyColorMap(ramp, bgr, cv::COLORMAP_TURBO);
    return QImage(bgr.data, bgr.cols, bgr.rows, static_cast<qsizetype>(bgr.step), QImage::Format_BGR888).copy();
}

} // namespace

void ReportData::describe(const imaging::Image& img, bool withPatient)
{
    identify = withPatient;
    if (identify) {
        patientName = QString::fromStdString(img.keyTag("PatientName")).replace(QLatin1Char('^'), QLatin1Char(' '));
        patientId = QString::fromStdString(img.keyTag("PatientID"));
        studyDate = QString::fromStdString(img.keyTag("StudyDate"));
    }
    description = img.format == "DICOM"
                      ? QString::fromStdString(img.keyTag("Modality") + " " + img.keyTag("BodyPartExamined") + " " +
                                               img.keyTag("ViewPosition"))
                            .simplified()
                      : QStringLiteral("%1 image").arg(QString::fromStdString(img.format));
}

Result<bool> writeReportPdf(const ReportData& d, const QString& path)
{
    using R = Result<bool>;
    if (d.view.isNull())
        return R::failure("no image for the report");
    // Written beside the target and renamed: a failed write leaves no half PDF.
    const QString tmp = path + QStringLiteral(".tmp");
    bool ok = false;
    {
        QPdfWriter pdf(tmp);
        pdf.setPageSize(QPageSize(QPageSize::A4));
        pdf.setResolution(150);
        pdf.setPageMargins(QMarginsF(14, 14, 14, 14), QPageLayout::Millimeter);
        pdf.setTitle(QStringLiteral("Lightbox report"));
        pdf.setCreator(QStringLiteral("Lightbox %1").arg(d.version));
        QPainter p;
        if (!p.begin(&pdf))
            return R::failure("cannot write " + path.toStdString());
        const QRectF page(QPointF(0, 0), QSizeF(pdf.width(), pdf.height()));
        const double unit = pdf.resolution() / 72.0; // device units per point
        auto font = [&](double points, bool bold = false) {
            QFont f(QStringLiteral("DejaVu Sans"));
            f.setPointSizeF(points);
            f.setBold(bold);
            p.setFont(f);
            return QFontMetricsF(f, &pdf);
        };
        double y = 0;
        auto line = [&](const QString& text, double points, bool bold = false, QColor colour = Qt::black) {
            const QFontMetricsF fm = font(points, bold);
            p.setPen(colour);
            const QRectF box(0, y, page.width(), page.height() - y);
            const QRectF used = p.boundingRect(box, Qt::TextWordWrap, text);
            p.drawText(box, Qt::TextWordWrap, text);
            y += std::max(used.height(), fm.height()) + 2 * unit;
        };

        // Header.
        line(QStringLiteral("Lightbox report"), 16, true);
        line(
            QStringLiteral("Created %1").arg(QDateTime::currentDateTime().toString(QStringLiteral("yyyy-MM-dd HH:mm"))),
            9, false, QColor(80, 80, 80));
        if (d.identify)
            line(QStringLiteral("Patient: %1   ID: %2%3")
                     .arg(d.patientName.isEmpty() ? QStringLiteral("-") : d.patientName,
                          d.patientId.isEmpty() ? QStringLiteral("-") : d.patientId,
                          d.studyDate.isEmpty() ? QString() : QStringLiteral("   Study date: ") + d.studyDate),
                 10);
        else
            line(QStringLiteral("De-identified: no patient name or ID in this report"), 10, false, QColor(80, 80, 80));
        if (!d.description.isEmpty())
            line(d.description, 10);
        y += 4 * unit;

        // The image, with the colour bar beside it when asked.
        const double barWidth = d.drawColourBar ? 40 * unit : 0;
        const QRectF room(0, y, page.width() - barWidth, page.height() * 0.52);
        QSizeF size = d.view.size();
        size.scale(room.size(), Qt::KeepAspectRatio);
        const QRectF target(room.left() + (room.width() - size.width()) / 2, room.top(), size.width(), size.height());
        p.drawImage(target, d.view);
        if (d.drawColourBar && !d.heatMapTitle.isEmpty()) {
            const QRectF bar(target.right() + 10 * unit, target.top() + target.height() * 0.2, 10 * unit,
                             target.height() * 0.6);
            p.drawImage(bar, colourBar(256));
            p.setPen(Qt::black);
            p.drawRect(bar);
            font(7);
            p.drawText(QPointF(bar.right() + 3 * unit, bar.top() + 7 * unit), QStringLiteral("1"));
            p.drawText(QPointF(bar.right() + 3 * unit, bar.bottom()), QStringLiteral("0"));
        }
        y = target.bottom() + 6 * unit;
        if (!d.heatMapTitle.isEmpty())
            line(QStringLiteral("Heat map: %1").arg(d.heatMapTitle), 9, false, QColor(60, 60, 60));

        // Classification.
        if (!d.modelName.isEmpty()) {
            line(QStringLiteral("Classification by %1").arg(d.modelName), 11, true);
            if (!d.modelSummary.isEmpty())
                line(d.modelSummary, 8, false, QColor(60, 60, 60));
            if (d.oodAvailable)
                line(d.oodFlagged ? QStringLiteral("OUT OF DISTRIBUTION: this image is unlike the model's training "
                                                   "images; the probabilities are not reliable (%1)")
                                        .arg(d.oodText)
                                  : QStringLiteral("In distribution (%1)").arg(d.oodText),
                     9, d.oodFlagged, d.oodFlagged ? QColor(190, 0, 0) : QColor(0, 110, 0));
            QStringList rows;
            for (int i = 0; i < d.probabilities.size(); ++i) {
                const auto& [name, prob] = d.probabilities[i];
                rows << QStringLiteral("%1%2: %3 %")
                            .arg(i == d.topClass ? QStringLiteral("► ") : QStringLiteral("   "), name)
                            .arg(prob * 100.0, 0, 'f', 1);
            }
            line(rows.join(QLatin1Char('\n')), 10);
            if (!d.gradeText.isEmpty())
                line(d.gradeText, 10);
        }
        if (!d.measurements.isEmpty()) {
            line(QStringLiteral("Measurements"), 11, true);
            line(d.measurements.join(QLatin1Char('\n')), 9);
        }

        // Foot.
        font(9, true);
        p.setPen(QColor(150, 0, 0));
        p.drawText(QRectF(0, page.height() - 30 * unit, page.width(), 14 * unit), Qt::AlignLeft,
                   QStringLiteral("Research software, not for clinical use."));
        font(7);
        p.setPen(QColor(90, 90, 90));
        p.drawText(QRectF(0, page.height() - 15 * unit, page.width(), 12 * unit), Qt::AlignLeft,
                   QStringLiteral("Lightbox %1").arg(d.version));
        ok = p.end();
    }
    if (!ok || QFileInfo(tmp).size() == 0) {
        QFile::remove(tmp);
        return R::failure("cannot write " + path.toStdString());
    }
    QFile::remove(path);
    if (!QFile::rename(tmp, path)) {
        QFile::remove(tmp);
        return R::failure("cannot write " + path.toStdString() + " (rename failed)");
    }
    return true;
}

} // namespace lightbox::ui
