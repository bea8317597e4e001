#include <ClassifyPanel.h>
#include <ImageViewer.h>
#include <MainWindow.h>

#include <ml/Runtime.h>

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QIcon>
#include <QImage>
#include <QPixmap>
#include <QTimer>

#include <cstdio>

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName("Lightbox");
    QApplication::setWindowIcon(QIcon(":/icons/lightbox.png"));
    QApplication::setOrganizationName("Lightbox");
    QApplication::setApplicationVersion(LIGHTBOX_VERSION);

    QCommandLineParser parser;
    parser.setApplicationDescription("Lightbox radiology workstation");
    parser.addHelpOption();
    parser.addVersionOption();
    QCommandLineOption screenshot("screenshot", "Render the window with FILE to OUT.png and exit.", "OUT.png");
    QCommandLineOption size("size", "Window size for --screenshot (WxH).", "WxH", "1280x900");
    QCommandLineOption roi("roi", "Crop rectangle to show, in image pixels.", "X,Y,W,H");
    QCommandLineOption noText("no-text", "Hide the corner text (patient and study).");
    QCommandLineOption model(
        "model", "Model bundle or TorchScript file to classify with (selected in the classify panel).", "M");
    QCommandLineOption device("device", "Classifier device: auto, cpu or cuda:N.", "D");
    QCommandLineOption reduced("reduced-precision",
                               "Classify in float16 on a GPU, bfloat16 on a CPU with AVX-512 BF16 or AMX.");
    QCommandLineOption cam("cam", "Heat map for --model: off, gradcam or gradcam++.", "METHOD");
    QCommandLineOption classifyOption(
        "classify", "Classify FILE with the model the classify panel picks for it (its task, body part or folder).");
    parser.addOption(screenshot);
    parser.addOption(size);
    parser.addOption(roi);
    parser.addOption(noText);
    parser.addOption(model);
    parser.addOption(device);
    parser.addOption(cam);
    parser.addOption(reduced);
    parser.addOption(classifyOption);
    parser.addPositionalArgument("file", "Image or DICOM file, or a folder of them, to open.");
    parser.process(app);

    lightbox::ml::configureThreads();

    lightbox::ui::MainWindow window;
    const QStringList files = parser.positionalArguments();
    const bool shot = parser.isSet(screenshot);
    window.setInteractive(!shot);
    window.setSynchronousLoading(shot);
    if (shot) {
        const QStringList wh = parser.value(size).split('x');
        if (wh.size() == 2)
            window.resize(wh[0].toInt(), wh[1].toInt());
    }
    if (!shot)
        window.restoreLayout();
    window.show();
    bool opened = true;
    if (!files.isEmpty()) {
        const QString path = files.first();
        opened = QFileInfo(path).isDir() ? window.openFolder(path) : window.openFile(path);
    }
    if (parser.isSet(roi)) {
        const QStringList r = parser.value(roi).split(',');
        if (r.size() == 4)
            window.viewer()->setRoi(QRect(r[0].toInt(), r[1].toInt(), r[2].toInt(), r[3].toInt()));
    }
    if (parser.isSet(noText))
        window.viewer()->setOverlayVisible(false);
    lightbox::ui::ClassifyPanel* classify = window.classifyPanel();
    classify->setSynchronous(shot); // a screenshot shows the result, so it waits for it
    if (parser.isSet(device) && !classify->setDevice(parser.value(device)))
        std::fprintf(stderr, "lightbox: unknown device %s\n", qPrintable(parser.value(device)));
    if (parser.isSet(reduced) && !classify->setReducedPrecision(true))
        std::fprintf(stderr, "lightbox: reduced precision is not available on this device; using float32\n");
    if (parser.isSet(cam)) {
        const QString m = parser.value(cam).toLower();
        classify->setCamMethod(m == "gradcam++" ? lightbox::ml::CamMethod::GradCamPlusPlus
                               : m == "off"     ? lightbox::ml::CamMethod::None
                                                : lightbox::ml::CamMethod::GradCam);
    }
    bool classified = true;
    if (parser.isSet(model)) {
        classify->setAutoPick(false); // the model asked for, whatever the image
        classified = classify->selectModel(parser.value(model));
        if (classified && opened) {
            classify->run();
            // Interactive runs are in the background: the panel shows the result or the error.
            if (shot)
                classified = classify->lastResult() && classify->lastResult()->ok();
        }
        if (!classified)
            std::fprintf(stderr, "lightbox: %s\n", qPrintable(classify->errorText()));
    } else if (parser.isSet(classifyOption) && opened) {
        classify->setAutoPick(true);
        classify->pickModelNow();
        std::printf("lightbox: %s\n", qPrintable(classify->pickReason()));
        classified = !classify->modelPath().isEmpty();
        if (classified) {
            classify->run();
            if (shot)
                classified = classify->lastResult() && classify->lastResult()->ok();
        }
        if (!classified)
            std::fprintf(stderr, "lightbox: %s\n",
                         qPrintable(classify->errorText().isEmpty() ? QStringLiteral("no model to classify with")
                                                                    : classify->errorText()));
    }

    if (shot) {
        // Let the layout settle and the folder thumbnails arrive before grabbing.
        QElapsedTimer settle;
        settle.start();
        while (settle.elapsed() < 1500)
            QApplication::processEvents(QEventLoop::AllEvents, 50);
        const QPixmap pm = window.grab();
        if (!pm.save(parser.value(screenshot), nullptr, 0)) { // 0: smallest file
            std::fprintf(stderr, "lightbox: cannot write %s\n", qPrintable(parser.value(screenshot)));
            return 1;
        }
        if (!opened) {
            std::fprintf(stderr, "lightbox: %s\n", qPrintable(window.lastError()));
            return 2;
        }
        return classified ? 0 : 3;
    }
    return app.exec();
}
