#pragma once

#include <imaging/Image.h>
#include <imaging/Measure.h>

#include <QObject>
#include <QPointF>
#include <QString>
#include <QStringList>
#include <QTransform>
#include <QVector>

#include <functional>
#include <memory>
#include <optional>

class QPainter;
class QUndoStack;

namespace lightbox::ui {

/// One measurement or mark on an image, in stored-image pixel coordinates.
struct Annotation {
    enum class Kind { Ruler, Angle, Cobb, Rectangle, Ellipse, Arrow };
    Kind kind = Kind::Ruler;
    /// Ruler: 2 ends. Angle: arm end, vertex, arm end. Cobb: two lines (4). Rectangle and
    /// Ellipse: 2 opposite corners. Arrow: head (the finding), tail (where the text sits).
    QVector<QPointF> points;
    QString text; ///< the arrow's text

    static int pointCount(Kind kind);
    static QString kindKey(Kind kind); ///< "ruler", ... (the sidecar's names)
    static std::optional<Kind> kindFromKey(const QString& key);
    bool operator==(const Annotation& o) const { return kind == o.kind && points == o.points && text == o.text; }
};

/// The measurements and marks of the image in the viewer: drawing them with the mouse,
/// selecting, moving, editing and deleting them with undo, their labels (lengths calibrated by
/// Pixel Spacing, or Imager Pixel Spacing "at the detector", or pixels; angles; region
/// statistics of the modality values), painting them in the corner text's style, and a small
/// JSON sidecar per image under the user's data folder, keyed by the SOP Instance UID or the
/// file's hash, written on every change and read when the image is opened again.
class AnnotationLayer : public QObject {
    Q_OBJECT
public:
    explicit AnnotationLayer(QObject* parent = nullptr);
    ~AnnotationLayer() override;

    /// The image the annotations belong to: saves nothing, loads its sidecar, clears undo.
    void setImage(std::shared_ptr<const imaging::Image> image);
    const QVector<Annotation>& annotations() const { return m_items; }
    /// Adds one (undoable); returns its index.
    int add(const Annotation& a);
    void remove(int index);
    void setText(int index, const QString& text);
    /// Replaces them all (undoable, one step); `what` names the step.
    void replaceAll(const QVector<Annotation>& items, const QString& what);
    int selected() const { return m_selected; }
    void select(int index); ///< -1: none
    QUndoStack* undoStack() const { return m_undo.get(); }

    /// The label lines of annotation `index` ("23.4 mm", "Mean 1021.3  SD 12.0 HU", ...).
    QStringList label(int index) const;
    QStringList labelFor(const Annotation& a) const;
    /// One line for lists: "Ruler: 23.4 mm".
    QString summary(int index) const;

    /// Calibrates lengths by ruler `index`, whose true length is `mm`: isotropic pixels of
    /// mm / (its length in pixels). Overrides the file's spacing for this image and is saved
    /// with the measurements; mm <= 0 goes back to the file's. False when `index` is no ruler.
    bool calibrate(int index, double mm);
    const imaging::Calibration& calibration() const { return m_cal; }

    /// Why the image's saved measurements could not be loaded (empty when they could, or when
    /// there were none).
    QString loadProblem() const { return m_loadProblem; }
    /// Where sidecars live (the user's data folder) and this image's file, if it has a key.
    static QString storageFolder();
    QString sidecarPath() const;
    /// Asks for an arrow's text when one is drawn (the main window shows a dialog).
    void setTextProvider(std::function<QString()> provider) { m_textProvider = std::move(provider); }

    // Drawing and editing, driven by the viewer. `toWidget` maps image pixels to widget
    // coordinates. Each returns true when it used the event.
    enum class Mode { Ruler, Angle, Cobb, Rectangle, Ellipse, Arrow, Select };
    bool press(Mode mode, QPointF widgetPos, const QTransform& toWidget);
    bool move(QPointF widgetPos, const QTransform& toWidget);
    bool release(QPointF widgetPos, const QTransform& toWidget);
    /// Delete removes the selection, Escape cancels a drawing in progress.
    bool key(int key);
    bool drawing() const { return m_pending.has_value(); }
    void cancelDrawing();

    void paint(QPainter& p, const QTransform& toWidget, int fontPixels) const;

signals:
    void changed(); ///< annotations added, removed, moved or edited (saved already)
    void selectionChanged(int index);
    void message(const QString& text); ///< e.g. the sidecar could not be written

private:
    friend class AnnotationCommand;
    void apply(const QVector<Annotation>& items); ///< sets the list, saves, emits
    void save();
    void load();
    int hitHandle(QPointF widgetPos, const QTransform& toWidget, int& pointIndex) const;
    int hitBody(QPointF widgetPos, const QTransform& toWidget) const;
    QString valueUnit() const;

    std::shared_ptr<const imaging::Image> m_image;
    imaging::Calibration m_cal;
    double m_userMmPerPixel = 0.0; ///< > 0: the user's calibration
    QString m_key;
    QString m_loadProblem;
    QVector<Annotation> m_items;
    int m_selected = -1;
    std::unique_ptr<QUndoStack> m_undo;
    std::function<QString()> m_textProvider;

    // A drawing in progress (not yet in m_items) or an edit by drag.
    std::optional<Annotation> m_pending;
    int m_pendingFixed = 0; ///< points of m_pending placed so far
    bool m_pendingDragging = false;
    int m_editIndex = -1, m_editPoint = -1; ///< point dragged (-1: the whole annotation)
    QPointF m_editAnchor;
    QVector<Annotation> m_beforeEdit;
    bool m_edited = false;
};

} // namespace lightbox::ui
