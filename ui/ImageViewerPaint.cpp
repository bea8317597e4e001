// The image viewer's painting: the image at a pyramid level for the zoom, the crop box,
// the corner texts, the heat map and its colour bar, and renders for exports.
#include "ImageViewer.h"
#include "ImageViewerPrivate.h"

#include "Annotations.h"

#include <QPainter>
#include <QPainterPath>
#include <QPolygonF>

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace lightbox::ui {

using namespace imageviewer;

namespace {

constexpr int kMaxLevels = 8;

QString formatDate(const std::string& dicomDate)
{
    const QString d = QString::fromStdString(dicomDate).trimmed();
    if (d.size() == 8 && d.toInt() > 0)
        return d.left(4) + QLatin1Char('-') + d.mid(4, 2) + QLatin1Char('-') + d.mid(6, 2);
    return d;
}

QString tag(const imaging::Image& img, const char* keyword)
{
    return QString::fromStdString(img.keyTag(keyword)).trimmed();
}

} // namespace

// ---------------------------------------------------------------------------------------
// Painting

int ImageViewer::levelFor(double z) const
{
    if (!hasImage())
        return 0;
    const int depth = m_image->pixels.depth();
    if (depth != CV_8U && depth != CV_16U && depth != CV_16S)
        return 0;
    int level = 0;
    while (level < kMaxLevels && z * std::pow(2.0, level + 1) <= 1.0 &&
           std::min(m_image->width(), m_image->height()) >> (level + 1) >= 16)
        ++level;
    return level;
}

const cv::Mat& ImageViewer::levelPixels(int level)
{
    if (m_levels.empty())
        m_levels.push_back(m_image->pixels);
    while (static_cast<int>(m_levels.size()) <= level) {
        const cv::Mat& prev = m_levels.back();
        cv::Mat next;
        cv::resize(prev, next, cv::Size((prev.cols + 1) / 2, (prev.rows + 1) / 2), 0, 0, cv::INTER_AREA);
        m_levels.push_back(next);
    }
    return m_levels[static_cast<std::size_t>(level)];
}

void ImageViewer::paintImage(QPainter& p, QSize size, double devicePixelRatio)
{
    if (!hasImage())
        return;
    const QTransform t = transformFor(size);
    const int W = m_image->width(), H = m_image->height();
    const QRectF visible = t.inverted().mapRect(QRectF(0, 0, size.width(), size.height())) & QRectF(0, 0, W, H);
    if (visible.isEmpty())
        return;
    // On a high-DPI screen a logical pixel holds several device pixels: pick a finer level.
    const int level = levelFor(m_zoom * std::max(1.0, devicePixelRatio));
    const cv::Mat& lv = levelPixels(level);
    const double sx = double(W) / lv.cols, sy = double(H) / lv.rows;
    const int x0 = std::max(0, static_cast<int>(std::floor(visible.left() / sx)) - 1);
    const int y0 = std::max(0, static_cast<int>(std::floor(visible.top() / sy)) - 1);
    const int x1 = std::min(lv.cols, static_cast<int>(std::ceil(visible.right() / sx)) + 1);
    const int y1 = std::min(lv.rows, static_cast<int>(std::ceil(visible.bottom() / sy)) + 1);
    if (x1 <= x0 || y1 <= y0)
        return;
    if (!m_lut)
        m_lut = std::make_unique<imaging::DisplayLut>(*m_image, m_params);
    m_levelImage.pixels = lv;
    const cv::Rect region(x0, y0, x1 - x0, y1 - y0);
    m_lut->apply(m_levelImage, m_rendered, region);
    const QImage view(m_rendered.data, m_rendered.cols, m_rendered.rows, static_cast<qsizetype>(m_rendered.step),
                      m_rendered.channels() == 3 ? QImage::Format_RGB888 : QImage::Format_Grayscale8);
    p.save();
    p.setTransform(t);
    p.setRenderHint(QPainter::SmoothPixmapTransform, m_zoom < 4.0);
    p.drawImage(QRectF(x0 * sx, y0 * sy, region.width * sx, region.height * sy), view);
    p.restore();
}

void ImageViewer::paintRoi(QPainter& p, QSize size)
{
    if (!m_roi || !hasImage())
        return;
    const QTransform t = transformFor(size);
    const QPolygonF poly = t.map(QPolygonF(QRectF(*m_roi)));
    p.save();
    p.setRenderHint(QPainter::Antialiasing, true);
    QPainterPath outside;
    outside.addRect(QRectF(0, 0, size.width(), size.height()));
    QPainterPath inside;
    inside.addPolygon(poly);
    p.fillPath(outside.subtracted(inside), QColor(0, 0, 0, 90));
    p.setPen(QPen(QColor(0, 0, 0, 160), 3.0));
    p.drawPolygon(poly);
    p.setPen(QPen(QColor(255, 214, 0), 1.5));
    p.drawPolygon(poly);
    p.setPen(QPen(Qt::black, 1.0));
    p.setBrush(QColor(255, 214, 0));
    if (size == this->size())
        for (const auto& h : handlePositions())
            p.drawRect(QRectF(h.second - QPointF(3.5, 3.5), QSizeF(7, 7)));
    QString text = QStringLiteral("%1 × %2 px").arg(m_roi->width()).arg(m_roi->height());
    if (m_image->spacingRow > 0 && m_image->spacingCol > 0)
        text += QStringLiteral("  ·  %1 × %2 mm")
                    .arg(m_roi->width() * m_image->spacingCol, 0, 'f', 1)
                    .arg(m_roi->height() * m_image->spacingRow, 0, 'f', 1);
    const QRectF box = poly.boundingRect();
    QFont f = font();
    f.setPixelSize(13);
    p.setFont(f);
    const QPointF at(box.left(), std::max(14.0, box.top() - 6.0));
    p.setPen(Qt::black);
    p.drawText(at + QPointF(1, 1), text);
    p.setPen(QColor(255, 214, 0));
    p.drawText(at, text);
    p.restore();
}

void ImageViewer::paintOverlay(QPainter& p, QSize size)
{
    if (!m_overlayVisible || !hasImage())
        return;
    const imaging::Image& img = *m_image;
    QStringList topLeft, topRight, bottomLeft, bottomRight;
    if (img.format == "DICOM") {
        QString name = tag(img, "PatientName");
        name.replace(QLatin1Char('^'), QLatin1Char(' '));
        topLeft << name.simplified();
        if (const QString id = tag(img, "PatientID"); !id.isEmpty())
            topLeft << tr("ID: %1").arg(id);
        QString born = formatDate(img.keyTag("PatientBirthDate"));
        if (const QString sex = tag(img, "PatientSex"); !sex.isEmpty())
            born = born.isEmpty() ? sex : born + QStringLiteral("  ") + sex;
        if (!born.isEmpty())
            topLeft << tr("Born: %1").arg(born);
        topRight << tag(img, "InstitutionName") << tag(img, "StudyDescription") << tag(img, "SeriesDescription");
        topRight << formatDate(img.keyTag("StudyDate"));
        topRight << QStringList({tag(img, "Modality"), tag(img, "BodyPartExamined"), tag(img, "ViewPosition")})
                        .join(QLatin1Char(' '))
                        .simplified();
    } else {
        topLeft << QString::fromStdString(img.format);
    }
    if (m_params.useVoiLut && img.voiLut.valid())
        bottomLeft << tr("VOI LUT %1").arg(QString::fromStdString(img.voiLut.explanation));
    else
        bottomLeft << tr("W %1  L %2").arg(m_params.window.width, 0, 'f', 0).arg(m_params.window.center, 0, 'f', 0) +
                          (m_params.window.explanation.empty()
                               ? QString()
                               : QStringLiteral("  (%1)").arg(QString::fromStdString(m_params.window.explanation)));
    bottomLeft << tr("Zoom %1%").arg(m_zoom * 100.0, 0, 'f', 0);
    QStringList state;
    if (m_rotation)
        state << tr("Rot %1°").arg(m_rotation * 90);
    if (m_flipH)
        state << tr("Flip H");
    if (m_flipV)
        state << tr("Flip V");
    if (m_params.invert)
        state << tr("Inverted");
    if (!state.isEmpty())
        bottomLeft << state.join(QStringLiteral("  "));
    bottomRight << tr("%1 × %2  %3-bit %4")
                       .arg(img.width())
                       .arg(img.height())
                       .arg(img.bitsStored)
                       .arg(QString::fromLatin1(imaging::toString(img.photometric)));
    if (img.spacingRow > 0)
        bottomRight << tr("%1 mm/px").arg(img.spacingRow, 0, 'f', 3);
    bottomRight << m_overlayExtra;
    topLeft.removeAll(QString());
    topRight.removeAll(QString());

    p.save();
    QFont f = font();
    f.setPixelSize(13);
    p.setFont(f);
    const QFontMetrics fm(f);
    const int lh = fm.height(), margin = 8;
    auto draw = [&](const QStringList& lines, bool right, bool bottom) {
        for (int i = 0; i < lines.size(); ++i) {
            const int row = bottom ? lines.size() - 1 - i : i;
            const int y = bottom ? size.height() - margin - row * lh - fm.descent() : margin + fm.ascent() + i * lh;
            const int w = fm.horizontalAdvance(lines[i]);
            const int x = right ? size.width() - margin - w : margin;
            p.setPen(QColor(0, 0, 0, 200));
            p.drawText(x + 1, y + 1, lines[i]);
            p.setPen(QColor(235, 235, 200));
            p.drawText(x, y, lines[i]);
        }
    };
    draw(topLeft, false, false);
    draw(topRight, true, false);
    draw(bottomLeft, false, true);
    draw(bottomRight, true, true);
    p.restore();
}

void ImageViewer::paintHeatMap(QPainter& p, QSize size)
{
    if (!hasHeatMap() || !m_heatVisible || m_heatOpacity <= 0.0 || !hasImage())
        return;
    p.save();
    p.setTransform(transformFor(size));
    p.setOpacity(m_heatOpacity);
    p.setRenderHint(QPainter::SmoothPixmapTransform, true);
    p.drawImage(QRectF(m_heatRect), m_heatImage);
    p.restore();
}

void ImageViewer::paintColourBar(QPainter& p, QSize size)
{
    if (!hasHeatMap() || !m_heatVisible || !hasImage())
        return;
    const int barW = 14, margin = 10;
    const int barH = std::clamp(size.height() / 3, 60, 240);
    const QRect bar(size.width() - margin - barW, (size.height() - barH) / 2, barW, barH);
    cv::Mat ramp(barH, 1, CV_8UC1);
    for (int i = 0; i < barH; ++i)
        ramp.at<uint8_t>(i) = static_cast<uint8_t>(std::lround(255.0 * (barH - 1 - i) / std::max(1, barH - 1)));
    p.save();
    p.drawImage(bar, colourise(ramp, m_colormap));
    p.setPen(QPen(QColor(0, 0, 0, 200), 1.0));
    p.drawRect(bar.adjusted(-1, -1, 0, 0));
    QFont f = font();
    f.setPixelSize(12);
    p.setFont(f);
    const QFontMetrics fm(f);
    auto label = [&](const QString& text, int x, int y) {
        p.setPen(QColor(0, 0, 0, 200));
        p.drawText(x + 1, y + 1, text);
        p.setPen(QColor(235, 235, 200));
        p.drawText(x, y, text);
    };
    const QString one = QStringLiteral("1"), zero = QStringLiteral("0");
    label(one, bar.left() - 4 - fm.horizontalAdvance(one), bar.top() + fm.ascent() - 2);
    label(zero, bar.left() - 4 - fm.horizontalAdvance(zero), bar.bottom() + 1);
    if (!m_heatTitle.isEmpty()) {
        const QString title = fm.elidedText(m_heatTitle, Qt::ElideRight, std::max(40, size.width() / 2));
        label(title, size.width() - margin - fm.horizontalAdvance(title), bar.top() - fm.descent() - 6);
    }
    p.restore();
}

void ImageViewer::paintAll(QPainter& p, QSize size, double devicePixelRatio)
{
    p.fillRect(QRect(QPoint(0, 0), size), Qt::black);
    paintImage(p, size, devicePixelRatio);
    paintHeatMap(p, size);
    paintRoi(p, size);
    if (m_annotationsVisible)
        m_annotations->paint(p, transformFor(size), 13);
    paintOverlay(p, size);
    paintColourBar(p, size);
}

void ImageViewer::paintEvent(QPaintEvent*)
{
    QPainter p(this);
    if (!hasImage()) {
        p.fillRect(rect(), Qt::black);
        p.setPen(QColor(150, 150, 150));
        p.drawText(rect(), Qt::AlignCenter,
                   tr("Open an X-ray or DICOM file (Ctrl+O), a folder (Ctrl+Shift+O), or drop one here"));
        return;
    }
    paintAll(p, size(), devicePixelRatioF());
}

void ImageViewer::renderTo(QImage& target)
{
    QPainter p(&target);
    paintAll(p, target.size(), target.devicePixelRatio());
}

QImage ImageViewer::renderView(bool overlays, bool nativeResolution, bool cornerText)
{
    if (!hasImage())
        return {};
    const double zoom = m_zoom;
    const QPointF pan = m_pan;
    const bool fit = m_fit, overlay = m_overlayVisible, annotations = m_annotationsVisible, heat = m_heatVisible;
    QSize size = this->size();
    if (nativeResolution) {
        size = m_rotation % 2 ? QSize(m_image->height(), m_image->width()) : QSize(m_image->width(), m_image->height());
        m_zoom = 1.0;
        m_pan = {};
        m_fit = false;
    }
    const std::optional<QRect> roi = m_roi;
    if (!overlays) {
        m_overlayVisible = m_annotationsVisible = m_heatVisible = false;
        m_roi.reset(); // the crop rectangle too
    }
    if (!cornerText)
        m_overlayVisible = false;
    QImage out(size, QImage::Format_RGB32);
    {
        QPainter p(&out);
        paintAll(p, size, 1.0);
    }
    m_zoom = zoom;
    m_pan = pan;
    m_fit = fit;
    m_overlayVisible = overlay;
    m_annotationsVisible = annotations;
    m_heatVisible = heat;
    m_roi = roi;
    return out;
}

} // namespace lightbox::ui
