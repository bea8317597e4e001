#pragma once

#include <base/Result.h>
#include <data/Dataset.h>
#include <ml/ModelCard.h>
#include <ml/Trainer.h>

#include <cstdint>
#include <string>
#include <vector>

namespace lightbox::jobs {

/// How the shortcut check probes a data set.
struct ShortcutOptions {
    double blankFraction = 0.7; ///< centred share of the width and of the height set to black
    int size = 96;              ///< probe input width and height
    int channels = 1;           ///< 1 for radiographs, 3 for photographs
    int epochs = 10;
    int maxTrainPerClass = 300; ///< training images per class at most (seeded pick)
    int maxValPerClass = 200;   ///< evaluation images per class at most
    /// Flagged when the probe's balanced accuracy on the held-out images exceeds chance
    /// (1 / classes) by more than this.
    double margin = 0.15;
    std::string architecture = "resnet10s";
    std::string device = "auto";
    int threads = 0; ///< LibTorch CPU threads (0 = all cores)
    int loaderThreads = 0;
    uint64_t seed = 42;
};

/// What the shortcut check found: how well a network reads the labels from an image whose
/// centre (the anatomy or the lesion) is blanked, leaving borders, corners, markers and text.
struct ShortcutReport {
    bool checked = false;
    std::vector<std::string> classNames;
    int64_t trainSamples = 0, evalSamples = 0;
    std::string evaluatedSplit; ///< "val" or "test"
    double blankFraction = 0.0;
    double balancedAccuracy = 0.0; ///< of the probe on the held-out images
    double accuracy = 0.0;
    double macroAuc = 0.0;
    double chance = 0.0;        ///< 1 / classes: the balanced accuracy of guessing
    std::vector<double> recall; ///< per class
    bool flagged = false;       ///< balancedAccuracy > chance + margin
    double margin = 0.0;
    double seconds = 0.0;

    /// One line: "centre 70 % blanked: balanced accuracy 0.75 on 115 val images (chance 0.33): ...".
    std::string summary() const;
    /// Writes the result into a card's metrics (shortcut_balanced_accuracy, shortcut_chance,
    /// shortcut_flagged), where the classify panel shows it.
    void recordIn(ml::ModelCard& card) const;
};

/// Trains a small probe network for a few epochs on the train split of `dataset` with the
/// centre of every image blanked, and measures it on the val split (else test). A probe far
/// above chance reads the labels from what lies around the anatomy: the source hospital, a
/// marker, burnt-in text, the border of the detector. `classNames` names the classes (as the
/// data set's). Synchronous (run it on a worker thread); `control` can stop it. Fails when a
/// split is empty or the probe cannot train.
Result<ShortcutReport> checkShortcut(const data::Dataset& dataset, const std::vector<std::string>& classNames,
                                     const ShortcutOptions& options, ml::TrainingControl* control = nullptr);

} // namespace lightbox::jobs
