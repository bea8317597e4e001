#pragma once

#include <ml/Metrics.h>

#include <QImage>
#include <QList>
#include <QString>
#include <QStringList>
#include <QWidget>

#include <optional>

class QCustomPlot;
class QLabel;
class QPushButton;
class QTableWidget;
class QTimer;

namespace lightbox::ui {

/// The evaluation report of a model on one split: accuracy and the macro scores (QWK and MAE
/// for graded labels), a per-class table (precision, recall, F1, support, AUC), the
/// confusion matrix as a heat map, one-vs-rest ROC curves with their AUC, and the predicted
/// against the true class distribution, and the reliability diagram (accuracy against
/// confidence, with the expected calibration error; before and after the model's temperature
/// where it has one). Exports CSV, JSON and PNG. It shows a report; it
/// does not compute one (see ml::computeReport).
class EvaluationView : public QWidget {
    Q_OBJECT
public:
    explicit EvaluationView(QWidget* parent = nullptr);
    ~EvaluationView() override;

    /// Shows `report`; `caption` says what was evaluated ("test split of run ...").
    void setReport(const ml::ClassificationReport& report, const QString& caption = {});
    void clear();
    bool hasReport() const { return m_report.numClasses > 0; }
    const ml::ClassificationReport& report() const { return m_report; }
    /// The headline line ("Accuracy 87.5 % ...") as shown.
    QString summaryText() const;

    /// Writes report.json, per_class.csv and confusion.csv into `dir`; returns the files.
    QStringList exportData(const QString& dir) const;
    /// Writes confusion.png, roc.png, distribution.png and reliability.png into `dir`; returns the files.
    QStringList exportPlots(const QString& dir) const;
    /// exportPlots() without holding the GUI thread for it (about 60 ms): the plots are drawn
    /// one per turn of the event loop and the PNG files are encoded and written by a worker
    /// thread; plotsExported() follows. A report shown or cleared meanwhile, or the view
    /// destroyed, first draws what is left of the export under way.
    void exportPlotsInBackground(const QString& dir);
    /// True from exportPlotsInBackground() until its plotsExported().
    bool isExporting() const { return m_exports > 0; }

    QTableWidget* classTable() const { return m_table; }
    QCustomPlot* confusionPlot() const { return m_confusion; }
    QCustomPlot* rocPlot() const { return m_roc; }
    QCustomPlot* distributionPlot() const { return m_distribution; }
    QCustomPlot* reliabilityPlot() const { return m_reliability; }

signals:
    /// The PNG files that exportPlotsInBackground() wrote into `dir` (empty: none could be).
    void plotsExported(const QString& dir, const QStringList& files);

private:
    /// An export under way: the plots drawn so far, the files they go to.
    struct PendingExport {
        QString dir;
        QStringList paths;
        QList<QImage> images;
    };
    QList<QCustomPlot*> exportedPlots() const;
    void drawNextExport();
    void finishExport();
    void exportDialog();
    void fillConfusion();
    void fillRoc();
    void fillDistribution();
    void fillReliability();

    ml::ClassificationReport m_report;
    QString m_caption;
    QLabel* m_captionLabel = nullptr;
    QLabel* m_summary = nullptr;
    QTableWidget* m_table = nullptr;
    QCustomPlot* m_confusion = nullptr;
    QCustomPlot* m_roc = nullptr;
    QCustomPlot* m_distribution = nullptr;
    QCustomPlot* m_reliability = nullptr;
    QPushButton* m_export = nullptr;
    std::optional<PendingExport> m_pending;
    QTimer* m_exportTimer = nullptr;
    int m_exports = 0; ///< exports not yet reported by plotsExported()
};

} // namespace lightbox::ui
