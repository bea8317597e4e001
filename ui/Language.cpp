#include "Language.h"

#include <QCoreApplication>
#include <QLibraryInfo>
#include <QLocale>
#include <QPointer>
#include <QSettings>
#include <QTranslator>

namespace lightbox::ui {
namespace {

const QString kSettingsKey = QStringLiteral("language");
const QString kSystem = QStringLiteral("system");

// The titles and notes of data::taskPresets() (core/data/TaskPreset.cpp), for lupdate: the
// interface shows them through taskText(). tst_translations checks that every preset's text
// is listed here and translated.
[[maybe_unused]] const char* const kTaskTexts[] = {
    QT_TRANSLATE_NOOP("TaskPreset", "Knee osteoarthritis: Kellgren-Lawrence grade 0-4"),
    QT_TRANSLATE_NOOP("TaskPreset", "Split by patient (<patient><L|R>.png): both knees of one patient in different "
                                    "splits gave 99.8 % on a leaked test split against 39 % on hand-cropped images."),
    QT_TRANSLATE_NOOP("TaskPreset", "Chest X-ray: pneumonia / normal"),
    QT_TRANSLATE_NOOP("TaskPreset",
                      "The Kermany train/test/val folders are imbalanced (about 3:1 pneumonia) and the "
                      "given val split has 16 images: weight the classes and take validation from train."),
    QT_TRANSLATE_NOOP("TaskPreset", "Chest X-ray: normal / pneumonia / COVID-19 / tuberculosis"),
    QT_TRANSLATE_NOOP("TaskPreset", "Images of different classes often come from different hospitals: check Grad-CAM "
                                    "falls on the lungs, not on markers or borders."),
    QT_TRANSLATE_NOOP("TaskPreset", "Hand X-ray: sex (RSNA bone age)"),
    QT_TRANSLATE_NOOP("TaskPreset", "Classes are balanced, so accuracy is a fair headline; augmentation and longer "
                                    "training with early stopping helped."),
    QT_TRANSLATE_NOOP("TaskPreset", "Skin lesion (dermoscopy): 9 ISIC classes"),
    QT_TRANSLATE_NOOP("TaskPreset",
                      "Dermoscopic photographs have no up or down (flips in both directions are safe), but random "
                      "crops and zooms cut lesions out: the skin study found they lowered accuracy. The same lesion "
                      "may appear more than once and there are no patient ids."),
    QT_TRANSLATE_NOOP("TaskPreset", "Skin photograph (clinical): 10 diseases"),
    QT_TRANSLATE_NOOP("TaskPreset", "Random crops and zoom cut lesions out and lowered accuracy: the medical-safe "
                                    "augmentation keeps the whole field of view."),
};

QString g_active = QStringLiteral("en");
QPointer<QTranslator> g_app;
QPointer<QTranslator> g_qt;

void removeTranslator(QPointer<QTranslator>& t)
{
    if (!t)
        return;
    QCoreApplication::removeTranslator(t);
    delete t;
}

} // namespace

QStringList Language::available()
{
    return {QStringLiteral("en"), QStringLiteral("ko")};
}

QString Language::choice()
{
    const QString c = QSettings().value(kSettingsKey, kSystem).toString();
    return c == kSystem || available().contains(c) ? c : kSystem;
}

void Language::setChoice(const QString& choice)
{
    QSettings().setValue(kSettingsKey, choice == kSystem || available().contains(choice) ? choice : kSystem);
}

QString Language::resolve(const QString& choice)
{
    if (choice == kSystem)
        return QLocale::system().language() == QLocale::Korean ? QStringLiteral("ko") : QStringLiteral("en");
    return available().contains(choice) ? choice : QStringLiteral("en");
}

bool Language::install(const QString& code)
{
    const QString language = resolve(code);
    removeTranslator(g_app);
    removeTranslator(g_qt);
    g_active = QStringLiteral("en");
    if (language == QLatin1String("en"))
        return true;
    auto* app = new QTranslator(QCoreApplication::instance());
    if (!app->load(QStringLiteral(":/i18n/lightbox_%1.qm").arg(language))) {
        delete app;
        return false;
    }
    QCoreApplication::installTranslator(app);
    g_app = app;
    g_active = language;
    // Qt's own strings (standard dialog buttons), where the system's Qt has them.
    auto* qt = new QTranslator(QCoreApplication::instance());
    if (qt->load(QStringLiteral("qtbase_%1").arg(language), QLibraryInfo::path(QLibraryInfo::TranslationsPath))) {
        QCoreApplication::installTranslator(qt);
        g_qt = qt;
    } else {
        delete qt;
    }
    return true;
}

QString Language::active()
{
    return g_active;
}

QString Language::nativeName(const QString& code)
{
    if (code == QLatin1String("ko"))
        return QStringLiteral("한국어");
    if (code == QLatin1String("en"))
        return QStringLiteral("English");
    return code;
}

QString Language::taskText(const std::string& english)
{
    return QCoreApplication::translate("TaskPreset", english.c_str());
}

} // namespace lightbox::ui
