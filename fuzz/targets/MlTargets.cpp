#include "FuzzTargets.h"

#include <ml/Bundle.h>
#include <ml/ModelCard.h>

#include <cstdio>
#include <fstream>

namespace lightbox::fuzz {

Outcome model(const uint8_t* data, std::size_t size)
{
    std::size_t first = 0;
    while (first < size && (data[first] == ' ' || data[first] == '\t' || data[first] == '\r' || data[first] == '\n'))
        ++first;
    if (first < size && data[first] == '{') {
        auto card = ml::ModelCard::fromJsonText(std::string(reinterpret_cast<const char*>(data), size));
        if (!card)
            return Outcome{false, card.error()};
        // A card that reads must write and read back the same.
        auto again = ml::ModelCard::fromJsonText(card->toJsonText());
        if (!again)
            return Outcome{false, "card does not read back: " + again.error()};
        return Outcome{true, {}};
    }
    const std::string path = scratchDir() + "/input.lbx";
    {
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
    }
    (void)ml::readModelCard(path); // the model list reads cards alone
    auto loaded = ml::loadModel(path);
    std::remove(path.c_str());
    return loaded ? Outcome{true, {}} : Outcome{false, loaded.error()};
}

} // namespace lightbox::fuzz
