#pragma once

#include <string>
#include <vector>

namespace lightbox::jobs {

/// A model the classify panel lists: its file and what its card says it does.
struct ModelCandidate {
    std::string path;
    std::string task; ///< the card's task id ("chest-pneumonia"), may be empty
};

/// What is known about the image being read, for choosing a model.
struct ImageContext {
    std::string presetId;   ///< the crop panel's task, "" when none is chosen
    std::string bodyPart;   ///< DICOM Body Part Examined (0018,0015), "" when none
    std::string modality;   ///< DICOM Modality (0008,0060), "" when none
    std::string patientAge; ///< DICOM Patient's Age (0010,1010), e.g. "007Y", "" when none
    std::string birthDate;  ///< DICOM Patient's Birth Date (YYYYMMDD), for the age when Patient's Age is missing
    std::string studyDate;  ///< DICOM Study Date (YYYYMMDD)
    std::string path;       ///< the image file
    std::vector<std::string> siblingFolders; ///< folder names beside the image's folder (class folders)
    bool colour = false;                     ///< the image has colour (RGB photograph)
    bool dicom = false;
};

/// The model picked for an image and why, in words the panel shows.
struct ModelChoice {
    int index = -1;     ///< into the candidates; -1 = no model fits, keep the current one
    std::string task;   ///< the task that was asked for
    std::string reason; ///< "the crop panel's task is Knee osteoarthritis", ...
};

/// The task an image most likely belongs to, from the strongest hint down: the crop panel's
/// preset; DICOM Body Part Examined (a chest under 18 years goes to the pediatric pneumonia
/// task, other chests to the adult chest task) or a photographic Modality; the folder's task
/// (a task id in the path, class folders that are one task's classes, or words such as
/// "knee", "isic", "boneage"); a colour picture (skin). Empty task when nothing hints.
ModelChoice chooseTask(const ImageContext& context);

/// chooseTask, then the first candidate whose card has that task (index -1 when none has).
ModelChoice chooseModel(const std::vector<ModelCandidate>& candidates, const ImageContext& context);

/// Age in years from a DICOM Age String ("045Y", "006M", "012W", "003D"); negative when unreadable.
double dicomAgeYears(const std::string& age);
/// Whole years between two DICOM dates (YYYYMMDD, or with separators); negative when unreadable.
double yearsBetween(const std::string& birthDate, const std::string& studyDate);

} // namespace lightbox::jobs
