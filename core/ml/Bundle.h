#pragma once

#include "MlResult.h"
#include "Model.h"
#include "ModelCard.h"
#include "Trust.h"

#include <string>

namespace lightbox::ml {

/// A network with its card, as read from disk.
struct LoadedModel {
    Model model;
    ModelCard card;
    std::string path;
    /// The out-of-distribution detector's Gaussians, when the bundle holds them (see OodCard).
    MahalanobisModel gaussians;
};

/// Writes a Lightbox model bundle: one file holding every parameter and buffer of a built-in
/// network plus its card as JSON. The file is written next to `path` and renamed over it,
/// so a crash never leaves a half-written bundle. Refuses TorchScript models (they are
/// already files) and a card whose architecture, channels or class count disagree with the
/// network. `gaussians`, when given and valid, are stored for the out-of-distribution detector
/// (pass a loaded bundle's own when re-saving it, or they are lost).
Status saveBundle(const Model& model, const ModelCard& card, const std::string& path,
                  const MahalanobisModel* gaussians = nullptr);

/// Reads a Lightbox bundle or a TorchScript file exported from Python with a `card.json`
/// extra file (see scripts/export_torchvision.py). Never throws: a missing, truncated or
/// foreign file, an unknown architecture, weights of the wrong shape or a card from a newer
/// format come back as a failure with a message. The model is on the CPU in eval mode.
Result<LoadedModel> loadModel(const std::string& path);

/// The card of a bundle or TorchScript file without building the network (for listing
/// models by task). Never throws; fails as loadModel does on a file that is no model.
Result<ModelCard> readModelCard(const std::string& path);

} // namespace lightbox::ml
