// Task presets: complete, consistent with the model zoo and with the real data folders.
#include <data/Dataset.h>
#include <data/Loader.h>
#include <data/TaskPreset.h>
#include <jobs/TrainingWorker.h>
#include <ml/Model.h>

#include <QDir>
#include <QImage>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <map>
#include <set>

using namespace lightbox;

class TestTaskPresets : public QObject {
    Q_OBJECT
private slots:
    void everyPresetIsComplete();
    void kneeMatchesTheSharedDataFolders();
    void labelsMatchAcrossSpellings();
    void labelKeys();
    void realDataSetsLoadWithTheirPresets_data();
    void realDataSetsLoadWithTheirPresets();
    void patientPatternsGroupTheRealNames();
};

void TestTaskPresets::everyPresetIsComplete()
{
    const auto& presets = data::taskPresets();
    QCOMPARE(int(presets.size()), 6);
    const std::vector<std::string> zoo = ml::modelArchitectures();
    std::set<std::string> ids;
    for (const auto& p : presets) {
        QVERIFY2(ids.insert(p.id).second, p.id.c_str());
        QVERIFY(!p.title.empty());
        QVERIFY(p.classes.size() >= 2);
        QCOMPARE(p.displayNames.size(), p.classes.size());
        QVERIFY(p.channels == 1 || p.channels == 3);
        QVERIFY(p.inputSize >= 32 && p.inputSize <= 1024);
        const std::set<std::string> augment{"none", "light", "standard", "medical-safe", "dermoscopy"};
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
    // The ISIC dermoscopy task: RGB, lesion-safe augmentation that never crops or zooms in.
    const auto* isic = data::findTaskPreset("skin-isic");
    QVERIFY(isic);
    QCOMPARE(isic->channels, 3);
    QCOMPARE(int(isic->classes.size()), 9);
    data::AugmentOptions a;
    QVERIFY(data::AugmentOptions::fromPreset(isic->augmentation, a));
    QVERIFY(a.keepContent && a.verticalFlip && a.horizontalFlip);
    QCOMPARE(a.zoom, 0.0);
    QCOMPARE(a.shift, 0.0);
}

void TestTaskPresets::realDataSetsLoadWithTheirPresets_data()
{
    QTest::addColumn<QString>("preset");
    QTest::addColumn<QString>("folder");
    QTest::addColumn<QList<int>>("counts");
    QTest::addColumn<int>("patients");
    QTest::addColumn<int>("identical");   // sets of byte-identical files under one label
    QTest::addColumn<int>("conflicting"); // ... under different labels (left out)
    QTest::newRow("chest-pneumonia") << "chest-pneumonia"
                                     << "chest-pneumonia" << QList<int>{1341, 3875} << 2846 << 24 << 0;
    QTest::newRow("chest-4class") << "chest-4class"
                                  << "chest-4class" << QList<int>{499, 500, 123, 0} << -1 << 0 << 0;
    QTest::newRow("hand-sex") << "hand-sex"
                              << "hand-sex" << QList<int>{1802, 2198} << 4000 << 0 << 0;
    QTest::newRow("skin-isic") << "skin-isic"
                               << "skin-isic"
                               // 62 images are filed under both actinic keratosis and nevus, 75
                               // under both melanoma and seborrheic keratosis: left out.
                               << QList<int>{52, 378, 95, 363, 295, 462, 2, 181, 139} << 1963 << 4 << 137;
    QTest::newRow("knee-kl") << "knee-kl"
                             << "knee-kl" << QList<int>{1143 + 328, 523 + 153, 758 + 212, 378 + 106, 86 + 27} << -1 << 0
                             << 0;
}

void TestTaskPresets::realDataSetsLoadWithTheirPresets()
{
    QFETCH(QString, preset);
    QFETCH(QString, folder);
    QFETCH(QList<int>, counts);
    QFETCH(int, patients);
    QFETCH(int, identical);
    QFETCH(int, conflicting);
    const QString path = QStringLiteral(LIGHTBOX_SHARED_DATA) + "/" + folder;
    if (!QFileInfo::exists(path))
        QSKIP("the shared data is not here");
    const data::TaskPreset* p = data::findTaskPreset(preset.toStdString());
    QVERIFY(p);
    // One step: the folder (or the folder holding the CSV) with the preset's reading options.
    auto ds = data::loadDataset(path.toStdString(), jobs::datasetOptionsFor(p));
    QVERIFY2(ds, ds ? "" : ds.error().c_str());
    QCOMPARE(ds->classNames.size(), p->classes.size());
    const std::vector<int64_t> got = ds->classCounts();
    QCOMPARE(int(got.size()), counts.size());
    for (int i = 0; i < counts.size(); ++i)
        QCOMPARE(int(got[size_t(i)]), counts[i]);
    QCOMPARE(int(ds->identicalGroups), identical);
    QCOMPARE(int(ds->conflictingDuplicates), conflicting);
    for (const auto& skipped : ds->skipped)
        QVERIFY2(QString::fromStdString(skipped).contains("contradictory labels"), skipped.c_str());
    std::set<std::string> ids;
    for (const auto& s : ds->samples)
        ids.insert(s.patientId.empty() ? "file:" + s.id : s.patientId);
    if (patients > 0)
        QCOMPARE(int(ids.size()), patients);
    // A patient never straddles two splits.
    data::assignSplits(ds.value());
    std::map<std::string, data::Split> where;
    for (const auto& s : ds->samples) {
        if (s.patientId.empty())
            continue;
        auto [it, fresh] = where.emplace(s.patientId, s.split);
        QVERIFY2(fresh || it->second == s.split, s.patientId.c_str());
    }
}

void TestTaskPresets::patientPatternsGroupTheRealNames()
{
    const auto idOf = [](const char* preset, const char* file) {
        data::DatasetOptions o = jobs::datasetOptionsFor(data::findTaskPreset(preset));
        QTemporaryDir dir;
        for (const char* cls : {"a", "b"}) {
            QDir().mkpath(dir.filePath(cls));
            QImage img(8, 8, QImage::Format_Grayscale8);
            img.fill(0);
            img.save(dir.filePath(QString(cls) + "/" + file), "PNG");
            img.save(dir.filePath(QString(cls) + "/other.png"), "PNG");
        }
        o.classes.clear();
        o.aliases.clear();
        o.groupIdenticalFiles = false; // the stand-in files are all alike
        auto ds = data::loadDataset(dir.path().toStdString(), o);
        for (const auto& s : ds->samples)
            if (QFileInfo(QString::fromStdString(s.path)).fileName() == QLatin1String(file))
                return s.patientId;
        return std::string("?");
    };
    QCOMPARE(idOf("chest-pneumonia", "person1000_bacteria_2931.jpeg"), std::string("person1000"));
    QCOMPARE(idOf("chest-pneumonia", "person1000_virus_1681.jpeg"), std::string("person1000"));
    QCOMPARE(idOf("chest-pneumonia", "IM-0115-0001.jpeg"), std::string("IM-0115"));
    QCOMPARE(idOf("chest-pneumonia", "NORMAL2-IM-0381-0001.jpeg"), std::string("NORMAL2-IM-0381"));
    QCOMPARE(idOf("chest-4class", "00001280_004.jpg"), std::string("00001280"));
    QCOMPARE(idOf("chest-4class", "ryct.2020200034.fig5-day7.jpg"), std::string("ryct.2020200034"));
    QCOMPARE(idOf("chest-4class", "covid-19-pneumonia-24-day12.jpg"), std::string("covid-19-pneumonia-24"));
    QCOMPARE(idOf("chest-4class", "covid-19-pneumonia-12.jpg"), std::string()); // its own group
    QCOMPARE(idOf("knee-kl", "9006140L.png"), std::string("9006140"));
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
