#include "Image.h"

#include <cstdio>

namespace lightbox::imaging {

const char* toString(Photometric p)
{
    switch (p) {
    case Photometric::Monochrome1: return "MONOCHROME1";
    case Photometric::Monochrome2: return "MONOCHROME2";
    case Photometric::Rgb: return "RGB";
    }
    return "?";
}

std::string TagEntry::tagString() const
{
    char buf[16];
    std::snprintf(buf, sizeof buf, "(%04X,%04X)", group, element);
    return buf;
}

double Image::sampleAt(int x, int y, int c) const
{
    const int i = x * pixels.channels() + c;
    switch (pixels.depth()) {
    case CV_8U: return pixels.ptr<uint8_t>(y)[i];
    case CV_16U: return pixels.ptr<uint16_t>(y)[i];
    case CV_16S: return pixels.ptr<int16_t>(y)[i];
    case CV_32S: return pixels.ptr<int32_t>(y)[i];
    case CV_32F: return pixels.ptr<float>(y)[i];
    case CV_64F: return pixels.ptr<double>(y)[i];
    default: return 0.0;
    }
}

std::string Image::keyTag(const std::string& keyword) const
{
    auto it = keyTags.find(keyword);
    return it == keyTags.end() ? std::string() : it->second;
}

} // namespace lightbox::imaging
