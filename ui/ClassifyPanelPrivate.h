#pragma once
// Constants and helpers shared by the files of ClassifyPanel (ClassifyPanel.cpp: the panel,
// its settings and runs; ClassifyPanelModels.cpp: the model list and the pick;
// ClassifyPanelResults.cpp: bars, banners and heat maps); private to them.

#include "Language.h"

#include <jobs/PredictJob.h>

#include <QColor>
#include <QString>
#include <QStringList>

namespace lightbox::ui::classifypanel {

inline constexpr int kBarSteps = 1000;
inline constexpr int kRerunDelayMs = 200; // a crop drag emits many changes: run once it pauses
inline const QColor kTopColour(230, 126, 34);
inline const QColor kOtherColour(90, 140, 190);
inline const QColor kDistrustedColour(160, 160, 160); ///< bars of an out-of-distribution result

/// Marks the "Open model file..." entry of the picker.
inline const QString kOpenEntry = QStringLiteral("::open");

/// The class names to show: the card's display names in the interface language where it has
/// them (ml::ModelCard::classDisplayNames), else its class names.
inline QStringList shownClassNames(const jobs::ModelInfo& info)
{
    const std::string language = Language::active().toStdString();
    QStringList names;
    for (int i = 0; i < info.card.numClasses(); ++i)
        names << QString::fromStdString(info.card.displayName(i, language));
    return names;
}

} // namespace lightbox::ui::classifypanel
