#pragma once

#include <base/Result.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lightbox::data {

/// Which part of a data set a sample belongs to.
enum class Split { Unassigned, Train, Val, Test };
const char* toString(Split split);

/// One labelled image file.
struct Sample {
    std::string path;      ///< absolute path
    std::string id;        ///< path relative to the data-set root ('/' separated), for reports
    int label = -1;        ///< class index into Dataset::classNames
    std::string patientId; ///< grouping key for splits; empty = the sample is its own group
    Split split = Split::Unassigned;
};

/// A labelled image collection, read from one of the layouts Lightbox understands. Only
/// lists files (reading pixels is the loader's job): a file that turns out unreadable is
/// skipped by the loader, never here, except files that are plainly not images.
struct Dataset {
    std::string root;
    std::vector<std::string> classNames;
    std::vector<Sample> samples;
    std::vector<std::string> skipped;  ///< "path: reason" for entries left out while listing
    bool hasGivenSplits = false;       ///< train/ val/ test/ folders (or a split column) were found
    int64_t identicalGroups = 0;       ///< sets of byte-identical files under one label, kept as one group
    int64_t conflictingDuplicates = 0; ///< sets of byte-identical files under different labels, left out

    /// Samples per class for one split (Unassigned = all samples).
    std::vector<int64_t> classCounts(Split split = Split::Unassigned) const;
    std::vector<const Sample*> inSplit(Split split) const;
    /// Indices of the classes without a sample, ascending.
    std::vector<size_t> emptyClasses() const;
    /// Removes the classes without a sample and renumbers the labels (no file is read again);
    /// returns the removed indices, ascending.
    std::vector<size_t> removeEmptyClasses();
};

/// How to read a data set. `classes`, when given (e.g. from a task preset), fixes the class
/// order and the folder/label spellings accepted (case-insensitive); otherwise classes are
/// the sorted (natural order) folder names or label values.
struct DatasetOptions {
    std::vector<std::string> classes;
    std::vector<std::pair<std::string, std::string>> aliases; ///< {"alias", "class"}
    // CSV data sets
    std::string csvPathColumn;  ///< e.g. "id" or "path"; empty = first column containing "path", "file" or "id"
    std::string csvLabelColumn; ///< e.g. "male" or "label"; empty = "label"
    std::string csvPathPattern; ///< e.g. "{id}.png" (placeholder = the path column); empty = the value itself
    std::string imageDir;       ///< folder the CSV paths are relative to; empty = the CSV's folder
    /// Patient id from a file name: a regular expression applied to the file name whose first
    /// capture group that matched is the id (knee set: "^(\\d+)[LR]\\."; alternatives such as
    /// "^(\\d{8})_|^(person\\d+)" serve several naming schemes); without a group the whole
    /// match; no match = the sample is its own group. Empty = DICOM PatientID when the file
    /// is DICOM, else none.
    std::string patientPattern;
    /// Read every file once and treat byte-identical files as one: copies under one label are
    /// grouped like one patient's images (never split apart), copies under different labels
    /// are left out and listed in `skipped` (a public skin set files 137 images under two
    /// classes). Off: listing reads no file contents.
    bool groupIdenticalFiles = true;
};

/// Reads a folder with one sub-folder per class, optionally under train/ val/ test/, a CSV
/// file, or a crop-tool data-set root (manifest.csv). Fails with a message when the path
/// does not exist, has no recognisable layout, or yields fewer than two classes. With
/// DatasetOptions::groupIdenticalFiles it reads each file's bytes once (a hash), else only lists.
Result<Dataset> loadDataset(const std::string& path, const DatasetOptions& options = {});

/// How to split samples that came without given splits.
struct SplitOptions {
    double train = 0.8, val = 0.1, test = 0.1; ///< fractions (normalised)
    uint64_t seed = 42;
    bool groupByPatient = true;  ///< all samples of one patient go to the same split
    bool keepGivenSplits = true; ///< leave a data set's own train/val/test alone
};

/// Assigns every Unassigned sample a split: stratified by label, grouped by patient id, seeded.
/// With given splits and keepGivenSplits it only fills a missing val (or test) split from train.
void assignSplits(Dataset& dataset, const SplitOptions& options = {});

/// What the leakage check found.
struct LeakageReport {
    int64_t exactDuplicates = 0; ///< pairs of byte-identical images in different splits
    int64_t nearDuplicates = 0;  ///< pairs within the perceptual-hash distance, different splits
    int64_t patientsInSeveralSplits = 0;
    std::vector<std::string> examples; ///< up to 20 "a <-> b (reason)" lines
    std::vector<std::string> unreadable;
    bool clean() const { return exactDuplicates == 0 && nearDuplicates == 0 && patientsInSeveralSplits == 0; }
    std::string summary() const;
};

/// Hashes every sample (64-bit DCT perceptual hash of the model view, and a content hash) and
/// reports duplicates and shared patients across splits. `maxHamming` is the near-duplicate
/// threshold; a hash match also needs its 32 x 32 thumbnails to correlate (Leakage.h). Reads
/// every image once; `threads` <= 0 = all cores. Compares all cross-split pairs (fine up to
/// some 10^5 images). Samples without a split are not checked.
LeakageReport checkLeakage(const Dataset& dataset, int maxHamming = 4, int threads = 0);

/// Image statistics for the data view.
struct DatasetStats {
    std::vector<std::vector<int64_t>> countsPerSplit; ///< [Train, Val, Test][class]
    int minWidth = 0, maxWidth = 0, minHeight = 0, maxHeight = 0;
    double meanWidth = 0, meanHeight = 0;
    int64_t measured = 0; ///< files whose size could be read
};
DatasetStats datasetStats(const Dataset& dataset, int maxFiles = 2000);

} // namespace lightbox::data
