#pragma once

#include <opencv2/core.hpp>

#include <cstdint>

namespace lightbox::data {

/// 64-bit DCT perceptual hash of an 8-bit grey or RGB image: the image as grey, shrunk to
/// 32 x 32 (area), its 8 x 8 lowest DCT frequencies compared with their median. Survives
/// re-encoding, resizing and small brightness changes; used by checkLeakage().
uint64_t perceptualHash(const cv::Mat& view8);

/// The 32 x 32 grey thumbnail (area average) the perceptual hash is computed from.
cv::Mat leakageThumbnail(const cv::Mat& view8);
/// perceptualHash() of a leakageThumbnail().
uint64_t thumbnailHash(const cv::Mat& thumbnail);
/// Pearson correlation of two thumbnails' pixels (1 = same picture up to brightness and
/// contrast). checkLeakage() confirms every hash match with it, because on anatomy that looks
/// alike (knee joints) unrelated images can share a 64-bit hash within a few bits.
double thumbnailCorrelation(const cv::Mat& a, const cv::Mat& b);
/// The correlation a hash match needs to count as a near duplicate.
constexpr double kNearDuplicateCorrelation = 0.95;

/// A 64-bit hash of the pixel values and size (FNV-1a): equal for pixel-identical images.
uint64_t pixelHash(const cv::Mat& view8);

/// Number of differing bits.
int hammingDistance(uint64_t a, uint64_t b);

} // namespace lightbox::data
