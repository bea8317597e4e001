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

std::string Image::keyTag(const std::string& keyword) const
{
    auto it = keyTags.find(keyword);
    return it == keyTags.end() ? std::string() : it->second;
}

} // namespace lightbox::imaging
