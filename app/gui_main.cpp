#include <MainWindow.h>

#include <ml/Runtime.h>

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QImage>
#include <QPixmap>
#include <QTimer>

#include <cstdio>

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName("Lightbox");
    QApplication::setOrganizationName("Lightbox");
    QApplication::setApplicationVersion(LIGHTBOX_VERSION);

    QCommandLineParser parser;
    parser.setApplicationDescription("Lightbox radiology workstation");
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption screenshot("screenshot", "Render the window with FILE to OUT.png and exit.", "OUT.png");
    QCommandLineOption size("size", "Window size for --screenshot (WxH).", "WxH", "1280x900");
    parser.addOption(screenshot);
    parser.addOption(size);
    parser.addPositionalArgument("file", "Image or DICOM file to open.");
    parser.process(app);

    lightbox::ml::configureThreads();

    lightbox::ui::MainWindow window;
    const QStringList files = parser.positionalArguments();
    const bool shot = parser.isSet(screenshot);
    window.setInteractive(!shot);
    if (shot) {
        const QStringList wh = parser.value(size).split('x');
        if (wh.size() == 2)
            window.resize(wh[0].toInt(), wh[1].toInt());
    }
    window.show();
    bool opened = true;
    if (!files.isEmpty())
        opened = window.openFile(files.first());

    if (shot) {
        QApplication::processEvents();
        if (!files.isEmpty() && opened)
            window.openFile(files.first()); // re-render at the final viewport size
        QApplication::processEvents();
        const QPixmap pm = window.grab();
        if (!pm.save(parser.value(screenshot))) {
            std::fprintf(stderr, "lightbox: cannot write %s\n", qPrintable(parser.value(screenshot)));
            return 1;
        }
        if (!opened) {
            std::fprintf(stderr, "lightbox: %s\n", qPrintable(window.lastError()));
            return 2;
        }
        return 0;
    }
    return app.exec();
}
