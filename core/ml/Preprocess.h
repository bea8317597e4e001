#pragma once

#include "MlResult.h"

#include <string>
#include <vector>

namespace lightbox::ml {

/// How an image of any size is brought to the network's input size.
enum class ResizeMode {
    Bilinear, ///< bilinear with half-pixel centres (like OpenCV INTER_LINEAR, torch align_corners=false)
    Area,     ///< box average over each output pixel's footprint (like OpenCV INTER_AREA); best for shrinking
};

const char* toString(ResizeMode mode);
/// Parses "bilinear" or "area"; false for anything else.
bool parseResizeMode(const std::string& text, ResizeMode& mode);

/// What a network expects at its input. Travels inside the model card, so training and
/// inference use the same resizing, channels and normalisation.
struct PreprocessSpec {
    int width = 224;                                 ///< network input width, 1..2048
    int height = 224;                                ///< network input height, 1..2048
    int channels = 3;                                ///< 1 (grey) or 3 (RGB)
    std::vector<float> mean{0.485f, 0.456f, 0.406f}; ///< per channel, on values scaled to 0..1
    std::vector<float> std{0.229f, 0.224f, 0.225f};  ///< per channel
    ResizeMode resize = ResizeMode::Area;

    /// Empty when the spec is usable, else what is wrong with it.
    std::string validate() const;
};

/// A network input: planar float values, channel-major (C x H x W), already preprocessed.
struct InputImage {
    int channels = 0;
    int height = 0;
    int width = 0;
    std::vector<float> data; ///< channels * height * width values

    bool valid() const
    {
        return channels > 0 && height > 0 && width > 0 && data.size() == static_cast<size_t>(channels) * height * width;
    }
};

/// Raw pixels as they come from a decoder or a crop: interleaved (H x W x C) floats.
struct RawImage {
    int width = 0;
    int height = 0;
    int channels = 1;        ///< 1 or 3 (RGB order)
    std::vector<float> data; ///< height * width * channels values, row-major, interleaved
    float maxValue = 255.f;  ///< the value that means "white" (255 for 8-bit, 65535 for 16-bit, 1 for unit data)
};

/// Brings raw pixels to the spec: channel conversion (grey <-> RGB by replication or
/// luminance), resize, scaling by 1/maxValue and (x - mean) / std. Needs no OpenCV and no
/// LibTorch. Does not crop, window or rotate: the caller does that first.
Result<InputImage> preprocess(const RawImage& raw, const PreprocessSpec& spec);

/// Resizes one plane (H x W) of floats; exposed for tests and for upsampling CAM maps.
std::vector<float> resizePlane(const float* src, int srcW, int srcH, int dstW, int dstH, ResizeMode mode);

} // namespace lightbox::ml
