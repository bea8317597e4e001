#pragma once

#include <base/Result.h>
#include <imaging/DicomWriter.h>

#include <QString>

namespace lightbox::ui {

class ImageViewer;

/// What the viewer shows, in words, for a Secondary Capture's Derivation Description:
/// "Lightbox view of CR 1.2.3...: window W 1024 L 550, Grad-CAM heat map (...), 2 measurements".
QString describeView(ImageViewer* viewer);

/// Writes the view as a PNG (8-bit RGB), with or without overlays, at the widget's size or at
/// native resolution (ImageViewer::renderView).
Result<bool> exportViewPng(ImageViewer* viewer, const QString& path, bool overlays, bool nativeResolution);

/// Writes the view at native resolution with its overlays as a DICOM Secondary Capture in the
/// image's study (imaging::writeSecondaryCapture).
Result<imaging::WrittenSecondaryCapture> exportSecondaryCapture(ImageViewer* viewer, const QString& path);

class ClassifyPanel;

/// Writes the one-page PDF report of the view (ui/Report): the image with its heat map and
/// measurements at native resolution (no corner text), the classify panel's last result
/// (probabilities, model, out-of-distribution verdict), the measurements; the patient's name
/// and ID only when `identify` is set.
Result<bool> exportReport(ImageViewer* viewer, const ClassifyPanel* panel, const QString& path, bool identify,
                          const QString& version);

} // namespace lightbox::ui
