#include "InstanceSink.h"

#include <net/PacsTypes.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcxfer.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <system_error>
#include <unistd.h>

namespace fs = std::filesystem;

namespace lightbox::net {
namespace {

std::string uidOf(DcmDataset& dataset, const DcmTagKey& tag)
{
    OFString value;
    dataset.findAndGetOFString(tag, value);
    return std::string(value.c_str());
}

// A UID as a message may show it: printable, at most 64 characters.
std::string printable(const std::string& uid)
{
    std::string out;
    for (char c : uid.substr(0, 64))
        out += (c >= 0x20 && c < 0x7f) ? c : '?';
    return out;
}

} // namespace

InstanceSink::InstanceSink(std::string cacheDir) : m_cacheDir(std::move(cacheDir)) {}

Result<std::string> InstanceSink::write(DcmDataset& dataset)
{
    const std::string study = uidOf(dataset, DCM_StudyInstanceUID);
    const std::string series = uidOf(dataset, DCM_SeriesInstanceUID);
    const std::string sop = uidOf(dataset, DCM_SOPInstanceUID);
    for (const auto& [name, uid] :
         {std::pair<const char*, const std::string&>{"study", study}, {"series", series}, {"SOP instance", sop}})
        if (!isSafeUid(uid))
            return Result<std::string>::failure(std::string("refused an instance with an unusable ") + name + " UID '" +
                                                printable(uid) + "'");

    const fs::path dir = fs::path(m_cacheDir) / study / series;
    const fs::path target = dir / (sop + ".dcm");
    std::error_code ec;
    std::vector<std::string> newDirs;
    for (const fs::path& d : {fs::path(m_cacheDir) / study, dir})
        if (!fs::exists(d, ec))
            newDirs.push_back(d.string());
    fs::create_directories(dir, ec);
    if (ec)
        return Result<std::string>::failure("cannot create " + dir.string() + ": " + ec.message());

    static std::atomic<unsigned> counter{0};
    const fs::path temp =
        dir / ("." + sop + ".part-" + std::to_string(::getpid()) + "-" + std::to_string(counter.fetch_add(1)));
    // The data set belongs to its caller: the file format only borrows it for the write.
    DcmFileFormat file(&dataset, OFFalse);
    const E_TransferSyntax xfer = dataset.getOriginalXfer();
    OFCondition cond = file.saveFile(temp.c_str(), xfer == EXS_Unknown ? EXS_LittleEndianExplicit : xfer);
    file.getAndRemoveDataset(); // hand it back before `file` is destroyed
    if (cond.bad()) {
        fs::remove(temp, ec);
        return Result<std::string>::failure("cannot write " + target.string() + ": " + cond.text());
    }
    const bool existed = fs::exists(target, ec);
    fs::rename(temp, target, ec);
    if (ec) {
        fs::remove(temp, ec);
        return Result<std::string>::failure("cannot write " + target.string() + ": " + ec.message());
    }
    const std::uint64_t size = fs::file_size(target, ec);

    std::lock_guard<std::mutex> lock(m_mutex);
    m_bytes += ec ? 0 : size;
    m_files.push_back(target.string());
    m_uids.push_back(sop);
    if (!existed)
        m_created.push_back(target.string());
    for (auto& d : newDirs)
        m_createdDirs.push_back(std::move(d));
    if (std::find(m_studies.begin(), m_studies.end(), study) == m_studies.end())
        m_studies.push_back(study);
    return target.string();
}

void InstanceSink::rollback()
{
    std::lock_guard<std::mutex> lock(m_mutex);
    std::error_code ec;
    for (const auto& f : m_created)
        fs::remove(f, ec);
    // Deepest first: a series folder before its study folder; only while empty.
    std::sort(m_createdDirs.begin(), m_createdDirs.end(),
              [](const auto& a, const auto& b) { return a.size() > b.size(); });
    for (const auto& d : m_createdDirs)
        if (fs::is_empty(d, ec))
            fs::remove(d, ec);
    m_created.clear();
    m_createdDirs.clear();
    m_files.clear();
    m_uids.clear();
}

std::vector<std::string> InstanceSink::files() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_files;
}

std::vector<std::string> InstanceSink::sopInstanceUids() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_uids;
}

std::vector<std::string> InstanceSink::studyUids() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_studies;
}

} // namespace lightbox::net
