// Picking the model for an image: the crop panel's task first, then DICOM Body Part Examined
// (with the patient's age for chests) or a photographic Modality, then the folder's task, then
// colour; the reason is given in words, and nothing is picked without a hint.
#include <jobs/ModelChoice.h>

#include <QtTest>

using namespace lightbox;

class TestModelChoice : public QObject {
    Q_OBJECT
private slots:
    void order();
    void chestByAge();
    void folderTask();
    void ages();
};

namespace {

const std::vector<jobs::ModelCandidate> kModels = {{"/m/knee.lbx", "knee-kl"},
                                                   {"/m/pneu.lbx", "chest-pneumonia"},
                                                   {"/m/chest.lbx", "chest-4class"},
                                                   {"/m/hand.lbx", "hand-sex"},
                                                   {"/m/skin.lbx", "skin-isic"}};

int pick(const jobs::ImageContext& c)
{
    return jobs::chooseModel(kModels, c).index;
}

} // namespace

void TestModelChoice::order()
{
    jobs::ImageContext c;
    QCOMPARE(pick(c), -1); // no hint at all
    QVERIFY(jobs::chooseModel(kModels, c).reason.empty());
    c.path = "/data/scans/x.png";
    QCOMPARE(pick(c), -1);
    c.colour = true;
    QCOMPARE(pick(c), 4); // a colour photograph
    c.bodyPart = "KNEE";
    QCOMPARE(pick(c), 0); // the DICOM header beats colour
    QVERIFY(QString::fromStdString(jobs::chooseModel(kModels, c).reason).contains("Body Part Examined is KNEE"));
    c.presetId = "hand-sex";
    QCOMPARE(pick(c), 3); // the crop panel's task beats everything
    QVERIFY(QString::fromStdString(jobs::chooseModel(kModels, c).reason).contains("crop panel"));
    c.presetId = "no-such-task";
    QCOMPARE(pick(c), 0);
    // A task without a listed model: no index, and the reason says so.
    const auto none = jobs::chooseModel({{"/m/knee.lbx", "knee-kl"}}, jobs::ImageContext{"skin-isic"});
    QCOMPARE(none.index, -1);
    QCOMPARE(none.task, std::string("skin-isic"));
    QVERIFY(QString::fromStdString(none.reason).contains("no listed model"));
    jobs::ImageContext photo;
    photo.modality = "XC";
    photo.dicom = true;
    QCOMPARE(pick(photo), 4);
}

void TestModelChoice::chestByAge()
{
    jobs::ImageContext c;
    c.bodyPart = "CHEST";
    c.dicom = true;
    QCOMPARE(pick(c), 2); // no age: an adult is assumed
    c.patientAge = "006Y";
    QCOMPARE(pick(c), 1);
    QVERIFY(QString::fromStdString(jobs::chooseModel(kModels, c).reason).contains("child"));
    c.patientAge = "018Y";
    QCOMPARE(pick(c), 2);
    c.patientAge = "030M";
    QCOMPARE(pick(c), 1);
    // No Patient's Age: from the birth date and the study date.
    c.patientAge.clear();
    c.birthDate = "20150310";
    c.studyDate = "20240309";
    QCOMPARE(pick(c), 1); // 8 years old, a day short of 9
    QVERIFY(QString::fromStdString(jobs::chooseModel(kModels, c).reason).contains("8 years at the study"));
    c.birthDate = "1940-03-05";
    c.studyDate = "20040826";
    QCOMPARE(pick(c), 2);
    QCOMPARE(jobs::yearsBetween("19400305", "20040826"), 64.0);
    QVERIFY(jobs::yearsBetween("1940", "20040826") < 0);
    QVERIFY(jobs::yearsBetween("20050101", "20040826") < 0);
}

void TestModelChoice::folderTask()
{
    jobs::ImageContext c;
    c.path = "/home/a/chest_xray/train/NORMAL/IM-0115-0001.jpeg";
    c.siblingFolders = {"NORMAL", "PNEUMONIA"};
    QCOMPARE(pick(c), 1); // both class folders are the pneumonia task's, with none left over
    c.siblingFolders = {"normal", "pneumonia", "covid19"};
    QCOMPARE(pick(c), 2);
    c.siblingFolders = {"0", "1", "2", "3", "4"};
    QCOMPARE(pick(c), 0);
    c.siblingFolders = {"melanoma", "nevus"};
    QCOMPARE(pick(c), 4); // the ISIC task has both (the 10-disease task spells them otherwise)
    c.siblingFolders.clear();
    c.path = "/srv/skin-isic/x.jpg";
    QCOMPARE(pick(c), 4); // a task id in the path
    c.path = "/srv/rsna-boneage/1377.png";
    QCOMPARE(pick(c), 3);
    c.path = "/srv/covid/abc.jpg";
    QCOMPARE(pick(c), 2);
    c.path = "/work/resources/samples/knee-kl0-9006140L.png";
    QCOMPARE(pick(c), 0);
}

void TestModelChoice::ages()
{
    QCOMPARE(jobs::dicomAgeYears("045Y"), 45.0);
    QCOMPARE(jobs::dicomAgeYears("006M"), 0.5);
    QVERIFY(jobs::dicomAgeYears("") < 0);
    QVERIFY(jobs::dicomAgeYears("45") < 0);
    QVERIFY(jobs::dicomAgeYears("0x5Y") < 0);
    QVERIFY(std::abs(jobs::dicomAgeYears("052W") - 52 * 7 / 365.25) < 1e-9);
}

QTEST_GUILESS_MAIN(TestModelChoice)
#include "tst_model_choice.moc"
