#include "ImageWriter.h"

#include <base/FaultInjection.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <unistd.h>

namespace lightbox::imaging {

Result<bool> writePng(const cv::Mat& pixels, const std::string& path)
{
    using R = Result<bool>;
    if (pixels.empty())
        return R::failure("nothing to write: empty image");
    if (pixels.depth() != CV_8U && pixels.depth() != CV_16U)
        return R::failure("PNG holds 8- or 16-bit unsigned samples only");
    if (pixels.channels() != 1 && pixels.channels() != 3)
        return R::failure("PNG export needs 1 or 3 channels");
    cv::Mat bgr = pixels;
    if (pixels.channels() == 3)
        cv::cvtColor(pixels, bgr, cv::COLOR_RGB2BGR);
    std::vector<uint8_t> encoded;
    try {
        if (!cv::imencode(".png", bgr, encoded))
            return R::failure("PNG encoding failed");
    } catch (const cv::Exception& e) {
        return R::failure(std::string("PNG encoding failed: ") + e.what());
    }
    const std::string tmp = path + ".tmp" + std::to_string(::getpid());
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        if (!out)
            return R::failure("cannot write " + path + ": " + std::strerror(errno));
        out.write(reinterpret_cast<const char*>(encoded.data()), static_cast<std::streamsize>(encoded.size()));
        out.flush();
        if (!out) {
            const int err = errno;
            out.close();
            std::remove(tmp.c_str());
            return R::failure("cannot write " + path + ": " + (err ? std::strerror(err) : "write failed (disk full?)"));
        }
    }
    base::faultPointPartial("png-write", tmp);
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        std::remove(tmp.c_str());
        return R::failure("cannot replace " + path);
    }
    return true;
}

} // namespace lightbox::imaging
