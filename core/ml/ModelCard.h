#pragma once

#include "Json.h"
#include "MlResult.h"
#include "Preprocess.h"
#include "Trust.h"

#include <map>
#include <string>
#include <vector>

namespace lightbox::ml {

/// What a model is and how it was made: stored as JSON inside every bundle (and as
/// `card.json` beside a TorchScript export). It does not hold weights.
struct ModelCard {
    /// Bundle/card format this build writes; a card with a higher number is refused.
    static constexpr int kFormatVersion = 1;

    int formatVersion = kFormatVersion;
    std::string architecture; ///< "resnet18", ... or "torchscript"
    std::string task;         ///< "knee-kl", "chest-pneumonia", free text
    std::vector<std::string> classNames;
    bool ordinal = false; ///< classes are ordered grades (KL 0-4): expected grade is meaningful
    /// The classifier: "softmax" (one logit per class) or "corn" (an ordinal head of K-1
    /// conditional binary outputs, rank-consistent; graded tasks only).
    std::string head = "softmax";
    PreprocessSpec preprocess;
    std::string trainingSummary;           ///< data set, split, epochs, ... as text
    std::map<std::string, double> metrics; ///< "test_accuracy", "test_auc", ...
    /// Classes of the task the model was not trained on (the data had no images of them),
    /// shown beside its results: a chest-4class model without "Tuberculosis" says so.
    std::vector<std::string> notCovered;
    std::string created; ///< ISO 8601 UTC, e.g. "2026-01-31T12:00:00Z"
    /// Networks in the bundle whose softmax outputs are averaged (an ensemble when above 1).
    int members = 1;
    /// Temperature scaling fitted on val (probabilities = softmax(logits / T)); 1 = none.
    double temperature = 1.0;
    /// Graded tasks: cut points on the expected grade, tuned on val for the quadratic weighted
    /// kappa; the grade they give is the prediction. Empty = the top class (argmax).
    std::vector<double> cutPoints;
    /// The out-of-distribution detector's method and thresholds (its Gaussians, when the
    /// method needs them, are tensors in the bundle); invalid when the model has none.
    OodCard ood;
    /// Optional names to show for the classes in an interface language, by language code
    /// ("ko" -> {"정상", ...}), each list in classNames' order. classNames stay the model's
    /// identity (labels, files, metrics); these only change what a panel displays.
    std::map<std::string, std::vector<std::string>> classDisplayNames;

    int numClasses() const { return static_cast<int>(classNames.size()); }

    /// The name to show for class `index` in `language` ("ko"): its display name when the card
    /// has one for that language, else the class name; empty for an index out of range.
    std::string displayName(int index, const std::string& language) const;

    Json toJson() const;
    std::string toJsonText() const { return toJson().dump(2); }
    /// Reads a card; refuses a newer format version and missing or malformed fields.
    static Result<ModelCard> fromJson(const Json& json);
    static Result<ModelCard> fromJsonText(const std::string& text);
};

/// The current time as ISO 8601 UTC ("2026-01-31T12:00:00Z").
std::string isoTimestampUtc();

} // namespace lightbox::ml
