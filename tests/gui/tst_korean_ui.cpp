// The window in Korean under the offscreen platform: the compiled translation is embedded and
// installed before the window is built, menus, the classify panel, the training tab and the
// task presets come up in Korean, a model card's Korean class names replace the class names,
// and View > Language stores the choice.
#include <ClassifyPanel.h>
#include <CropPanel.h>
#include <Language.h>
#include <MainWindow.h>
#include <TrainingTab.h>

#include <data/TaskPreset.h>
#include <ml/Bundle.h>
#include <ml/Model.h>
#include <ml/Runtime.h>

#include <QAction>
#include <QComboBox>
#include <QFormLayout>
#include <QLabel>
#include <QMenu>
#include <QMenuBar>
#include <QPushButton>
#include <QSettings>
#include <QTabWidget>
#include <QTemporaryDir>
#include <QtTest>

using namespace lightbox;
using ui::Language;
using ui::MainWindow;

namespace {

const QString kKnee = QStringLiteral(LIGHTBOX_SOURCE_DIR "/resources/samples/knee-kl2-9015402R.png");

QStringList menuTitles(MainWindow& w)
{
    QStringList titles;
    for (QAction* a : w.menuBar()->actions())
        titles << a->text();
    return titles;
}

/// The texts of the form labels under `root` (the training tab's settings).
QStringList labelTexts(QWidget* root)
{
    QStringList out;
    for (const QLabel* l : root->findChildren<QLabel*>())
        out << l->text();
    return out;
}

} // namespace

class tst_KoreanUi : public QObject {
    Q_OBJECT
private slots:
    void initTestCase();
    void cleanup();
    void menusAndPanelsInKorean();
    void taskPresetsTranslated();
    void cardDisplayNamesShownInKorean();
    void englishAgainAfterInstallingEnglish();
    void languageMenuStoresTheChoice();

private:
    QTemporaryDir m_settingsDir;
    QTemporaryDir m_models;
};

void tst_KoreanUi::initTestCase()
{
    QVERIFY(m_settingsDir.isValid() && m_models.isValid());
    QSettings::setDefaultFormat(QSettings::IniFormat);
    QSettings::setPath(QSettings::IniFormat, QSettings::UserScope, m_settingsDir.path());
    QCoreApplication::setOrganizationName(QStringLiteral("LightboxTest"));
    QCoreApplication::setApplicationName(QStringLiteral("tst_korean_ui"));
    qputenv("LIGHTBOX_MODELS", m_models.path().toUtf8()); // no shipped models: the test's own
    ml::configureThreads(1);
    QVERIFY2(Language::install(QStringLiteral("ko")), "the Korean translation is not embedded (:/i18n)");
    QCOMPARE(Language::active(), QStringLiteral("ko"));
}

void tst_KoreanUi::cleanup()
{
    Language::install(QStringLiteral("ko"));
}

void tst_KoreanUi::menusAndPanelsInKorean()
{
    MainWindow w;
    w.setInteractive(false);
    w.resize(1280, 900);
    w.show();
    const QStringList menus = menuTitles(w);
    QVERIFY2(menus.size() >= 4, qPrintable(menus.join(", ")));
    QCOMPARE(menus.first(), QStringLiteral("파일(&F)"));
    QVERIFY2(menus.contains(QStringLiteral("보기(&V)")), qPrintable(menus.join(", ")));
    QVERIFY2(menus.contains(QStringLiteral("도구(&T)")), qPrintable(menus.join(", ")));
    QCOMPARE(w.languageMenu()->title(), QStringLiteral("언어(&L)"));
    QCOMPARE(w.classifyAction()->text(), QStringLiteral("분류(&L)"));
    QCOMPARE(w.centralTabs()->tabText(0), QStringLiteral("뷰어"));
    QCOMPARE(w.centralTabs()->tabText(1), QStringLiteral("학습"));
    QCOMPARE(w.statusText(), QStringLiteral("준비"));

    // The classify panel's Run button.
    auto* run = w.classifyPanel()->findChild<QPushButton*>(QStringLiteral("classifyRun"));
    QVERIFY(run);
    QTRY_COMPARE_WITH_TIMEOUT(run->text(), QStringLiteral("실행"), 20000); // "실행 중…" while a model loads

    // The training tab: its buttons and form labels.
    ui::TrainingTab* tab = w.trainingTab();
    QCOMPARE(tab->trainButton()->text(), QStringLiteral("학습"));
    QCOMPARE(tab->stopButton()->text(), QStringLiteral("중지"));
    const QStringList labels = labelTexts(tab);
    for (const QString& expected : {QStringLiteral("학습률"), QStringLiteral("배치 크기"), QStringLiteral("에포크"),
                                    QStringLiteral("데이터셋"), QStringLiteral("데이터 증강")})
        QVERIFY2(labels.contains(expected), qPrintable(expected + QStringLiteral(" not in: ") + labels.join(" | ")));
    QVERIFY2(!labels.contains(QStringLiteral("Learning rate")), qPrintable(labels.join(" | ")));
    QCOMPARE(tab->viewTabs()->tabText(0), QStringLiteral("곡선"));
}

void tst_KoreanUi::taskPresetsTranslated()
{
    // Every preset's title and note (English in core/data) has a Korean text in the interface.
    for (const data::TaskPreset& p : data::taskPresets()) {
        const QString title = Language::taskText(p.title);
        QVERIFY2(title != QString::fromStdString(p.title), p.title.c_str());
        if (!p.note.empty())
            QVERIFY2(Language::taskText(p.note) != QString::fromStdString(p.note), p.note.c_str());
    }
    MainWindow w;
    QComboBox* presets = w.trainingTab()->presetCombo();
    const int knee = presets->findData(QStringLiteral("knee-kl"));
    QVERIFY(knee >= 0);
    QCOMPARE(presets->itemText(knee), QStringLiteral("무릎 골관절염: Kellgren-Lawrence 등급 0-4"));
}

void tst_KoreanUi::cardDisplayNamesShownInKorean()
{
    ml::ModelCard card;
    card.architecture = "cnn5";
    card.task = "knee-kl";
    card.classNames = {"KL0", "KL1", "KL2"};
    card.classDisplayNames["ko"] = {"정상", "의심", "경도"};
    card.preprocess.width = 64;
    card.preprocess.height = 64;
    card.preprocess.channels = 1;
    card.preprocess.mean = {0.5f};
    card.preprocess.std = {0.25f};
    card.created = ml::isoTimestampUtc();
    auto model = ml::createModel("cnn5", 1, 3);
    QVERIFY(model.ok());
    const QString path = m_models.filePath(QStringLiteral("ko-names.lbx"));
    auto saved = ml::saveBundle(model.value(), card, path.toStdString());
    QVERIFY2(saved.ok(), saved.error().c_str());

    MainWindow w;
    w.setInteractive(false);
    w.setSynchronousLoading(true);
    QVERIFY2(w.openFile(kKnee), qPrintable(w.lastError()));
    ui::ClassifyPanel* panel = w.classifyPanel();
    panel->setSynchronous(true);
    panel->setAutoPick(false);
    QVERIFY2(panel->selectModel(path), qPrintable(panel->errorText()));
    panel->run();
    QVERIFY(panel->lastResult() && panel->lastResult()->ok());
    QCOMPARE(panel->barLabels(), QStringList({"정상", "의심", "경도"}));
    QVERIFY2(panel->expectedGradeText().startsWith(QStringLiteral("최상위: ")) ||
                 panel->expectedGradeText().contains(QStringLiteral("기대 등급")),
             qPrintable(panel->expectedGradeText()));

    // In English the same card shows its class names.
    Language::install(QStringLiteral("en"));
    MainWindow english;
    english.setInteractive(false);
    english.setSynchronousLoading(true);
    QVERIFY(english.openFile(kKnee));
    ui::ClassifyPanel* p2 = english.classifyPanel();
    p2->setSynchronous(true);
    p2->setAutoPick(false);
    QVERIFY(p2->selectModel(path));
    p2->run();
    QVERIFY(p2->lastResult() && p2->lastResult()->ok());
    QCOMPARE(p2->barLabels(), QStringList({"KL0", "KL1", "KL2"}));
}

void tst_KoreanUi::englishAgainAfterInstallingEnglish()
{
    QVERIFY(Language::install(QStringLiteral("en")));
    QCOMPARE(Language::active(), QStringLiteral("en"));
    MainWindow w;
    QCOMPARE(menuTitles(w).first(), QStringLiteral("&File"));
    QCOMPARE(w.trainingTab()->trainButton()->text(), QStringLiteral("Train"));
}

void tst_KoreanUi::languageMenuStoresTheChoice()
{
    MainWindow w;
    w.setInteractive(false);
    QMenu* menu = w.languageMenu();
    QVERIFY(menu);
    QStringList codes;
    for (QAction* a : menu->actions())
        codes << a->data().toString();
    QCOMPARE(codes, QStringList({"system", "ko", "en"}));
    QVERIFY(menu->actions().at(1)->text() == QStringLiteral("한국어"));
    QVERIFY(menu->actions().at(2)->text() == QStringLiteral("English"));

    menu->actions().at(2)->trigger(); // English, while the window is Korean
    QCOMPARE(QSettings().value(QStringLiteral("language")).toString(), QStringLiteral("en"));
    QCOMPARE(Language::choice(), QStringLiteral("en"));
    QVERIFY2(w.statusText().contains(QStringLiteral("English")), qPrintable(w.statusText()));
    QVERIFY2(w.statusText().contains(QStringLiteral("다시 시작")), qPrintable(w.statusText()));

    menu->actions().at(1)->trigger(); // Korean: already active, nothing to restart
    QCOMPARE(Language::choice(), QStringLiteral("ko"));
    QCOMPARE(w.statusText(), QStringLiteral("화면 언어: 한국어"));

    Language::setChoice(QStringLiteral("klingon")); // unknown codes fall back to the system
    QCOMPARE(Language::choice(), QStringLiteral("system"));
    QCOMPARE(Language::resolve(QStringLiteral("xx")), QStringLiteral("en"));
}

QTEST_MAIN(tst_KoreanUi)
#include "tst_korean_ui.moc"
