// Task presets: complete, consistent with the model zoo and with the real data folders.
#include <data/TaskPreset.h>
#include <ml/Model.h>

#include <QDir>
#include <QtTest>

#include <algorithm>
#include <set>

using namespace lightbox;

class TestTaskPresets : public QObject {
    Q_OBJECT
private slots:
    void everyPresetIsComplete();
    void kneeMatchesTheSharedDataFolders();
    void labelsMatchAcrossSpellings();
    void labelKeys();
};

void TestTaskPresets::everyPresetIsComplete()
{
    const auto& presets = data::taskPresets();
    QCOMPARE(int(presets.size()), 5);
    const std::vector<std::string> zoo = ml::modelArchitectures();
    std::set<std::string> ids;
    for (const auto& p : presets) {
        QVERIFY2(ids.insert(p.id).second, p.id.c_str());
        QVERIFY(!p.title.empty());
        QVERIFY(p.classes.size() >= 2);
        QCOMPARE(p.displayNames.size(), p.classes.size());
        QVERIFY(p.channels == 1 || p.channels == 3);
        QVERIFY(p.inputSize >= 32 && p.inputSize <= 1024);
        const std::set<std::string> augment{"none", "light", "standard", "medical-safe"};
        QVERIFY2(augment.count(p.augmentation), p.augmentation.c_str());
        QVERIFY2(std::find(zoo.begin(), zoo.end(), p.architecture) != zoo.end(), p.architecture.c_str());
        QVERIFY(!p.metrics.empty());
        if (p.ordinal)
            QVERIFY(std::find(p.metrics.begin(), p.metrics.end(), "qwk") != p.metrics.end());
        for (const auto& [alias, cls] : p.aliases)
            QVERIFY2(p.classIndex(cls) >= 0, alias.c_str());
        QCOMPARE(data::findTaskPreset(p.id), &p);
    }
    QVERIFY(data::findTaskPreset("no-such-task") == nullptr);
    // The skin task is photographs (RGB) and keeps the whole field of view.
    const auto* skin = data::findTaskPreset("skin-10");
    QCOMPARE(skin->channels, 3);
    QCOMPARE(skin->augmentation, std::string("medical-safe"));
    QCOMPARE(int(skin->classes.size()), 10);
    QCOMPARE(data::findTaskPreset("hand-sex")->csvLabelColumn, std::string("male"));
}

void TestTaskPresets::kneeMatchesTheSharedDataFolders()
{
    const auto* knee = data::findTaskPreset("knee-kl");
    QVERIFY(knee && knee->ordinal);
    QCOMPARE(knee->channels, 1);
    QCOMPARE(knee->inputSize, 224); // the crops of the knee study
    const QDir train(QStringLiteral(LIGHTBOX_SHARED_DATA) + "/knee-kl/train");
    const QStringList folders = train.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
    QCOMPARE(folders.size(), int(knee->classes.size()));
    for (int i = 0; i < folders.size(); ++i)
        QCOMPARE(knee->classIndex(folders[i].toStdString()), i);
}

void TestTaskPresets::labelsMatchAcrossSpellings()
{
    const auto* chest = data::findTaskPreset("chest-4class");
    QCOMPARE(chest->classIndex("normal"), 0);
    QCOMPARE(chest->classIndex("TURBERCULOSIS"), 3); // the Kaggle folder's spelling
    QCOMPARE(chest->classIndex("Covid-19"), 2);
    QCOMPARE(chest->classIndex("effusion"), -1);
    const auto* hand = data::findTaskPreset("hand-sex");
    QCOMPARE(hand->classIndex("True"), 1);
    QCOMPARE(hand->classIndex("False"), 0);
    QCOMPARE(hand->classIndex("1"), 1);
}

void TestTaskPresets::labelKeys()
{
    const auto* knee = data::findTaskPreset("knee-kl");
    QCOMPARE(knee->labelKey(0), '0');
    QCOMPARE(knee->labelKey(4), '4');
    QCOMPARE(knee->labelKey(5), '\0');
    QCOMPARE(data::findTaskPreset("skin-10")->labelKey(9), '9');
}

QTEST_GUILESS_MAIN(TestTaskPresets)
#include "tst_task_presets.moc"
