#include <ClassifyPanel.h>
#include <CompareView.h>
#include <ImageViewer.h>
#include <Language.h>
#include <MainWindow.h>
#include <TrainingTab.h>

#include <ml/Runtime.h>

#include <QApplication>
#include <QCommandLineParser>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QIcon>
#include <QImage>
#include <QPixmap>
#include <QTabWidget>
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
    QCommandLineOption language(
        "language", "Interface language for this run: system, ko or en (default: the View > Language choice).", "CODE");
    QCommandLineOption tab("tab", "Central tab to show: viewer (default) or training.", "TAB");
    QCommandLineOption overlayRun("overlay-run", "Show the curves of this training run folder in the training tab.",
                                  "DIR");
    parser.addOption(language);
    parser.addOption(tab);
    parser.addOption(overlayRun);
    QCommandLineOption compare("compare", "Open FILE2 beside the image, to compare (classified too with --model).",
                               "FILE2");
    QCommandLineOption compareRoi("compare-roi", "Crop rectangle in the second image, in its pixels.", "X,Y,W,H");
    QCommandLineOption mirror("mirror", "Mirror the second image left-right.");
    parser.addOption(compare);
    parser.addOption(compareRoi);
    parser.addOption(mirror);
    parser.addPositionalArgument("file", "Image or DICOM file, or a folder of them, to open.");
    parser.process(app); // --help, --version, unknown options and missing values end here

    // Values are checked before any window opens: a wrong one stops with its range.
    auto refuse = [](const QString& message) {
        std::fprintf(stderr, "lightbox: %s\n(lightbox --help shows the options)\n", qPrintable(message));
        return 2;
    };
    auto rectOf = [](const QString& text, QRect& out) {
        const QStringList r = text.split(',');
        bool ok = r.size() == 4;
        int v[4] = {0, 0, 0, 0};
        for (int i = 0; ok && i < 4; ++i)
            v[i] = r[i].trimmed().toInt(&ok);
        if (!ok || v[2] < 1 || v[3] < 1)
            return false;
        out = QRect(v[0], v[1], v[2], v[3]);
        return true;
    };
    QSize shotSize(1280, 900);
    {
        const QStringList wh = parser.value(size).split('x');
        bool okW = false, okH = false;
        if (wh.size() == 2)
            shotSize = QSize(wh[0].toInt(&okW), wh[1].toInt(&okH));
        if (!okW || !okH || shotSize.width() < 320 || shotSize.height() < 240 || shotSize.width() > 16384 ||
            shotSize.height() > 16384)
            return refuse(QStringLiteral("--size needs WIDTHxHEIGHT from 320x240 to 16384x16384 (got '%1')")
                              .arg(parser.value(size)));
    }
    QRect roiRect, compareRect;
    if (parser.isSet(roi) && !rectOf(parser.value(roi), roiRect))
        return refuse(
            QStringLiteral("--roi needs X,Y,W,H in image pixels with W, H > 0 (got '%1')").arg(parser.value(roi)));
    if (parser.isSet(compareRoi) && !rectOf(parser.value(compareRoi), compareRect))
        return refuse(QStringLiteral("--compare-roi needs X,Y,W,H in image pixels with W, H > 0 (got '%1')")
                          .arg(parser.value(compareRoi)));
    const QString camChoice = parser.value(cam).toLower();
    if (parser.isSet(cam) && camChoice != "off" && camChoice != "gradcam" && camChoice != "gradcam++")
        return refuse(QStringLiteral("--cam must be off, gradcam or gradcam++ (got '%1')").arg(parser.value(cam)));
    const QString tabChoice = parser.value(tab).toLower();
    if (parser.isSet(tab) && tabChoice != "viewer" && tabChoice != "training")
        return refuse(QStringLiteral("--tab must be viewer or training (got '%1')").arg(parser.value(tab)));

    lightbox::ml::configureThreads();

    // The translators go in before any widget is built: widgets take their texts once.
    const QString languageChoice =
        parser.isSet(language) ? parser.value(language).trimmed().toLower() : lightbox::ui::Language::choice();
    if (languageChoice != QLatin1String("system") && !lightbox::ui::Language::available().contains(languageChoice))
        std::fprintf(stderr, "lightbox: unknown language %s (system, ko or en); using English\n",
                     qPrintable(languageChoice));
    else if (!lightbox::ui::Language::install(languageChoice))
        std::fprintf(stderr, "lightbox: the %s translation is missing; the interface stays English\n",
                     qPrintable(lightbox::ui::Language::resolve(languageChoice)));

    lightbox::ui::MainWindow window;
    const QStringList files = parser.positionalArguments();
    const bool shot = parser.isSet(screenshot);
    window.setInteractive(!shot);
    window.setSynchronousLoading(shot);
    if (shot)
        window.resize(shotSize);
    if (!shot)
        window.restoreLayout();
    window.show();
    bool opened = true;
    if (!files.isEmpty()) {
        const QString path = files.first();
        opened = QFileInfo(path).isDir() ? window.openFolder(path) : window.openFile(path);
    }
    if (parser.isSet(roi))
        window.viewer()->setRoi(roiRect);
    if (parser.isSet(noText))
        window.viewer()->setOverlayVisible(false);
    if (tabChoice == QLatin1String("training"))
        window.centralTabs()->setCurrentWidget(window.trainingTab());
    if (parser.isSet(overlayRun) && !window.trainingTab()->overlayRun(parser.value(overlayRun)))
        std::fprintf(stderr, "lightbox: no training curves in %s\n", qPrintable(parser.value(overlayRun)));
    lightbox::ui::ClassifyPanel* classify = window.classifyPanel();
    classify->setSynchronous(shot); // a screenshot shows the result, so it waits for it
    if (parser.isSet(device) && !classify->setDevice(parser.value(device)))
        std::fprintf(stderr, "lightbox: unknown device %s\n", qPrintable(parser.value(device)));
    if (parser.isSet(reduced) && !classify->setReducedPrecision(true))
        std::fprintf(stderr, "lightbox: reduced precision is not available on this device; using float32\n");
    if (parser.isSet(cam))
        classify->setCamMethod(camChoice == "gradcam++" ? lightbox::ml::CamMethod::GradCamPlusPlus
                               : camChoice == "off"     ? lightbox::ml::CamMethod::None
                                                        : lightbox::ml::CamMethod::GradCam);
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

    if (parser.isSet(compare)) {
        lightbox::ui::CompareView* side = window.compareView();
        if (!side->openSecondary(parser.value(compare))) {
            if (shot) // interactive loads report in the viewport's header
                std::fprintf(stderr, "lightbox: %s\n", qPrintable(side->secondaryError()));
        } else {
            side->setActive(side->secondary()); // classify and the docks follow the second image
            if (parser.isSet(compareRoi))
                side->secondary()->setRoi(compareRect);
            if (parser.isSet(mirror))
                side->mirror(side->secondary());
            if (parser.isSet(noText))
                side->secondary()->setOverlayVisible(false);
            if (classified && (parser.isSet(model) || parser.isSet(classifyOption))) {
                if (parser.isSet(classifyOption))
                    classify->pickModelNow();
                classify->run();
                if (shot)
                    classified = classify->lastResult() && classify->lastResult()->ok();
            }
        }
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
