#include "MainWindow.h"

#include "ImageConversion.h"

#include <imaging/ImageLoader.h>
#include <imaging/Render.h>

#include <QAction>
#include <QApplication>
#include <QFileDialog>
#include <QFileInfo>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QPixmap>
#include <QScrollArea>
#include <QStatusBar>

namespace lightbox::ui {

MainWindow::MainWindow(QWidget* parent) : QMainWindow(parent)
{
    setWindowTitle(tr("Lightbox"));
    resize(1200, 900);
    m_view = new QLabel;
    m_view->setAlignment(Qt::AlignCenter);
    m_view->setBackgroundRole(QPalette::Dark);
    m_view->setText(tr("Open an X-ray or DICOM file (Ctrl+O)"));
    m_scroll = new QScrollArea;
    m_scroll->setWidget(m_view);
    m_scroll->setWidgetResizable(true);
    m_scroll->setBackgroundRole(QPalette::Dark);
    setCentralWidget(m_scroll);

    QMenu* file = menuBar()->addMenu(tr("&File"));
    QAction* open = file->addAction(tr("&Open..."), this, &MainWindow::openDialog);
    open->setShortcut(QKeySequence::Open);
    file->addSeparator();
    QAction* quit = file->addAction(tr("&Quit"), qApp, &QApplication::quit);
    quit->setShortcut(QKeySequence::Quit);
    statusBar()->showMessage(tr("Ready"));
}

void MainWindow::openDialog()
{
    const QString path = QFileDialog::getOpenFileName(
        this, tr("Open image"), {},
        tr("Images (*.dcm *.DCM *.dicom *.png *.jpg *.jpeg *.tif *.tiff *.bmp);;All files (*)"));
    if (!path.isEmpty())
        openFile(path);
}

bool MainWindow::openFile(const QString& path)
{
    auto result = imaging::loadImage(path.toStdString());
    if (!result) {
        m_lastError = QString::fromStdString(result.error());
        statusBar()->showMessage(tr("Cannot open %1: %2").arg(QFileInfo(path).fileName(), m_lastError));
        if (m_interactive)
            QMessageBox::warning(this, tr("Cannot open image"),
                                 tr("%1\n\n%2").arg(QFileInfo(path).fileName(), m_lastError));
        return false;
    }
    m_lastError.clear();
    m_image = std::move(result).value();
    setWindowTitle(tr("Lightbox - %1").arg(QFileInfo(path).fileName()));
    refresh();
    return true;
}

void MainWindow::refresh()
{
    const QImage img = toQImage(imaging::render8(m_image));
    const QSize avail = m_scroll->viewport()->size();
    QPixmap pm = QPixmap::fromImage(img);
    if (pm.width() > avail.width() || pm.height() > avail.height())
        pm = pm.scaled(avail, Qt::KeepAspectRatio, Qt::SmoothTransformation);
    m_view->setPixmap(pm);
    const imaging::Window w = m_image.defaultWindow();
    statusBar()->showMessage(tr("%1 x %2, %3-bit %4, %5  |  W %6 / L %7")
                                 .arg(m_image.width())
                                 .arg(m_image.height())
                                 .arg(m_image.bitsStored)
                                 .arg(QString::fromLatin1(imaging::toString(m_image.photometric)))
                                 .arg(QString::fromStdString(m_image.format))
                                 .arg(w.width, 0, 'f', 0)
                                 .arg(w.center, 0, 'f', 0));
}

} // namespace lightbox::ui
