#pragma once

#include <QString>
#include <QStringList>

#include <string>

namespace lightbox::ui {

/// The interface language: the choice stored in QSettings ("language": "system", "ko" or
/// "en"), its resolution against QLocale::system(), and the QTranslators that apply it.
///
/// install() loads the translation compiled into the program (`:/i18n/lightbox_<code>.qm`,
/// built from resources/translations/lightbox_<code>.ts) and Qt's own (qtbase, for the
/// buttons of standard dialogs) when the system has it, and replaces whatever install()
/// put in before. Widgets built afterwards come up in that language; widgets that exist
/// already are not retranslated (the View > Language menu says the change takes effect at
/// the next start). English is the source language and needs no file. It does not translate
/// model cards, class names (see ml::ModelCard::classDisplayNames), log lines or the CLI.
class Language {
public:
    /// The codes with a translation, English first: {"en", "ko"}.
    static QStringList available();
    /// The stored choice: "system" (the default), or a code from available().
    static QString choice();
    static void setChoice(const QString& choice);
    /// The code a choice stands for: "system" follows QLocale::system() (Korean when the system
    /// is Korean, else English); an unknown code reads as English.
    static QString resolve(const QString& choice);
    /// Installs the translators for `code` ("ko", "en" or "system"); false when the compiled
    /// translation is missing (the interface then stays English).
    static bool install(const QString& code);
    /// The code install() applied last ("en" before any).
    static QString active();
    /// The language's own name for itself ("한국어", "English").
    static QString nativeName(const QString& code);
    /// A task preset's title or note (data::TaskPreset, English in core/data) in the interface
    /// language; text without a translation comes back unchanged.
    static QString taskText(const std::string& english);
};

} // namespace lightbox::ui
