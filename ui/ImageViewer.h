#pragma once

#include <imaging/Image.h>
#include <imaging/Render.h>

#include <QColor>
#include <QImage>
#include <QPointF>
#include <QRect>
#include <QStringList>
#include <QTransform>
#include <QWidget>

#include <opencv2/core/mat.hpp>

#include <cmath>
#include <memory>
#include <optional>
#include <vector>

namespace lightbox::ui {

class AnnotationLayer;

/// The image view of the workstation: shows one radiograph through a window/level lookup
/// table (imaging::DisplayLut) and lets the user zoom (wheel, around the cursor), pan
/// (middle drag, or left drag with the Pan tool), window (right drag, or left drag with the
/// Window tool), rotate in quarter turns, flip, invert, and draw a crop rectangle (Crop tool)
/// that can be moved and resized by its handles and nudged with the arrow keys.
///
/// Rendering only touches the visible part of the image: when zoomed out it reads a cached
/// INTER_AREA pyramid level of the stored values, so a window change on a 2k x 2k 16-bit
/// image costs one 64 K-entry table plus one lookup per screen pixel.
///
/// The crop rectangle lives in stored-image pixel coordinates (no rotation or flip), which
/// is what the exporter crops. The corner overlay shows patient, study, window and zoom and
/// can be hidden for anonymous screenshots. A heat map (a class-activation map, values
/// 0..1) can lie over a region of the image: it is placed in image pixels, so it follows
/// zoom, pan, rotation and flips, is drawn through a colormap at an adjustable opacity with
/// a colour bar at the right edge, and is dropped when another image is set. This widget
/// does not load files, keep a history, know about data sets or run models: MainWindow and
/// the classify panel do.
class ImageViewer : public QWidget {
    Q_OBJECT
public:
    /// What a left drag does. Right drag always windows, middle drag always pans. The
    /// measurement tools draw annotations (AnnotationLayer); Select picks, moves and edits them.
    enum class Tool { Pan, Window, Crop, Ruler, Angle, Cobb, Rectangle, Ellipse, Arrow, Select };

    explicit ImageViewer(QWidget* parent = nullptr);
    ~ImageViewer() override;

    /// Shows `image` fitted to the widget with its default window; keeps the crop rectangle
    /// when it still fits inside the new image. A null image clears the view.
    void setImage(std::shared_ptr<const imaging::Image> image);
    std::shared_ptr<const imaging::Image> image() const { return m_image; }
    bool hasImage() const { return m_image && !m_image->empty(); }

    // View
    /// Fits the whole (rotated) image into the widget, and keeps fitting on resize.
    void fitToWindow();
    /// One stored pixel per screen pixel, centred.
    void actualSize();
    /// Sets the zoom (screen pixels per image pixel) keeping the image point under
    /// `anchor` (widget coordinates) fixed; the widget centre when anchor is null.
    void setZoom(double zoom, std::optional<QPointF> anchor = std::nullopt);
    double zoom() const { return m_zoom; }
    /// Offset of the image centre from the widget centre, in screen pixels.
    void setPan(QPointF pan);
    QPointF pan() const { return m_pan; }
    /// Rotates by `quarterTurns` x 90 degrees clockwise.
    void rotate(int quarterTurns);
    int rotation() const { return m_rotation * 90; }
    void flipHorizontal();
    void flipVertical();
    bool flippedHorizontally() const { return m_flipH; }
    bool flippedVertically() const { return m_flipV; }
    /// What linked viewers share (CompareView): the zoom as a multiple of fitting the widget,
    /// and the pan in units of the shown image's width and height, so that two images of
    /// different sizes show the same part at the same relative magnification.
    struct LinkedView {
        bool fit = true;
        double zoomToFit = 1.0;
        QPointF pan; ///< image centre offset / shown image size
        bool operator==(const LinkedView& o) const
        {
            return fit == o.fit && std::abs(zoomToFit - o.zoomToFit) < 1e-9 && std::abs(pan.x() - o.pan.x()) < 1e-9 &&
                   std::abs(pan.y() - o.pan.y()) < 1e-9;
        }
    };
    LinkedView linkedView() const;
    void setLinkedView(const LinkedView& view);
    /// Back to fit, no rotation, no flips, the default window, not inverted.
    void resetView();

    // Window / level
    void setWindow(const imaging::Window& window);
    /// The window now applied (the file's VOI LUT counts as none: see usingVoiLut()).
    imaging::Window window() const { return m_params.window; }
    bool usingVoiLut() const { return m_params.useVoiLut; }
    /// Uses the file's VOI LUT (when it has one) instead of a linear window.
    void useVoiLut();
    void setAutoWindow();
    void setInverted(bool on);
    bool inverted() const { return m_params.invert; }
    /// What the exporter needs to render like the screen.
    imaging::RenderParams renderParams() const { return m_params; }

    // Tools and overlay
    void setTool(Tool tool);
    Tool tool() const { return m_tool; }
    void setOverlayVisible(bool on);
    bool overlayVisible() const { return m_overlayVisible; }
    /// Extra overlay lines for the lower-right corner (e.g. "12 / 340").
    void setOverlayExtra(const QStringList& lines);

    /// The measurements and marks of the image shown (drawn with the measurement tools).
    AnnotationLayer* annotations() const { return m_annotations; }
    void setAnnotationsVisible(bool on);
    bool annotationsVisible() const { return m_annotationsVisible; }

    // Heat map over the image
    enum class Colormap { Turbo, Jet, Inferno };
    /// Lays `values` (CV_32FC1, 0..1, any size) over the image pixels `rect` (the ROI the
    /// map explains, or the whole image), stretched to it; `title` heads the colour bar.
    /// Values outside 0..1 are clamped; an empty map or rectangle clears the heat map.
    void setHeatMap(const cv::Mat& values, const QRect& rect, const QString& title = {});
    void clearHeatMap();
    bool hasHeatMap() const { return !m_heatValues.empty(); }
    /// The image pixels the heat map covers (empty when there is none).
    QRect heatMapRect() const { return hasHeatMap() ? m_heatRect : QRect(); }
    QString heatMapTitle() const { return m_heatTitle; }
    /// Shows or hides the heat map and its colour bar without dropping it.
    void setHeatMapVisible(bool on);
    bool heatMapVisible() const { return m_heatVisible; }
    /// 0 (invisible) .. 1 (opaque).
    void setHeatMapOpacity(double opacity);
    double heatMapOpacity() const { return m_heatOpacity; }
    void setHeatMapColormap(Colormap map);
    Colormap heatMapColormap() const { return m_colormap; }
    /// The colour of `value` (0..1) in `map`, as drawn.
    static QColor colormapColor(Colormap map, double value);

    // Crop rectangle, in stored-image pixels
    void setSquareCrop(bool on);
    bool squareCrop() const { return m_square; }
    std::optional<QRect> roi() const { return m_roi; }
    void setRoi(const QRect& roi);
    void clearRoi();
    /// Moves the rectangle by whole image pixels, kept inside the image.
    void nudgeRoi(int dx, int dy);

    // Mapping
    /// Image pixel coordinates (continuous; pixel (i, j) covers [i, i+1) x [j, j+1)) to
    /// widget coordinates.
    QTransform imageToWidget() const;
    QPointF widgetToImage(QPointF widgetPoint) const;

    /// Renders what the widget shows into `target` (any size): the benchmark's paint path.
    void renderTo(QImage& target);
    /// The view as an RGB image for export: at the widget's size as on screen, or at native
    /// resolution (one stored pixel per output pixel, rotation and flips applied, not panned);
    /// with the overlays (corner text, measurements, heat map and its colour bar) or without.
    /// `cornerText` false leaves the corner text out of an export with overlays (a
    /// de-identified report: it names the patient).
    QImage renderView(bool overlays, bool nativeResolution, bool cornerText = true);

signals:
    /// The pointer is over image pixel `pixel` (inside tells whether it lies in the image).
    void cursorMoved(QPoint pixel, bool inside);
    void cursorLeft();
    void windowChanged(const imaging::Window& window);
    void viewChanged();    ///< zoom, pan, rotation or flips changed
    void imageSet();       ///< setImage() showed another image (after its window and view signals)
    void roiChanged();     ///< the crop rectangle was drawn, moved, resized or cleared
    void heatMapChanged(); ///< set, cleared, shown, hidden, or its opacity or colormap changed

protected:
    void paintEvent(QPaintEvent* event) override;
    void resizeEvent(QResizeEvent* event) override;
    void wheelEvent(QWheelEvent* event) override;
    void mousePressEvent(QMouseEvent* event) override;
    void mouseMoveEvent(QMouseEvent* event) override;
    void mouseReleaseEvent(QMouseEvent* event) override;
    void keyPressEvent(QKeyEvent* event) override;
    void leaveEvent(QEvent* event) override;

private:
    enum class Drag { None, Pan, Window, NewRoi, MoveRoi, ResizeRoi, Annotation };
    enum Edge { Left = 1, Right = 2, Top = 4, Bottom = 8 };

    void paintImage(QPainter& p, QSize size, double devicePixelRatio);
    void paintRoi(QPainter& p, QSize size);
    void paintOverlay(QPainter& p, QSize size);
    void paintHeatMap(QPainter& p, QSize size);
    void paintColourBar(QPainter& p, QSize size);
    void paintAll(QPainter& p, QSize size, double devicePixelRatio);
    QTransform transformFor(QSize size) const;
    double fitZoom(QSize size) const;
    /// The pyramid level for zoom `z`: the stored pixels halved `level` times (INTER_AREA).
    const cv::Mat& levelPixels(int level);
    int levelFor(double z) const;
    void invalidateLut();
    /// Which ROI handle (edge mask) or the inside (-1) lies under `pos`; 0 when none.
    int hitRoi(QPointF pos) const;
    std::vector<std::pair<int, QPointF>> handlePositions() const;
    void updateRoiDrag(QPointF imagePoint);
    QRect clampRoi(QRect r) const;
    void setRoiInternal(std::optional<QRect> r);

    std::shared_ptr<const imaging::Image> m_image;
    std::vector<cv::Mat> m_levels; ///< m_levels[0] aliases the stored pixels
    imaging::RenderParams m_params;
    std::unique_ptr<imaging::DisplayLut> m_lut;
    imaging::Image m_levelImage; ///< pixels-only view used to apply the LUT to a level
    cv::Mat m_rendered;          ///< last rendered region (8-bit), reused between paints

    double m_zoom = 1.0;
    QPointF m_pan;
    int m_rotation = 0; ///< quarter turns clockwise, 0..3
    bool m_flipH = false, m_flipV = false;
    bool m_fit = true;

    Tool m_tool = Tool::Crop;
    bool m_overlayVisible = true;
    QStringList m_overlayExtra;

    bool m_square = true;
    std::optional<QRect> m_roi;

    cv::Mat m_heatValues; ///< CV_32FC1, 0..1
    QImage m_heatImage;   ///< m_heatValues through the colormap
    QRect m_heatRect;
    QString m_heatTitle;
    bool m_heatVisible = true;
    double m_heatOpacity = 0.45;
    Colormap m_colormap = Colormap::Turbo;

    Drag m_drag = Drag::None;
    Qt::MouseButton m_dragButton = Qt::NoButton;
    QPointF m_pressPos, m_lastPos;
    QPointF m_anchorImage; ///< NewRoi: the fixed corner; MoveRoi: press point in image
    QRect m_roiAtPress;
    int m_resizeEdges = 0;
    imaging::Window m_windowAtPress;

    AnnotationLayer* m_annotations = nullptr;
    bool m_annotationsVisible = true;
};

} // namespace lightbox::ui
