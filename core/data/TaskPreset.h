#pragma once

#include <string>
#include <vector>

namespace lightbox::data {

/// One of the tasks Lightbox was built for, as settings rather than code: what the classes
/// are, what the network sees, how training augments, which metrics matter, and which keys
/// the crop tool binds to the labels. Choosing a preset fills the crop panel, the training
/// tab and the classify panel; the CLI takes `--preset ID`.
///
/// A preset does not hold data or a model; the data set still comes from the user, and its
/// folder or CSV labels are matched to `classes` (case-insensitively, or through `aliases`).
struct TaskPreset {
    std::string id;                        ///< "knee-kl", used on the command line
    std::string title;                     ///< shown in the GUI
    std::vector<std::string> classes;      ///< label values in class-index order (folder names)
    std::vector<std::string> displayNames; ///< same order, for bars and reports
    /// Other spellings of a class found in public data sets: {"alias", "class"}.
    std::vector<std::pair<std::string, std::string>> aliases;
    bool ordinal = false;             ///< graded labels (expected grade, QWK and MAE reported)
    int channels = 1;                 ///< 1 for radiographs, 3 for photographs
    int inputSize = 224;              ///< network input width and height
    std::string augmentation;         ///< augmentation preset: "none", "light", "standard", "medical-safe"
    std::string architecture;         ///< suggested zoo architecture
    std::vector<std::string> metrics; ///< headline metrics: "accuracy", "qwk", "mae", "auc", "f1"
    std::string csvLabelColumn;       ///< CSV data sets: the label column ("male" for bone age)
    std::string csvPathColumn;        ///< CSV data sets: the column naming the image ("id")
    std::string csvPathPattern;       ///< CSV data sets: file name from the path column ("{id}.png")
    /// Patient id from a file name (DatasetOptions::patientPattern): the first capture group
    /// that matched is the id; empty = none (each image its own patient, or DICOM PatientID).
    std::string patientPattern;
    std::string note; ///< the lesson from the study this task comes from

    /// The class index for a label as found in a data set (exact, case-insensitive, or an
    /// alias; "True"/"False" and "1"/"0" for two-class CSV labels); -1 when it matches none.
    int classIndex(const std::string& label) const;
    /// Crop-tool key for class i: '0'..'9' (classes beyond ten get no key).
    char labelKey(int classIndex) const;
};

/// The built-in presets: knee-kl, chest-pneumonia, chest-4class, hand-sex, skin-isic, skin-10.
const std::vector<TaskPreset>& taskPresets();
/// The preset with this id, or nullptr.
const TaskPreset* findTaskPreset(const std::string& id);

} // namespace lightbox::data
