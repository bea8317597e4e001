#pragma once
// Pieces several lightbox-cli commands use: image options (--window, --roi), what the reader
// sees of an image and the model's Grad-CAM map over it, the evaluation report on the terminal,
// the splits a model was trained with, and joining bundles into an ensemble.

#include "CommandLine.h"

#include <base/Result.h>
#include <data/Dataset.h>
#include <imaging/Image.h>
#include <imaging/Render.h>
#include <ml/Classifier.h>
#include <ml/Metrics.h>
#include <ml/ModelCard.h>

#include <opencv2/core.hpp>

#include <cstdio>
#include <string>
#include <vector>

namespace lightbox::cli {

/// --device D and --frame N, with the same help in every command.
void addDeviceOption(CommandLine& cl);
void addFrameOption(CommandLine& cl);

/// --window CENTER,WIDTH into `p` (no VOI LUT then); false after a usage error.
bool windowOption(CommandLine& cl, imaging::RenderParams& p);
/// --roi X,Y,W,H (image pixels, W and H > 0); false after a usage error.
bool roiOption(CommandLine& cl, cv::Rect& out);

/// "OUT.png" for one input, "OUT-<input stem>.png" for several.
QString camPath(const QString& out, const QString& input, bool several);
/// The crop over the image with the map (JET colours) blended on top, RGB order.
cv::Mat camOverlay(const cv::Mat& crop8, const ml::CamMap& cam);
/// The command's one image (positional FILE, --frame) and what the reader sees of it (the
/// default window, MONOCHROME1 inverted); 0, or the exit status after a message.
int loadReaderView(CommandLine& cl, imaging::Image& img, cv::Mat& view);
/// The prediction of --model (on --device) with a Grad-CAM map of `view`; 0, or the exit
/// status after a message.
int classifyWithCam(const CommandLine& cl, const cv::Mat& view, ml::Prediction& prediction, ml::ModelCard& card);

/// "0.1234", or "-" for a value that is not finite.
std::string number(double v, const char* format = "%.4f");
/// Accuracy, per-class scores and the confusion matrix, as train and evaluate print them.
void printReport(const ml::ClassificationReport& r, FILE* out);

/// Gives `dataset` the splits its model was trained with: the splits.csv named by --splits (a
/// file or the run folder holding it), else the one beside the bundle (--model), else the data
/// set's given splits or the 8:1:1 carve by patient with `seed`. Returns where they came from;
/// `carved` says whether it was that carve.
Result<std::string> applyModelSplits(const CommandLine& cl, data::Dataset& dataset, int seed, bool* carved = nullptr);

/// Joins bundles of one architecture and task into an ensemble bundle whose softmax outputs
/// are averaged. The card is the first member's, without the figures and trust fields that
/// described it alone: calibrate the result (and record its test figures) before shipping it.
Result<std::string> writeEnsemble(const std::vector<std::string>& paths, const std::string& out);

} // namespace lightbox::cli
