#include "FuzzTargets.h"

#include <data/CropManifest.h>
#include <data/Dataset.h>

#include <QDir>

#include <opencv2/imgcodecs.hpp>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <vector>

namespace lightbox::fuzz {
namespace {

void writeFile(const std::string& path, const void* data, std::size_t size)
{
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

/// The folder the CSVs are read in, with the images they may name (made once).
const std::string& csvDir()
{
    static const std::string dir = [] {
        const std::string d = scratchDir() + "/csv";
        QDir().mkpath(QString::fromStdString(d + "/img"));
        QDir().mkpath(QString::fromStdString(d + "/manifest"));
        std::vector<uint8_t> png;
        cv::imencode(".png", cv::Mat(4, 4, CV_8UC1, cv::Scalar(128)), png);
        for (const char* name : {"a.png", "b.png", "1.png", "2.png", "img/c.png", "manifest/a.png"})
            writeFile(d + "/" + name, png.data(), png.size());
        // A preamble and "DICM" with nothing behind it: listed by extension, unreadable.
        std::string dcm(128, '\0');
        dcm += "DICM";
        writeFile(d + "/x.dcm", dcm.data(), dcm.size());
        return d;
    }();
    return dir;
}

Outcome fromDataset(const Result<data::Dataset>& r)
{
    if (!r)
        return Outcome{false, r.error()};
    // What the training side does next with a listed data set.
    data::Dataset ds = r.value();
    data::assignSplits(ds);
    (void)ds.classCounts(data::Split::Train);
    (void)ds.emptyClasses();
    return Outcome{true, {}};
}

} // namespace

Outcome csv(const uint8_t* data, std::size_t size)
{
    const std::string dir = csvDir();
    const std::string text(reinterpret_cast<const char*>(data), size);
    const std::string firstLine = text.substr(0, text.find('\n'));
    if (firstLine.find("source_key") != std::string::npos) {
        const std::string path = dir + "/manifest/" + data::CropManifest::fileName();
        writeFile(path, data, size);
        auto manifest = data::CropManifest::load(QString::fromStdString(path));
        Outcome outcome{manifest.ok(), manifest.ok() ? std::string() : manifest.error()};
        if (manifest) {
            // Written back and read again, it must hold the same rows.
            const std::string copy = dir + "/manifest-copy.csv";
            if (manifest->save(QString::fromStdString(copy))) {
                auto again = data::CropManifest::load(QString::fromStdString(copy));
                if (!again || again->records().size() != manifest->records().size())
                    outcome = Outcome{false, "manifest does not read back"};
            }
            std::remove(copy.c_str());
            const Outcome listed = fromDataset(data::loadDataset(dir + "/manifest"));
            if (!outcome.ok)
                return outcome;
            outcome = listed;
        }
        std::remove(path.c_str());
        return outcome;
    }
    const std::string path = dir + "/labels.csv";
    writeFile(path, data, size);
    const Outcome plain = fromDataset(data::loadDataset(path));
    data::DatasetOptions preset;
    preset.classes = {"normal", "pneumonia", "1"};
    preset.aliases = {{"bacteria", "pneumonia"}, {"virus", "pneumonia"}};
    preset.csvPathPattern = "{id}.png";
    preset.patientPattern = "^(\\d+)|^([a-z])";
    preset.groupIdenticalFiles = false;
    (void)fromDataset(data::loadDataset(path, preset));
    std::remove(path.c_str());
    return plain;
}

} // namespace lightbox::fuzz
