// Data sets (folder, CSV and crop-manifest layouts), splits, leakage check and statistics.
// Over 600 lines: one function per layout, split rule and leakage case, each with the small
// files it writes; they share the image writers of TestImages.h.
#include "TestImages.h"

#include <data/CropManifest.h>
#include <data/Dataset.h>
#include <data/Leakage.h>
#include <imaging/ImageLoader.h>

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <map>
#include <set>

using namespace lightbox;
using namespace lightbox::data;
using lightbox::testing::syntheticImage;
using lightbox::testing::writeBytes;
using lightbox::testing::writeImage;

namespace {

std::map<std::string, std::set<Split>> patientSplits(const Dataset& ds)
{
    std::map<std::string, std::set<Split>> out;
    for (const Sample& s : ds.samples)
        if (!s.patientId.empty())
            out[s.patientId].insert(s.split);
    return out;
}

int patientsInSeveralSplits(const Dataset& ds)
{
    int n = 0;
    for (const auto& [id, splits] : patientSplits(ds))
        n += splits.size() > 1;
    return n;
}

const Sample* findSample(const Dataset& ds, const std::string& id)
{
    for (const Sample& s : ds.samples)
        if (s.id == id)
            return &s;
    return nullptr;
}

/// An in-memory data set: `perClass[c]` samples of class c, `perPatient` samples per patient.
Dataset syntheticDataset(const std::vector<int>& perClass, int perPatient)
{
    Dataset ds;
    ds.root = "/nowhere";
    int patient = 0, inPatient = 0;
    for (size_t c = 0; c < perClass.size(); ++c) {
        ds.classNames.push_back("c" + std::to_string(c));
        for (int i = 0; i < perClass[c]; ++i) {
            Sample s;
            s.id = ds.classNames.back() + "/" + std::to_string(i) + ".png";
            s.path = ds.root + "/" + s.id;
            s.label = int(c);
            s.patientId = perPatient > 0 ? "p" + std::to_string(patient) : std::string();
            if (++inPatient >= perPatient) {
                inPatient = 0;
                ++patient;
            }
            ds.samples.push_back(s);
        }
    }
    return ds;
}

std::vector<Split> splitsOf(const Dataset& ds)
{
    std::vector<Split> out;
    for (const Sample& s : ds.samples)
        out.push_back(s.split);
    return out;
}

QString kneeDir(const char* split)
{
    return QStringLiteral(LIGHTBOX_SHARED_DATA "/knee-kl/") + QLatin1String(split);
}

} // namespace

class tst_Dataset : public QObject {
    Q_OBJECT
private slots:
    void classFolders();
    void givenSplitsAndClassSpellings();
    void naturalClassOrder();
    void unpackedArchiveFolder();
    void csvWithPatternAndImageFolder();
    void csvSplitColumn();
    void cropManifest();
    void patientPattern();
    void dicomPatientId();
    void clearErrors();
    void stratifiedGroupedSplit();
    void splitIsSeeded();
    void tinyClassesAndGivenSplits();
    void kneeSplitHasNoPatientOverlap();
    void leakageCleanSet();
    void leakageFindsPlantedDuplicates();
    void leakageKneeGivenSplits();
    void leakageAcrossDicomEncodings();
    void perceptualHashSurvivesReencoding();
    void statistics();
    void identicalFilesAreGroupedOrLeftOut();
};

/// Copies of one image under one label stay together in one split; copies under two labels
/// contradict each other and are left out with the reason.
void tst_Dataset::identicalFilesAreGroupedOrLeftOut()
{
    QTemporaryDir dir;
    for (int i = 0; i < 20; ++i) {
        QVERIFY(writeImage(dir.filePath(QString("a/a%1.png").arg(i)), syntheticImage(i)));
        QVERIFY(writeImage(dir.filePath(QString("b/b%1.png").arg(i)), syntheticImage(100 + i)));
    }
    QVERIFY(QFile::copy(dir.filePath("a/a0.png"), dir.filePath("a/a0-copy.png")));
    QVERIFY(QFile::copy(dir.filePath("a/a0.png"), dir.filePath("a/a0-copy2.png")));
    QVERIFY(QFile::copy(dir.filePath("a/a1.png"), dir.filePath("b/a1-mislabelled.png")));
    auto ds = loadDataset(dir.path().toStdString());
    QVERIFY2(ds.ok(), ds.error().c_str());
    QCOMPARE(ds->identicalGroups, int64_t(1));
    QCOMPARE(ds->conflictingDuplicates, int64_t(1));
    QCOMPARE(ds->classCounts(), (std::vector<int64_t>{21, 20})); // a1 and its copy in b are gone
    QVERIFY(!findSample(ds.value(), "a/a1.png") && !findSample(ds.value(), "b/a1-mislabelled.png"));
    QCOMPARE(ds->skipped.size(), size_t(2));
    QVERIFY(QString::fromStdString(ds->skipped[0]).contains("contradictory labels"));
    const std::string group = findSample(ds.value(), "a/a0.png")->patientId;
    QVERIFY(!group.empty());
    QCOMPARE(findSample(ds.value(), "a/a0-copy2.png")->patientId, group);
    for (uint64_t seed = 1; seed <= 10; ++seed) {
        SplitOptions o;
        o.seed = seed;
        assignSplits(ds.value(), o);
        const Split s = findSample(ds.value(), "a/a0.png")->split;
        QCOMPARE(findSample(ds.value(), "a/a0-copy.png")->split, s);
        QCOMPARE(findSample(ds.value(), "a/a0-copy2.png")->split, s);
        for (auto& x : ds->samples)
            x.split = Split::Unassigned;
    }
    DatasetOptions off;
    off.groupIdenticalFiles = false;
    auto raw = loadDataset(dir.path().toStdString(), off);
    QVERIFY(raw.ok());
    QCOMPARE(raw->samples.size(), size_t(43));
    QCOMPARE(raw->identicalGroups, int64_t(0));
}

void tst_Dataset::classFolders()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    for (int i = 0; i < 3; ++i)
        QVERIFY(writeImage(dir.filePath(QString("cats/c%1.png").arg(i)), syntheticImage(i)));
    for (int i = 0; i < 2; ++i)
        QVERIFY(writeImage(dir.filePath(QString("dogs/sub/d%1.jpg").arg(i)), syntheticImage(10 + i)));
    QVERIFY(writeBytes(dir.filePath("cats/notes.txt"), "not an image"));
    QVERIFY(writeBytes(dir.filePath("dogs/Thumbs.db"), "junk"));

    auto ds = loadDataset(dir.path().toStdString());
    QVERIFY2(ds.ok(), ds.error().c_str());
    QCOMPARE(ds->classNames, (std::vector<std::string>{"cats", "dogs"}));
    QCOMPARE(ds->samples.size(), size_t(5));
    QCOMPARE(ds->classCounts(), (std::vector<int64_t>{3, 2}));
    QVERIFY(!ds->hasGivenSplits);
    QVERIFY(ds->skipped.empty()); // non-image files are ignored, not listed
    const Sample* d1 = findSample(ds.value(), "dogs/sub/d1.jpg");
    QVERIFY(d1);
    QCOMPARE(d1->label, 1);
    QCOMPARE(d1->split, Split::Unassigned);
    QVERIFY(QFileInfo(QString::fromStdString(d1->path)).isAbsolute());
    QVERIFY(QFileInfo::exists(QString::fromStdString(d1->path)));
}

void tst_Dataset::givenSplitsAndClassSpellings()
{
    // Kaggle pneumonia layout with a "valid" spelling and upper-case class folders.
    QTemporaryDir dir;
    int seed = 0;
    const std::map<QString, std::pair<int, int>> counts = {{"train", {4, 6}}, {"valid", {1, 2}}, {"test", {2, 3}}};
    for (const auto& [split, n] : counts) {
        for (int i = 0; i < n.first; ++i)
            QVERIFY(writeImage(dir.filePath(QString("%1/NORMAL/n%2.png").arg(split).arg(i)), syntheticImage(seed++)));
        for (int i = 0; i < n.second; ++i)
            QVERIFY(
                writeImage(dir.filePath(QString("%1/PNEUMONIA/p%2.png").arg(split).arg(i)), syntheticImage(seed++)));
    }
    DatasetOptions opt;
    opt.classes = {"pneumonia", "normal"}; // fixes the order; matched case-insensitively
    auto ds = loadDataset(dir.path().toStdString(), opt);
    QVERIFY2(ds.ok(), ds.error().c_str());
    QVERIFY(ds->hasGivenSplits);
    QCOMPARE(ds->classNames, opt.classes);
    QCOMPARE(ds->classCounts(Split::Train), (std::vector<int64_t>{6, 4}));
    QCOMPARE(ds->classCounts(Split::Val), (std::vector<int64_t>{2, 1}));
    QCOMPARE(ds->classCounts(Split::Test), (std::vector<int64_t>{3, 2}));
    QCOMPARE(ds->inSplit(Split::Val).size(), size_t(3));

    // Aliases map other spellings; a folder matching no class is listed as skipped.
    QVERIFY(writeImage(dir.filePath("train/COVID/x.png"), syntheticImage(99)));
    DatasetOptions aliased;
    aliased.classes = {"healthy", "sick"};
    aliased.aliases = {{"Normal", "healthy"}, {"PNEUMONIA", "sick"}};
    auto ds2 = loadDataset(dir.path().toStdString(), aliased);
    QVERIFY2(ds2.ok(), ds2.error().c_str());
    QCOMPARE(ds2->classCounts(), (std::vector<int64_t>{7, 11}));
    QCOMPARE(ds2->skipped.size(), size_t(1));
    QVERIFY(QString::fromStdString(ds2->skipped[0]).contains("COVID"));

    // keepGivenSplits leaves all three splits alone.
    Dataset copy = ds.value();
    assignSplits(copy);
    QCOMPARE(splitsOf(copy), splitsOf(ds.value()));
}

void tst_Dataset::naturalClassOrder()
{
    QTemporaryDir dir;
    int seed = 0;
    for (const char* c : {"10", "2", "1"})
        QVERIFY(writeImage(dir.filePath(QString("%1/a.png").arg(c)), syntheticImage(seed++)));
    auto ds = loadDataset(dir.path().toStdString());
    QVERIFY2(ds.ok(), ds.error().c_str());
    QCOMPARE(ds->classNames, (std::vector<std::string>{"1", "2", "10"}));
}

void tst_Dataset::unpackedArchiveFolder()
{
    // Kaggle's chest_xray.zip: chest_xray/chest_xray/{train,val,test}/..., plus __MACOSX junk.
    QTemporaryDir dir;
    int seed = 0;
    for (const char* split : {"train", "val", "test"})
        for (const char* cls : {"NORMAL", "PNEUMONIA"})
            for (int i = 0; i < 2; ++i)
                QVERIFY(writeImage(dir.filePath(QString("chest_xray/chest_xray/%1/%2/%3.jpeg").arg(split, cls).arg(i)),
                                   syntheticImage(seed++)));
    QVERIFY(writeImage(dir.filePath("__MACOSX/chest_xray/train/NORMAL/._0.jpeg"), syntheticImage(99)));
    auto ds = loadDataset(dir.path().toStdString());
    QVERIFY2(ds.ok(), ds.error().c_str());
    QVERIFY(ds->hasGivenSplits);
    QCOMPARE(ds->classNames, (std::vector<std::string>{"NORMAL", "PNEUMONIA"}));
    QCOMPARE(ds->samples.size(), size_t(12));
    QCOMPARE(ds->inSplit(Split::Test).size(), size_t(4));
    QVERIFY(findSample(ds.value(), "train/NORMAL/1.jpeg"));
}

void tst_Dataset::csvWithPatternAndImageFolder()
{
    // RSNA bone age: id,boneage,male with {id}.png in an image folder; one row's file missing.
    QTemporaryDir dir;
    QString csv = "id,boneage,male\n";
    for (int i = 0; i < 6; ++i) {
        const int id = 1377 + i;
        csv += QString("%1,%2,%3\n").arg(id).arg(100 + i).arg(i % 2 ? "True" : "False");
        if (i != 4)
            QVERIFY(writeImage(dir.filePath(QString("boneage-training-dataset/%1.png").arg(id)), syntheticImage(i)));
    }
    QVERIFY(writeBytes(dir.filePath("boneage-training-dataset.csv"), csv.toUtf8()));

    DatasetOptions opt;
    opt.csvPathColumn = "id";
    opt.csvLabelColumn = "male";
    opt.csvPathPattern = "{id}.png";
    opt.imageDir = "boneage-training-dataset";
    opt.classes = {"female", "male"};
    opt.aliases = {{"false", "female"}, {"true", "male"}};
    auto ds = loadDataset(dir.filePath("boneage-training-dataset.csv").toStdString(), opt);
    QVERIFY2(ds.ok(), ds.error().c_str());
    QCOMPARE(ds->samples.size(), size_t(5));
    QCOMPARE(ds->classCounts(), (std::vector<int64_t>{2, 3})); // row 4 (female) has no file
    QCOMPARE(ds->skipped.size(), size_t(1));
    QVERIFY(QString::fromStdString(ds->skipped[0]).contains("1381"));
    QVERIFY(QString::fromStdString(ds->skipped[0]).contains("not found"));
    const Sample* s = findSample(ds.value(), "1378.png");
    QVERIFY(s);
    QCOMPARE(s->label, 1);

    // Without options: the folder named like the CSV is found, classes are the raw values.
    DatasetOptions plain;
    plain.csvLabelColumn = "male";
    auto ds2 = loadDataset(dir.path().toStdString(), plain);
    QVERIFY2(ds2.ok(), ds2.error().c_str());
    QCOMPARE(ds2->classNames, (std::vector<std::string>{"False", "True"}));
    QCOMPARE(ds2->samples.size(), size_t(5)); // extensionless ids find their .png

    // A label column that does not exist is a clear error.
    DatasetOptions wrong = opt;
    wrong.csvLabelColumn = "sex";
    auto bad = loadDataset(dir.filePath("boneage-training-dataset.csv").toStdString(), wrong);
    QVERIFY(!bad.ok());
    QVERIFY(QString::fromStdString(bad.error()).contains("sex"));
}

void tst_Dataset::csvSplitColumn()
{
    QTemporaryDir dir;
    QString csv = "path,label,split\n";
    const char* splits[] = {"train", "train", "val", "test"};
    for (int i = 0; i < 8; ++i) {
        const QString file = QString("img/%1.png").arg(i);
        QVERIFY(writeImage(dir.filePath(file), syntheticImage(i)));
        csv += QString("\"%1\",%2,%3\n").arg(file, i % 2 ? "b" : "a", splits[i % 4]);
    }
    QVERIFY(writeBytes(dir.filePath("labels.csv"), csv.toUtf8()));
    auto ds = loadDataset(dir.filePath("labels.csv").toStdString());
    QVERIFY2(ds.ok(), ds.error().c_str());
    QVERIFY(ds->hasGivenSplits);
    QCOMPARE(ds->inSplit(Split::Train).size(), size_t(4));
    QCOMPARE(ds->inSplit(Split::Val).size(), size_t(2));
    QCOMPARE(ds->inSplit(Split::Test).size(), size_t(2));
    QCOMPARE(findSample(ds.value(), "img/2.png")->split, Split::Val);

    // A semicolon-separated export with Windows line ends and a byte-order mark.
    QByteArray semi = "\xEF\xBB\xBF"
                      "file;label\r\n";
    for (int i = 0; i < 4; ++i)
        semi += QString("img\\%1.png;%2\r\n").arg(i).arg(i < 2 ? "x" : "y").toUtf8();
    QVERIFY(writeBytes(dir.filePath("semi.csv"), semi));
    auto ds2 = loadDataset(dir.filePath("semi.csv").toStdString());
    QVERIFY2(ds2.ok(), ds2.error().c_str());
    QCOMPARE(ds2->classNames, (std::vector<std::string>{"x", "y"}));
    QCOMPARE(ds2->classCounts(), (std::vector<int64_t>{2, 2}));
    QVERIFY(findSample(ds2.value(), "img/3.png"));
}

void tst_Dataset::cropManifest()
{
    QTemporaryDir dir;
    CropManifest manifest;
    for (int i = 0; i < 5; ++i) {
        CropRecord r;
        r.sourceKey = QString("%1").arg(i, 16, 16, QLatin1Char('0'));
        r.label = i < 3 ? "2" : "0";
        r.roiW = r.roiH = 64;
        r.outputWidth = r.outputHeight = 64;
        r.mode = "windowed";
        r.photometric = "MONOCHROME2";
        r.file = QString("%1/crop_%2.png").arg(r.label).arg(i);
        r.savedAt = "2026-01-01T00:00:00Z";
        manifest.upsert(r);
        if (i != 1)
            QVERIFY(writeImage(dir.filePath(r.file), syntheticImage(i)));
    }
    QVERIFY(writeImage(dir.filePath("2/not_in_manifest.png"), syntheticImage(50)));
    QVERIFY(manifest.save(dir.filePath("manifest.csv")).ok());

    auto ds = loadDataset(dir.path().toStdString());
    QVERIFY2(ds.ok(), ds.error().c_str());
    QCOMPARE(ds->classNames, (std::vector<std::string>{"0", "2"}));
    QCOMPARE(ds->classCounts(), (std::vector<int64_t>{2, 2})); // manifest rows, not folder contents
    QCOMPARE(ds->skipped.size(), size_t(1));
    QVERIFY(QString::fromStdString(ds->skipped[0]).contains("crop_1"));
    QVERIFY(!findSample(ds.value(), "2/not_in_manifest.png"));
    // The manifest file itself also works as the path.
    auto ds2 = loadDataset(dir.filePath("manifest.csv").toStdString());
    QVERIFY2(ds2.ok(), ds2.error().c_str());
    QCOMPARE(ds2->samples.size(), size_t(4));
}

void tst_Dataset::patientPattern()
{
    QTemporaryDir dir;
    QVERIFY(writeImage(dir.filePath("0/9001695L.png"), syntheticImage(1)));
    QVERIFY(writeImage(dir.filePath("1/9001695R.png"), syntheticImage(2)));
    QVERIFY(writeImage(dir.filePath("1/9003126L.png"), syntheticImage(3)));
    QVERIFY(writeImage(dir.filePath("1/odd.png"), syntheticImage(4)));
    DatasetOptions opt;
    opt.patientPattern = "^(\\d+)[LR]\\.";
    auto ds = loadDataset(dir.path().toStdString(), opt);
    QVERIFY2(ds.ok(), ds.error().c_str());
    QCOMPARE(findSample(ds.value(), "0/9001695L.png")->patientId, std::string("9001695"));
    QCOMPARE(findSample(ds.value(), "1/9001695R.png")->patientId, std::string("9001695"));
    QCOMPARE(findSample(ds.value(), "1/9003126L.png")->patientId, std::string("9003126"));
    QCOMPARE(findSample(ds.value(), "1/odd.png")->patientId, std::string()); // own group

    auto noPattern = loadDataset(dir.path().toStdString());
    QVERIFY(noPattern.ok());
    QCOMPARE(findSample(noPattern.value(), "0/9001695L.png")->patientId, std::string());

    opt.patientPattern = "([0-9";
    auto bad = loadDataset(dir.path().toStdString(), opt);
    QVERIFY(!bad.ok());
    QVERIFY(QString::fromStdString(bad.error()).contains("patient pattern"));
}

void tst_Dataset::dicomPatientId()
{
    const QString src = QStringLiteral(LIGHTBOX_SHARED_DATA "/dicom/chest-cr-RG1_raw.dcm");
    if (!QFileInfo::exists(src))
        QSKIP("shared DICOM files not present");
    auto image = imaging::loadImage(src.toStdString());
    QVERIFY2(image.ok(), image.error().c_str());
    const std::string expected = image->keyTag("PatientID");
    QTemporaryDir dir;
    QDir().mkpath(dir.filePath("a"));
    QVERIFY(QFile::copy(src, dir.filePath("a/x.dcm")));
    QVERIFY(writeImage(dir.filePath("b/y.png"), syntheticImage(1)));
    auto ds = loadDataset(dir.path().toStdString());
    QVERIFY2(ds.ok(), ds.error().c_str());
    QCOMPARE(findSample(ds.value(), "a/x.dcm")->patientId, expected);
    QCOMPARE(findSample(ds.value(), "b/y.png")->patientId, std::string());
    // The size comes from the header, and agrees with the decoded image.
    const DatasetStats st = datasetStats(ds.value());
    QCOMPARE(st.measured, int64_t(2));
    QCOMPARE(st.maxWidth, image->width());
    QCOMPARE(st.maxHeight, image->height());
}

void tst_Dataset::clearErrors()
{
    QTemporaryDir dir;
    auto missing = loadDataset(dir.filePath("nope").toStdString());
    QVERIFY(!missing.ok());
    QVERIFY(QString::fromStdString(missing.error()).contains("does not exist"));

    auto empty = loadDataset(dir.path().toStdString());
    QVERIFY(!empty.ok());
    QVERIFY(QString::fromStdString(empty.error()).contains("no data set layout"));

    QVERIFY(writeImage(dir.filePath("only/a.png"), syntheticImage(1)));
    QVERIFY(writeImage(dir.filePath("only/b.png"), syntheticImage(2)));
    auto oneClass = loadDataset(dir.path().toStdString());
    QVERIFY(!oneClass.ok());
    QVERIFY2(QString::fromStdString(oneClass.error()).contains("two"), oneClass.error().c_str());

    QTemporaryDir emptyClasses;
    QDir().mkpath(emptyClasses.filePath("a"));
    QDir().mkpath(emptyClasses.filePath("b"));
    QVERIFY(writeBytes(emptyClasses.filePath("a/readme.txt"), "x"));
    auto noImages = loadDataset(emptyClasses.path().toStdString());
    QVERIFY(!noImages.ok());

    QVERIFY(writeBytes(dir.filePath("x.txt"), "x"));
    QVERIFY(!loadDataset(dir.filePath("x.txt").toStdString()).ok());
}

void tst_Dataset::stratifiedGroupedSplit()
{
    Dataset ds = syntheticDataset({600, 300, 90, 10}, 2);
    assignSplits(ds);
    for (const Sample& s : ds.samples)
        QVERIFY(s.split != Split::Unassigned);
    QCOMPARE(patientsInSeveralSplits(ds), 0);
    const auto all = ds.classCounts();
    const std::vector<std::pair<Split, double>> expected = {{Split::Train, 0.8}, {Split::Val, 0.1}, {Split::Test, 0.1}};
    for (const auto& [split, fraction] : expected) {
        const auto counts = ds.classCounts(split);
        for (size_t c = 0; c < all.size(); ++c) {
            // Within one patient (2 samples) plus rounding of the share.
            const double want = fraction * double(all[c]);
            QVERIFY2(std::abs(double(counts[c]) - want) <= 3.0,
                     qPrintable(QString("%1 class %2: %3 vs %4").arg(toString(split)).arg(c).arg(counts[c]).arg(want)));
        }
    }
    // Other fractions.
    Dataset half = syntheticDataset({200, 200}, 0);
    SplitOptions o;
    o.train = 2;
    o.val = 1;
    o.test = 1; // normalised: 50 %, 25 %, 25 %
    assignSplits(half, o);
    QCOMPARE(half.classCounts(Split::Train), (std::vector<int64_t>{100, 100}));
    QCOMPARE(half.classCounts(Split::Val), (std::vector<int64_t>{50, 50}));
}

void tst_Dataset::splitIsSeeded()
{
    Dataset a = syntheticDataset({300, 200}, 2), b = a, c = a;
    SplitOptions o;
    o.seed = 7;
    assignSplits(a, o);
    assignSplits(b, o);
    o.seed = 8;
    assignSplits(c, o);
    QCOMPARE(splitsOf(a), splitsOf(b));
    QVERIFY(splitsOf(a) != splitsOf(c));
    QCOMPARE(patientsInSeveralSplits(c), 0);
}

void tst_Dataset::tinyClassesAndGivenSplits()
{
    // One sample in a class, two in another: no crash, everything assigned, the single
    // sample goes to train.
    Dataset tiny = syntheticDataset({1, 2, 50}, 0);
    assignSplits(tiny);
    QCOMPARE(tiny.samples[0].split, Split::Train);
    for (const Sample& s : tiny.samples)
        QVERIFY(s.split != Split::Unassigned);
    QCOMPARE(tiny.classCounts(Split::Train)[1] + tiny.classCounts(Split::Val)[1] + tiny.classCounts(Split::Test)[1],
             int64_t(2));

    // Given train and val but no test: test is filled from train only, from patients that are
    // only in train; val stays as it was.
    Dataset given = syntheticDataset({200, 100}, 2);
    given.hasGivenSplits = true;
    for (size_t i = 0; i < given.samples.size(); ++i)
        given.samples[i].split = i % 10 == 0 ? Split::Val : Split::Train;
    const auto before = splitsOf(given);
    assignSplits(given);
    size_t toTest = 0;
    for (size_t i = 0; i < given.samples.size(); ++i) {
        if (before[i] == Split::Val)
            QCOMPARE(given.samples[i].split, Split::Val);
        else if (given.samples[i].split == Split::Test)
            ++toTest;
        else
            QCOMPARE(given.samples[i].split, Split::Train);
    }
    QVERIFY2(toTest > 15 && toTest < 45, qPrintable(QString::number(toTest)));
    for (const auto& [id, splits] : patientSplits(given))
        QVERIFY(!(splits.count(Split::Test) && splits.size() > 1));

    // keepGivenSplits = false re-splits everything, grouped.
    SplitOptions fresh;
    fresh.keepGivenSplits = false;
    assignSplits(given, fresh);
    QCOMPARE(patientsInSeveralSplits(given), 0);
}

void tst_Dataset::kneeSplitHasNoPatientOverlap()
{
    if (!QFileInfo::exists(kneeDir("train")))
        QSKIP("knee-kl data not present");
    DatasetOptions opt;
    opt.patientPattern = "^(\\d+)[LR]\\.";
    QElapsedTimer timer;
    timer.start();
    auto ds = loadDataset(kneeDir("train").toStdString(), opt);
    QVERIFY2(ds.ok(), ds.error().c_str());
    const qint64 listed = timer.elapsed();
    QCOMPARE(ds->classNames, (std::vector<std::string>{"0", "1", "2", "3", "4"}));
    QVERIFY(!ds->hasGivenSplits);
    std::set<std::string> patients;
    for (const Sample& s : ds->samples) {
        QVERIFY(!s.patientId.empty());
        patients.insert(s.patientId);
    }
    QVERIFY(patients.size() < ds->samples.size()); // both knees of many patients
    Dataset split = ds.value();
    timer.restart();
    assignSplits(split);
    qInfo("knee-kl train: %zu files listed in %lld ms, split in %lld ms", ds->samples.size(), qlonglong(listed),
          qlonglong(timer.elapsed()));
    QCOMPARE(patientsInSeveralSplits(split), 0);
    const auto all = split.classCounts();
    const auto val = split.classCounts(Split::Val);
    for (size_t c = 0; c < all.size(); ++c)
        QVERIFY2(std::abs(double(val[c]) - 0.1 * double(all[c])) <= 0.03 * double(all[c]) + 3,
                 qPrintable(QString("class %1: %2 of %3").arg(c).arg(val[c]).arg(all[c])));
    // The knee-kl root: given train and val folders; test is carved out of train, by patient.
    auto root = loadDataset(QFileInfo(kneeDir("train")).absolutePath().toStdString(), opt);
    QVERIFY2(root.ok(), root.error().c_str());
    QVERIFY(root->hasGivenSplits);
    QCOMPARE(root->inSplit(Split::Train).size(), ds->samples.size());
    const size_t givenVal = root->inSplit(Split::Val).size();
    QVERIFY(givenVal > 0);
    QVERIFY(root->inSplit(Split::Test).empty());
    Dataset carved = root.value();
    assignSplits(carved);
    QCOMPARE(carved.inSplit(Split::Val).size(), givenVal);
    const double testShare = double(carved.inSplit(Split::Test).size()) / double(ds->samples.size());
    QVERIFY2(testShare > 0.08 && testShare < 0.14, qPrintable(QString::number(testShare)));
    QCOMPARE(patientsInSeveralSplits(carved), patientsInSeveralSplits(root.value()));

    // Without grouping, patients do cross (which is what grouping prevents).
    Dataset ungrouped = ds.value();
    SplitOptions o;
    o.groupByPatient = false;
    assignSplits(ungrouped, o);
    QVERIFY(patientsInSeveralSplits(ungrouped) > 0);
}

void tst_Dataset::leakageCleanSet()
{
    QTemporaryDir dir;
    for (int i = 0; i < 24; ++i)
        QVERIFY(writeImage(dir.filePath(QString("%1/p%2L.png").arg(i % 2).arg(i)), syntheticImage(100 + i)));
    DatasetOptions opt;
    opt.patientPattern = "^p(\\d+)[LR]";
    auto ds = loadDataset(dir.path().toStdString(), opt);
    QVERIFY2(ds.ok(), ds.error().c_str());
    assignSplits(ds.value());
    const LeakageReport r = checkLeakage(ds.value(), 4, 2);
    QVERIFY2(r.clean(), r.summary().c_str());
    QVERIFY(r.examples.empty());
    QVERIFY(r.unreadable.empty());
    QVERIFY(QString::fromStdString(r.summary()).contains("No leakage"));
}

void tst_Dataset::leakageFindsPlantedDuplicates()
{
    QTemporaryDir dir;
    int seed = 200;
    for (const char* split : {"train", "val", "test"})
        for (int c = 0; c < 2; ++c)
            for (int i = 0; i < 5; ++i, ++seed)
                QVERIFY(writeImage(dir.filePath(QString("%1/%2/%3_%4.png").arg(split).arg(c).arg(seed).arg(i)),
                                   syntheticImage(seed, 96, 96)));
    // An exact copy of a train image in val.
    const cv::Mat original = syntheticImage(7000, 96, 96);
    QVERIFY(writeImage(dir.filePath("train/0/orig.png"), original));
    QVERIFY(writeImage(dir.filePath("val/0/copy.png"), original));
    // A slightly brighter JPEG of another train image in test.
    const cv::Mat other = syntheticImage(7001, 96, 96);
    QVERIFY(writeImage(dir.filePath("train/1/other.png"), other));
    cv::Mat brighter;
    other.convertTo(brighter, -1, 1.0, 6);
    QVERIFY(writeImage(dir.filePath("test/1/other_bright.jpg"), brighter, {cv::IMWRITE_JPEG_QUALITY, 85}));
    // The same patient in train and test.
    QVERIFY(writeImage(dir.filePath("train/0/pat42L.png"), syntheticImage(7002, 96, 96)));
    QVERIFY(writeImage(dir.filePath("test/1/pat42R.png"), syntheticImage(7003, 96, 96)));
    // An unreadable file is listed, never fatal.
    QVERIFY(writeBytes(dir.filePath("val/1/broken.png"), QByteArray("\x89PNG\r\n\x1a\n garbage", 17)));

    DatasetOptions opt;
    opt.patientPattern = "^pat(\\d+)[LR]";
    auto ds = loadDataset(dir.path().toStdString(), opt);
    QVERIFY2(ds.ok(), ds.error().c_str());
    QVERIFY(ds->hasGivenSplits);
    const LeakageReport r = checkLeakage(ds.value(), 4, 3);
    QVERIFY(!r.clean());
    QCOMPARE(r.exactDuplicates, int64_t(1));
    QCOMPARE(r.nearDuplicates, int64_t(1));
    QCOMPARE(r.patientsInSeveralSplits, int64_t(1));
    QCOMPARE(r.unreadable.size(), size_t(1));
    QVERIFY(QString::fromStdString(r.unreadable[0]).startsWith("val/1/broken.png: "));
    QString all;
    for (const std::string& e : r.examples)
        all += QString::fromStdString(e) + "\n";
    QVERIFY2(all.contains("orig.png") && all.contains("copy.png"), qPrintable(all));
    QVERIFY2(QRegularExpression("train/1/other\\.png <-> test/1/other_bright\\.jpg").match(all).hasMatch(),
             qPrintable(all));
    QVERIFY2(QRegularExpression("train/0/orig\\.png <-> val/0/copy\\.png|val/0/copy\\.png <-> train/0/orig\\.png")
                 .match(all)
                 .hasMatch(),
             qPrintable(all));
    QVERIFY2(all.contains("patient 42"), qPrintable(all));
    QVERIFY(QString::fromStdString(r.summary()).contains("1 identical"));

    // The same check with one thread finds the same.
    const LeakageReport one = checkLeakage(ds.value(), 4, 1);
    QCOMPARE(one.exactDuplicates, r.exactDuplicates);
    QCOMPARE(one.nearDuplicates, r.nearDuplicates);
    // A zero threshold still catches the exact copy but not the re-encoded one.
    const LeakageReport strict = checkLeakage(ds.value(), 0, 2);
    QCOMPARE(strict.exactDuplicates, int64_t(1));
    QVERIFY(strict.nearDuplicates <= r.nearDuplicates);
}

void tst_Dataset::leakageKneeGivenSplits()
{
    if (!QFileInfo::exists(kneeDir("val")))
        QSKIP("knee-kl data not present");
    // The given knee train/val folders: the report's patient count must equal a direct count.
    DatasetOptions opt;
    opt.patientPattern = "^(\\d+)[LR]\\.";
    auto train = loadDataset(kneeDir("train").toStdString(), opt);
    auto val = loadDataset(kneeDir("val").toStdString(), opt);
    QVERIFY(train.ok() && val.ok());
    Dataset ds = train.value();
    for (Sample& s : ds.samples)
        s.split = Split::Train;
    for (Sample s : val->samples) {
        s.split = Split::Val;
        ds.samples.push_back(s);
    }
    QElapsedTimer timer;
    timer.start();
    const LeakageReport r = checkLeakage(ds);
    qInfo("knee-kl train+val leakage check: %lld images in %lld ms: %s", qlonglong(ds.samples.size()),
          qlonglong(timer.elapsed()), r.summary().c_str());
    for (size_t i = 0; i < std::min<size_t>(5, r.examples.size()); ++i)
        qInfo("  %s", r.examples[i].c_str());
    QCOMPARE(r.patientsInSeveralSplits, int64_t(patientsInSeveralSplits(ds)));
    QVERIFY(r.unreadable.empty());
}

void tst_Dataset::leakageAcrossDicomEncodings()
{
    // One radiograph stored three ways: uncompressed, lossless and lossy JPEG 2000.
    const QString shared = QStringLiteral(LIGHTBOX_SHARED_DATA "/dicom/");
    const QStringList files = {"tibia-cr-RG3_raw.dcm", "tibia-cr-RG3_J2KR.dcm", "tibia-cr-RG3_J2KI.dcm",
                               "chest-cr-RG1_raw.dcm"};
    for (const QString& f : files)
        if (!QFileInfo::exists(shared + f))
            QSKIP("shared DICOM files not present");
    QTemporaryDir dir;
    const QStringList where = {"train/a/", "val/a/", "test/b/", "train/b/"};
    for (int i = 0; i < files.size(); ++i) {
        QDir().mkpath(dir.filePath(where[i]));
        QVERIFY(QFile::copy(shared + files[i], dir.filePath(where[i] + files[i])));
    }
    auto ds = loadDataset(dir.path().toStdString());
    QVERIFY2(ds.ok(), ds.error().c_str());
    const LeakageReport r = checkLeakage(ds.value(), 4, 2);
    QString all;
    for (const std::string& e : r.examples)
        all += QString::fromStdString(e) + "\n";
    // raw = lossless: identical pixels; lossy: near duplicate of both; the chest: of neither.
    QCOMPARE(r.exactDuplicates, int64_t(1));
    QCOMPARE(r.nearDuplicates, int64_t(2));
    QVERIFY2(!all.contains("chest"), qPrintable(all));
}

void tst_Dataset::perceptualHashSurvivesReencoding()
{
    const cv::Mat a = syntheticImage(1, 128, 128);
    std::vector<uchar> jpeg;
    QVERIFY(cv::imencode(".jpg", a, jpeg, {cv::IMWRITE_JPEG_QUALITY, 70}));
    const cv::Mat decoded = cv::imdecode(jpeg, cv::IMREAD_GRAYSCALE);
    cv::Mat smaller;
    cv::resize(a, smaller, cv::Size(100, 100), 0, 0, cv::INTER_AREA);
    QVERIFY(hammingDistance(perceptualHash(a), perceptualHash(decoded)) <= 4);
    QVERIFY(hammingDistance(perceptualHash(a), perceptualHash(smaller)) <= 4);
    // Different images are far apart, and the exact hash tells even a 1-level change.
    int minDistance = 64;
    for (int s = 2; s < 40; ++s)
        minDistance =
            std::min(minDistance, hammingDistance(perceptualHash(a), perceptualHash(syntheticImage(s, 128, 128))));
    QVERIFY2(minDistance > 8, qPrintable(QString::number(minDistance)));
    // The thumbnail correlation that confirms a hash match.
    QVERIFY(thumbnailCorrelation(leakageThumbnail(a), leakageThumbnail(decoded)) > kNearDuplicateCorrelation);
    QVERIFY(thumbnailCorrelation(leakageThumbnail(a), leakageThumbnail(syntheticImage(2, 128, 128))) <
            kNearDuplicateCorrelation);
    cv::Mat plusOne = a + 1;
    QVERIFY(pixelHash(a) != pixelHash(plusOne));
    QCOMPARE(pixelHash(a), pixelHash(a.clone()));
}

void tst_Dataset::statistics()
{
    QTemporaryDir dir;
    QVERIFY(writeImage(dir.filePath("train/a/1.png"), syntheticImage(1, 40, 30)));
    QVERIFY(writeImage(dir.filePath("train/b/2.jpg"), syntheticImage(2, 100, 50, 3)));
    QVERIFY(writeImage(dir.filePath("val/a/3.bmp"), syntheticImage(3, 60, 80)));
    QVERIFY(writeImage(dir.filePath("test/b/4.tif"), syntheticImage(4, 20, 10)));
    auto ds = loadDataset(dir.path().toStdString());
    QVERIFY2(ds.ok(), ds.error().c_str());
    const DatasetStats st = datasetStats(ds.value());
    QCOMPARE(st.measured, int64_t(4));
    QCOMPARE(st.minWidth, 20);
    QCOMPARE(st.maxWidth, 100);
    QCOMPARE(st.minHeight, 10);
    QCOMPARE(st.maxHeight, 80);
    QCOMPARE(st.meanWidth, 55.0);
    QCOMPARE(st.meanHeight, 42.5);
    QCOMPARE(st.countsPerSplit.size(), size_t(3));
    QCOMPARE(st.countsPerSplit[0], (std::vector<int64_t>{1, 1}));
    QCOMPARE(st.countsPerSplit[1], (std::vector<int64_t>{1, 0}));
    QCOMPARE(st.countsPerSplit[2], (std::vector<int64_t>{0, 1}));
    QCOMPARE(datasetStats(ds.value(), 2).measured, int64_t(2));
}

QTEST_GUILESS_MAIN(tst_Dataset)
#include "tst_Dataset.moc"
