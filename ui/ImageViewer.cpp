// The image viewer: the image, its view (zoom, pan, rotation, flips, linked views), window
// and level, tools and the heat map. The crop box, mouse and keys are in
// ImageViewerInput.cpp; painting and rendering in ImageViewerPaint.cpp.
#include "ImageViewer.h"
#include "ImageViewerPrivate.h"

#include "Annotations.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace lightbox::ui {

using namespace imageviewer;

namespace {

constexpr double kMinZoom = 0.01;
constexpr double kMaxZoom = 64.0;

} // namespace

ImageViewer::ImageViewer(QWidget* parent) : QWidget(parent)
{
    setAttribute(Qt::WA_OpaquePaintEvent);
    setMouseTracking(true);
    setFocusPolicy(Qt::StrongFocus);
    setMinimumSize(200, 200);
    setCursor(Qt::CrossCursor);
    m_annotations = new AnnotationLayer(this);
    connect(m_annotations, &AnnotationLayer::changed, this, qOverload<>(&QWidget::update));
}

void ImageViewer::setAnnotationsVisible(bool on)
{
    m_annotationsVisible = on;
    update();
}

ImageViewer::~ImageViewer() = default;

void ImageViewer::setImage(std::shared_ptr<const imaging::Image> image)
{
    m_image = std::move(image);
    m_levels.clear();
    m_levelImage = {};
    m_rendered.release();
    m_params = {};
    if (hasImage()) {
        m_params.window = m_image->defaultWindow();
        if (!m_params.window.valid())
            m_params.window = imaging::computeAutoWindow(*m_image);
        m_params.useVoiLut = m_image->fileWindows.empty() && m_image->voiLut.valid();
    }
    invalidateLut();
    m_rotation = 0;
    m_flipH = m_flipV = false;
    m_fit = true;
    m_zoom = fitZoom(size());
    m_pan = {};
    m_drag = Drag::None;
    if (m_roi && (!hasImage() || !QRect(0, 0, m_image->width(), m_image->height()).contains(*m_roi)))
        setRoiInternal(std::nullopt);
    clearHeatMap(); // it explained the previous image
    m_annotations->setImage(m_image);
    update();
    emit windowChanged(m_params.window);
    emit viewChanged();
    emit imageSet();
}

// ---------------------------------------------------------------------------------------
// View

QTransform ImageViewer::transformFor(QSize size) const
{
    QTransform t;
    if (!hasImage())
        return t;
    t.translate(size.width() / 2.0 + m_pan.x(), size.height() / 2.0 + m_pan.y());
    t.scale(m_flipH ? -1.0 : 1.0, m_flipV ? -1.0 : 1.0);
    t.rotate(90.0 * m_rotation);
    t.scale(m_zoom, m_zoom);
    t.translate(-m_image->width() / 2.0, -m_image->height() / 2.0);
    return t;
}

QTransform ImageViewer::imageToWidget() const
{
    return transformFor(size());
}

QPointF ImageViewer::widgetToImage(QPointF widgetPoint) const
{
    return imageToWidget().inverted().map(widgetPoint);
}

double ImageViewer::fitZoom(QSize size) const
{
    if (!hasImage())
        return 1.0;
    const bool quarter = m_rotation % 2 == 1;
    const double w = quarter ? m_image->height() : m_image->width();
    const double h = quarter ? m_image->width() : m_image->height();
    return std::clamp(std::min(size.width() / w, size.height() / h), kMinZoom, kMaxZoom);
}

void ImageViewer::fitToWindow()
{
    m_fit = true;
    m_zoom = fitZoom(size());
    m_pan = {};
    update();
    emit viewChanged();
}

void ImageViewer::actualSize()
{
    m_fit = false;
    m_zoom = 1.0;
    m_pan = {};
    update();
    emit viewChanged();
}

void ImageViewer::setZoom(double zoom, std::optional<QPointF> anchor)
{
    if (!hasImage())
        return;
    const QPointF a = anchor.value_or(QPointF(width() / 2.0, height() / 2.0));
    const QPointF fixed = widgetToImage(a);
    m_zoom = std::clamp(zoom, kMinZoom, kMaxZoom);
    m_fit = false;
    m_pan += a - imageToWidget().map(fixed);
    update();
    emit viewChanged();
}

void ImageViewer::setPan(QPointF pan)
{
    m_pan = pan;
    m_fit = false;
    update();
    emit viewChanged();
}

ImageViewer::LinkedView ImageViewer::linkedView() const
{
    LinkedView v;
    v.fit = m_fit;
    if (!hasImage())
        return v;
    v.zoomToFit = m_zoom / fitZoom(size());
    const bool quarter = m_rotation % 2 == 1;
    const double w = m_zoom * (quarter ? m_image->height() : m_image->width());
    const double h = m_zoom * (quarter ? m_image->width() : m_image->height());
    v.pan = QPointF(m_pan.x() / w, m_pan.y() / h);
    return v;
}

void ImageViewer::setLinkedView(const LinkedView& view)
{
    if (!hasImage())
        return;
    if (view.fit) {
        fitToWindow();
        return;
    }
    m_fit = false;
    m_zoom = std::clamp(view.zoomToFit * fitZoom(size()), kMinZoom, kMaxZoom);
    const bool quarter = m_rotation % 2 == 1;
    const double w = m_zoom * (quarter ? m_image->height() : m_image->width());
    const double h = m_zoom * (quarter ? m_image->width() : m_image->height());
    m_pan = QPointF(view.pan.x() * w, view.pan.y() * h);
    update();
    emit viewChanged();
}

void ImageViewer::rotate(int quarterTurns)
{
    m_rotation = ((m_rotation + quarterTurns) % 4 + 4) % 4;
    if (m_fit)
        m_zoom = fitZoom(size());
    update();
    emit viewChanged();
}

void ImageViewer::flipHorizontal()
{
    m_flipH = !m_flipH;
    update();
    emit viewChanged();
}

void ImageViewer::flipVertical()
{
    m_flipV = !m_flipV;
    update();
    emit viewChanged();
}

void ImageViewer::resetView()
{
    m_rotation = 0;
    m_flipH = m_flipV = false;
    if (hasImage()) {
        m_params.invert = false;
        m_params.window = m_image->defaultWindow();
        if (!m_params.window.valid())
            m_params.window = imaging::computeAutoWindow(*m_image);
        m_params.useVoiLut = m_image->fileWindows.empty() && m_image->voiLut.valid();
        invalidateLut();
        emit windowChanged(m_params.window);
    }
    fitToWindow();
}

void ImageViewer::resizeEvent(QResizeEvent*)
{
    if (m_fit) {
        m_zoom = fitZoom(size());
        m_pan = {};
        emit viewChanged();
    }
}

// ---------------------------------------------------------------------------------------
// Window / level

void ImageViewer::invalidateLut()
{
    m_lut.reset();
}

void ImageViewer::setWindow(const imaging::Window& window)
{
    if (!window.valid())
        return;
    m_params.window = window;
    m_params.useVoiLut = false;
    invalidateLut();
    update();
    emit windowChanged(m_params.window);
}

void ImageViewer::useVoiLut()
{
    if (!hasImage() || !m_image->voiLut.valid())
        return;
    m_params.useVoiLut = true;
    invalidateLut();
    update();
    emit windowChanged(m_params.window);
}

void ImageViewer::setAutoWindow()
{
    if (!hasImage())
        return;
    imaging::Window w = m_image->autoWindow.valid() ? m_image->autoWindow : imaging::computeAutoWindow(*m_image);
    setWindow(w);
}

void ImageViewer::setInverted(bool on)
{
    if (m_params.invert == on)
        return;
    m_params.invert = on;
    invalidateLut();
    update();
    emit windowChanged(m_params.window);
}

// ---------------------------------------------------------------------------------------
// Tools, overlay, ROI

void ImageViewer::setTool(Tool tool)
{
    if (m_tool != tool)
        m_annotations->cancelDrawing();
    m_tool = tool;
    setCursor(tool == Tool::Pan      ? Qt::OpenHandCursor
              : tool == Tool::Window ? Qt::SizeAllCursor
              : tool == Tool::Select ? Qt::ArrowCursor
                                     : Qt::CrossCursor);
}

void ImageViewer::setOverlayVisible(bool on)
{
    m_overlayVisible = on;
    update();
}

void ImageViewer::setOverlayExtra(const QStringList& lines)
{
    m_overlayExtra = lines;
    update();
}

// ---------------------------------------------------------------------------------------
// Heat map

void ImageViewer::setHeatMap(const cv::Mat& values, const QRect& rect, const QString& title)
{
    if (values.empty() || rect.isEmpty() || values.channels() != 1) {
        clearHeatMap();
        return;
    }
    values.convertTo(m_heatValues, CV_32F);
    cv::min(cv::max(m_heatValues, 0.0), 1.0, m_heatValues);
    cv::Mat v8;
    m_heatValues.convertTo(v8, CV_8U, 255.0);
    m_heatImage = colourise(v8, m_colormap);
    m_heatRect = rect;
    m_heatTitle = title;
    update();
    emit heatMapChanged();
}

void ImageViewer::clearHeatMap()
{
    if (m_heatValues.empty())
        return;
    m_heatValues.release();
    m_heatImage = {};
    m_heatRect = {};
    m_heatTitle.clear();
    update();
    emit heatMapChanged();
}

void ImageViewer::setHeatMapVisible(bool on)
{
    if (m_heatVisible == on)
        return;
    m_heatVisible = on;
    update();
    emit heatMapChanged();
}

void ImageViewer::setHeatMapOpacity(double opacity)
{
    opacity = std::clamp(opacity, 0.0, 1.0);
    if (opacity == m_heatOpacity)
        return;
    m_heatOpacity = opacity;
    update();
    emit heatMapChanged();
}

void ImageViewer::setHeatMapColormap(Colormap map)
{
    if (map == m_colormap)
        return;
    m_colormap = map;
    if (hasHeatMap()) {
        cv::Mat v8;
        m_heatValues.convertTo(v8, CV_8U, 255.0);
        m_heatImage = colourise(v8, m_colormap);
    }
    update();
    emit heatMapChanged();
}

QColor ImageViewer::colormapColor(Colormap map, double value)
{
    cv::Mat one(1, 1, CV_8UC1, cv::Scalar(std::clamp(static_cast<int>(std::lround(value * 255.0)), 0, 255)));
    return QColor(colourise(one, map).pixel(0, 0));
}

} // namespace lightbox::ui
