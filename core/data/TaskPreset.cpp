#include "TaskPreset.h"

#include <algorithm>
#include <cctype>

namespace lightbox::data {

namespace {

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

std::vector<TaskPreset> makePresets()
{
    std::vector<TaskPreset> p;
    {
        TaskPreset t;
        t.id = "knee-kl";
        t.title = "Knee osteoarthritis: Kellgren-Lawrence grade 0-4";
        t.classes = {"0", "1", "2", "3", "4"};
        t.displayNames = {"KL 0", "KL 1", "KL 2", "KL 3", "KL 4"};
        t.ordinal = true;
        t.channels = 1;
        t.inputSize = 224;
        t.augmentation = "light";
        t.architecture = "resnet18";
        t.metrics = {"accuracy", "qwk", "mae"};
        t.patientPattern = "^(\\d+)[LR]\\.";
        t.note = "Split by patient (<patient><L|R>.png): both knees of one patient in different splits "
                 "gave 99.8 % on a leaked test split against 39 % on hand-cropped images.";
        p.push_back(t);
    }
    {
        TaskPreset t;
        t.id = "chest-pneumonia";
        t.title = "Chest X-ray: pneumonia / normal";
        t.classes = {"NORMAL", "PNEUMONIA"};
        t.displayNames = {"Normal", "Pneumonia"};
        t.channels = 1;
        t.augmentation = "light";
        t.architecture = "resnet18";
        t.metrics = {"accuracy", "auc", "f1"};
        // Kermany's names: person<N>_bacteria_<k>.jpeg / person<N>_virus_<k>.jpeg (pneumonia),
        // IM-<NNNN>-<k>[-<k>].jpeg and NORMAL2-IM-<NNNN>-<k>.jpeg (normal).
        t.patientPattern = "^(person\\d+)_|^((?:NORMAL2-)?IM-\\d+)-";
        t.note = "The Kermany train/test/val folders are imbalanced (about 3:1 pneumonia) and the given val "
                 "split has 16 images: weight the classes and take validation from train.";
        p.push_back(t);
    }
    {
        TaskPreset t;
        t.id = "chest-4class";
        t.title = "Chest X-ray: normal / pneumonia / COVID-19 / tuberculosis";
        t.classes = {"NORMAL", "PNEUMONIA", "COVID19", "TUBERCULOSIS"};
        t.displayNames = {"Normal", "Pneumonia", "COVID-19", "Tuberculosis"};
        t.aliases = {
            {"turberculosis", "TUBERCULOSIS"}, {"tb", "TUBERCULOSIS"}, {"covid-19", "COVID19"}, {"covid", "COVID19"}};
        t.channels = 1;
        t.augmentation = "light";
        t.architecture = "resnet18";
        t.metrics = {"accuracy", "f1", "auc"};
        // NIH ChestX-ray8: <8-digit patient>_<3-digit follow-up>.jpg. COVID-19 collection
        // figures carry no patient id; panels and days of one paper or case are grouped by
        // the name before their figure, panel or day suffix (a best effort).
        t.patientPattern = "^(\\d{8})_\\d{3}\\.|^(.+?\\.pdf)-|^(1-s2\\.0-S\\d+)-|^(auntminnie)-|"
                           "^(.+?)(?:[-_.](?:day-?\\d+|fig\\w*|f\\d\\w*|g\\d{3}\\w*|gr\\d\\w*|PA|[a-e]\\d?|left|right|"
                           "admission))+\\.jpe?g$";
        t.note = "Images of different classes often come from different hospitals: check Grad-CAM falls on "
                 "the lungs, not on markers or borders.";
        p.push_back(t);
    }
    {
        TaskPreset t;
        t.id = "hand-sex";
        t.title = "Hand X-ray: sex (RSNA bone age)";
        t.classes = {"female", "male"};
        t.displayNames = {"Female", "Male"};
        t.aliases = {{"false", "female"}, {"true", "male"}, {"0", "female"},
                     {"1", "male"},       {"f", "female"},  {"m", "male"}};
        t.channels = 1;
        t.augmentation = "standard";
        t.architecture = "resnet18";
        t.metrics = {"accuracy", "auc"};
        t.csvLabelColumn = "male";
        t.csvPathColumn = "id";
        t.csvPathPattern = "{id}.png";
        t.note = "Classes are balanced, so accuracy is a fair headline; augmentation and longer training "
                 "with early stopping helped.";
        p.push_back(t);
    }
    {
        TaskPreset t;
        t.id = "skin-isic";
        t.title = "Skin lesion (dermoscopy): 9 ISIC classes";
        t.classes = {
            "actinic keratosis",          "basal cell carcinoma", "dermatofibroma",          "melanoma",       "nevus",
            "pigmented benign keratosis", "seborrheic keratosis", "squamous cell carcinoma", "vascular lesion"};
        t.displayNames = {
            "Actinic keratosis",          "Basal cell carcinoma", "Dermatofibroma",          "Melanoma",       "Nevus",
            "Pigmented benign keratosis", "Seborrheic keratosis", "Squamous cell carcinoma", "Vascular lesion"};
        t.aliases = {{"akiec", "actinic keratosis"},
                     {"bcc", "basal cell carcinoma"},
                     {"df", "dermatofibroma"},
                     {"mel", "melanoma"},
                     {"nv", "nevus"},
                     {"bkl", "pigmented benign keratosis"},
                     {"vasc", "vascular lesion"},
                     {"scc", "squamous cell carcinoma"},
                     {"actinic keratoses", "actinic keratosis"},
                     {"melanocytic nevi", "nevus"}};
        t.channels = 3;
        t.inputSize = 176;
        t.augmentation = "dermoscopy";
        t.architecture = "resnet10s";
        t.metrics = {"accuracy", "balanced_accuracy", "f1"};
        t.note = "Dermoscopic photographs have no up or down (flips in both directions are safe), but random "
                 "crops and zooms cut lesions out: the skin study found they lowered accuracy. The same lesion "
                 "may appear more than once and there are no patient ids.";
        p.push_back(t);
    }
    {
        TaskPreset t;
        t.id = "skin-10";
        t.title = "Skin photograph (clinical): 10 diseases";
        t.classes = {"Eczema",
                     "Melanoma",
                     "Atopic Dermatitis",
                     "Basal Cell Carcinoma (BCC)",
                     "Melanocytic Nevi (NV)",
                     "Benign Keratosis-like Lesions (BKL)",
                     "Psoriasis pictures Lichen Planus and related diseases",
                     "Seborrheic Keratoses and other Benign Tumors",
                     "Tinea Ringworm Candidiasis and other Fungal Infections",
                     "Warts Molluscum and other Viral Infections"};
        t.displayNames = {"Eczema",           "Melanoma",         "Atopic dermatitis",         "Basal cell carcinoma",
                          "Melanocytic nevi", "Benign keratosis", "Psoriasis / lichen planus", "Seborrheic keratosis",
                          "Fungal infection", "Viral infection"};
        t.aliases = {{"psoriasis pictures lichen planus and related deseases",
                      "Psoriasis pictures Lichen Planus and related diseases"}};
        t.channels = 3;
        t.augmentation = "medical-safe";
        t.architecture = "efficientnet_b0";
        t.metrics = {"accuracy", "f1"};
        t.note = "Random crops and zoom cut lesions out and lowered accuracy: the medical-safe augmentation "
                 "keeps the whole field of view.";
        p.push_back(t);
    }
    return p;
}

} // namespace

int TaskPreset::classIndex(const std::string& label) const
{
    const std::string l = lower(label);
    for (size_t i = 0; i < classes.size(); ++i)
        if (lower(classes[i]) == l)
            return int(i);
    for (const auto& [alias, cls] : aliases)
        if (lower(alias) == l)
            for (size_t i = 0; i < classes.size(); ++i)
                if (classes[i] == cls)
                    return int(i);
    return -1;
}

char TaskPreset::labelKey(int index) const
{
    return index >= 0 && index < 10 && index < int(classes.size()) ? char('0' + index) : '\0';
}

const std::vector<TaskPreset>& taskPresets()
{
    static const std::vector<TaskPreset> presets = makePresets();
    return presets;
}

const TaskPreset* findTaskPreset(const std::string& id)
{
    for (const TaskPreset& p : taskPresets())
        if (p.id == id)
            return &p;
    return nullptr;
}

} // namespace lightbox::data
