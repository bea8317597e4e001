#include "Jpeg2000Decoder.h"

#include "ImageLoader.h"

#include <base/FaultInjection.h>

#include <openjpeg.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <thread>

#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

namespace lightbox::imaging::detail {
namespace {

struct MemorySource {
    const uint8_t* data;
    std::size_t size;
    std::size_t pos;
};

OPJ_SIZE_T readFn(void* buffer, OPJ_SIZE_T n, void* user)
{
    auto* src = static_cast<MemorySource*>(user);
    if (src->pos >= src->size)
        return static_cast<OPJ_SIZE_T>(-1);
    const std::size_t len = std::min<std::size_t>(n, src->size - src->pos);
    std::memcpy(buffer, src->data + src->pos, len);
    src->pos += len;
    return len;
}

OPJ_OFF_T skipFn(OPJ_OFF_T n, void* user)
{
    auto* src = static_cast<MemorySource*>(user);
    if (n < 0) {
        const std::size_t back = std::min<std::size_t>(static_cast<std::size_t>(-n), src->pos);
        src->pos -= back;
        return -static_cast<OPJ_OFF_T>(back);
    }
    const std::size_t len = std::min<std::size_t>(static_cast<std::size_t>(n), src->size - src->pos);
    src->pos += len;
    return static_cast<OPJ_OFF_T>(len);
}

OPJ_BOOL seekFn(OPJ_OFF_T pos, void* user)
{
    auto* src = static_cast<MemorySource*>(user);
    if (pos < 0 || static_cast<std::size_t>(pos) > src->size)
        return OPJ_FALSE;
    src->pos = static_cast<std::size_t>(pos);
    return OPJ_TRUE;
}

void errorFn(const char* msg, void* user)
{
    auto* out = static_cast<std::string*>(user);
    if (out->empty()) {
        *out = msg;
        while (!out->empty() && (out->back() == '\n' || out->back() == ' '))
            out->pop_back();
    }
}

void quietFn(const char*, void*) {}

struct CodecDeleter {
    void operator()(opj_codec_t* c) const { opj_destroy_codec(c); }
};
struct StreamDeleter {
    void operator()(opj_stream_t* s) const { opj_stream_destroy(s); }
};
struct ImageDeleter {
    void operator()(opj_image_t* i) const { opj_image_destroy(i); }
};

bool isJp2(const uint8_t* d, std::size_t n)
{
    static const uint8_t sig[] = {0, 0, 0, 0x0C, 'j', 'P', ' ', ' ', 0x0D, 0x0A, 0x87, 0x0A};
    return n >= sizeof sig && std::memcmp(d, sig, sizeof sig) == 0;
}

template <typename T>
void copyComponents(const opj_image_t* img, cv::Mat& out, int samples, bool reinterpretSigned, int bitsStored)
{
    const int rows = out.rows, cols = out.cols;
    const int32_t signBit = bitsStored > 0 && bitsStored < 32 ? (1 << (bitsStored - 1)) : 0;
    const int32_t modulus = bitsStored > 0 && bitsStored < 32 ? (1 << bitsStored) : 0;
    for (int y = 0; y < rows; ++y) {
        T* dst = out.ptr<T>(y);
        for (int c = 0; c < samples; ++c) {
            const OPJ_INT32* src = img->comps[c].data + std::size_t(y) * img->comps[c].w;
            for (int x = 0; x < cols; ++x) {
                int32_t v = src[x];
                if (reinterpretSigned && modulus && v >= signBit)
                    v -= modulus;
                dst[x * samples + c] = cv::saturate_cast<T>(v);
            }
        }
    }
}

/// Whether OpenJPEG may use its High-Throughput block decoder: a CAP marker, or a COD or COC
/// segment whose code-block style has the HT bit (0x40), in the main header or a tile-part
/// header. The walk follows the marker segments from SOC and jumps over each tile-part's data
/// (SOT's Psot), so that entropy-coded bytes that happen to look like a marker do not count.
/// Anything it cannot follow (no SOC, a broken length, a truncated tile) counts as "may": such
/// data is decoded in the child process.
bool mayUseHtBlockCoder(const uint8_t* d, std::size_t n)
{
    static const uint8_t soc[4] = {0xFF, 0x4F, 0xFF, 0x51};
    const uint8_t* start = std::search(d, d + n, soc, soc + 4); // a JP2 file: its codestream box
    if (start == d + n)
        return true;
    const auto be16 = [](const uint8_t* p) { return std::size_t(p[0]) << 8 | p[1]; };
    const auto be32 = [](const uint8_t* p) {
        return std::size_t(p[0]) << 24 | std::size_t(p[1]) << 16 | std::size_t(p[2]) << 8 | p[3];
    };
    std::size_t i = static_cast<std::size_t>(start - d) + 2; // after SOC
    std::size_t tileEnd = 0;                                 // the current tile-part's end
    while (i + 2 <= n) {
        if (d[i] != 0xFF)
            return true;
        const uint8_t m = d[i + 1];
        if (m == 0xD9) // EOC
            return false;
        if (m == 0x93) { // SOD: the tile-part's data runs to its end (to EOC when Psot is 0)
            if (tileEnd == 0)
                return false;
            i = tileEnd;
            tileEnd = 0;
            continue;
        }
        if (i + 4 > n)
            return true;
        const std::size_t len = be16(d + i + 2);
        if (len < 2 || i + 2 + len > n)
            return true;
        const uint8_t* seg = d + i + 4; // after the length
        if (m == 0x50)                  // CAP: Part 15 capabilities
            return true;
        if (m == 0x52 && len >= 12 && (seg[8] & 0x40)) // COD: Scod, SGcod(4), levels, xcb, ycb, style
            return true;
        if (m == 0x53 && ((len >= 8 && (seg[5] & 0x40)) || (len >= 9 && (seg[6] & 0x40))))
            return true; // COC: Ccoc has 1 or 2 bytes
        if (m == 0x90) { // SOT: Isot(2), Psot(4), TPsot, TNsot
            if (len < 10)
                return true;
            const std::size_t psot = be32(seg + 2);
            if (psot != 0 && (psot < 14 || i + psot > n))
                return true;
            tileEnd = psot == 0 ? 0 : i + psot;
        }
        i += 2 + len;
    }
    return true; // truncated before EOC
}

/// Checks the codestream's SIZ marker segment (image and tile sizes) before OpenJPEG reads the
/// header: OpenJPEG sets up every tile while it reads it, so a 2 KB header claiming an image
/// 2,883,684 pixels wide in 28,837 tiles cost it 500 MB and two seconds (found by fuzz_dicom)
/// before the size check below could refuse it. More than 65,535 tiles is outside the
/// standard (Isot is 0-65534). Empty when the segment is fine or not found (OpenJPEG then
/// reports what is wrong).
std::string checkSizSegment(const uint8_t* data, std::size_t size, const Jpeg2000Expect& expect)
{
    static const uint8_t siz[4] = {0xFF, 0x4F, 0xFF, 0x51};
    const uint8_t* at = std::search(data, data + size, siz, siz + 4);
    if (at + 4 + 38 > data + size)
        return {};
    const auto be32 = [](const uint8_t* p) {
        return uint64_t(p[0]) << 24 | uint64_t(p[1]) << 16 | uint64_t(p[2]) << 8 | uint64_t(p[3]);
    };
    const uint8_t* p = at + 4 + 4; // Lsiz, Rsiz
    const uint64_t xsiz = be32(p), ysiz = be32(p + 4), x0 = be32(p + 8), y0 = be32(p + 12);
    const uint64_t xt = be32(p + 16), yt = be32(p + 20), xt0 = be32(p + 24), yt0 = be32(p + 28);
    if (xsiz <= x0 || ysiz <= y0 || xt == 0 || yt == 0 || xt0 > x0 || yt0 > y0)
        return "corrupt JPEG 2000 header: impossible image or tile geometry in its SIZ segment";
    const uint64_t width = xsiz - x0, height = ysiz - y0;
    if (expect.cols > 0 && expect.rows > 0 && (width != uint64_t(expect.cols) || height != uint64_t(expect.rows)))
        return "JPEG 2000 codestream is " + std::to_string(width) + "x" + std::to_string(height) +
               " but the DICOM header says " + std::to_string(expect.cols) + "x" + std::to_string(expect.rows);
    const uint64_t tiles = ((xsiz - xt0 + xt - 1) / xt) * ((ysiz - yt0 + yt - 1) / yt);
    if (tiles > 65535)
        return "corrupt JPEG 2000 header: " + std::to_string(tiles) + " tiles (the standard allows 65,535)";
    return {};
}

Result<cv::Mat> decodeInProcess(const uint8_t* data, std::size_t size, const Jpeg2000Expect& expect)
{
    if (!data || size < 16)
        return Result<cv::Mat>::failure("JPEG 2000 frame is empty or truncated");

    const bool jp2 = isJp2(data, size);
    if (!jp2 && !(data[0] == 0xFF && data[1] == 0x4F))
        return Result<cv::Mat>::failure("JPEG 2000 frame does not start with a codestream or JP2 signature");
    if (const std::string bad = checkSizSegment(data, size, expect); !bad.empty())
        return Result<cv::Mat>::failure(bad);

    MemorySource src{data, size, 0};
    std::unique_ptr<opj_stream_t, StreamDeleter> stream(opj_stream_create(1 << 16, OPJ_TRUE));
    opj_stream_set_user_data(stream.get(), &src, nullptr);
    opj_stream_set_user_data_length(stream.get(), size);
    opj_stream_set_read_function(stream.get(), readFn);
    opj_stream_set_skip_function(stream.get(), skipFn);
    opj_stream_set_seek_function(stream.get(), seekFn);

    std::unique_ptr<opj_codec_t, CodecDeleter> codec(opj_create_decompress(jp2 ? OPJ_CODEC_JP2 : OPJ_CODEC_J2K));
    std::string error;
    opj_set_error_handler(codec.get(), errorFn, &error);
    opj_set_warning_handler(codec.get(), quietFn, nullptr);
    opj_set_info_handler(codec.get(), quietFn, nullptr);
    opj_dparameters_t params;
    opj_set_default_decoder_parameters(&params);
    if (!opj_setup_decoder(codec.get(), &params))
        return Result<cv::Mat>::failure("OpenJPEG could not set up a decoder");
    // A truncated codestream must fail, not come back as a silently blurred image.
    opj_decoder_set_strict_mode(codec.get(), OPJ_TRUE);
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    opj_codec_set_threads(codec.get(), static_cast<int>(cores));

    opj_image_t* raw = nullptr;
    if (!opj_read_header(stream.get(), codec.get(), &raw)) {
        opj_image_destroy(raw);
        return Result<cv::Mat>::failure("corrupt JPEG 2000 header" + (error.empty() ? "" : ": " + error));
    }
    std::unique_ptr<opj_image_t, ImageDeleter> img(raw);

    const int width = static_cast<int>(img->x1 - img->x0);
    const int height = static_cast<int>(img->y1 - img->y0);
    if (img->numcomps < 1 || width <= 0 || height <= 0)
        return Result<cv::Mat>::failure("JPEG 2000 codestream has no image");
    if (width != expect.cols || height != expect.rows)
        return Result<cv::Mat>::failure("JPEG 2000 codestream is " + std::to_string(width) + "x" +
                                        std::to_string(height) + " but the DICOM header says " +
                                        std::to_string(expect.cols) + "x" + std::to_string(expect.rows));
    const int samples = static_cast<int>(img->numcomps) >= 3 && expect.samples == 3 ? 3 : 1;
    if (expect.samples != samples)
        return Result<cv::Mat>::failure("JPEG 2000 codestream has " + std::to_string(img->numcomps) +
                                        " components but the DICOM header says " + std::to_string(expect.samples));
    const std::size_t bytes = expect.bitsAllocated > 8 ? 2 : 1;
    if (auto ok = checkFrameSize(width, height, samples, bytes, expect.maxBytes); !ok)
        return Result<cv::Mat>::failure(ok.error());

    if (!opj_decode(codec.get(), stream.get(), img.get()) || !opj_end_decompress(codec.get(), stream.get()))
        return Result<cv::Mat>::failure("corrupt or truncated JPEG 2000 data" + (error.empty() ? "" : ": " + error));

    for (int c = 0; c < samples; ++c) {
        const opj_image_comp_t& comp = img->comps[c];
        if (!comp.data || comp.dx != 1 || comp.dy != 1 || static_cast<int>(comp.w) != width ||
            static_cast<int>(comp.h) != height)
            return Result<cv::Mat>::failure("JPEG 2000 components with subsampling are not supported");
    }

    const bool codestreamSigned = img->comps[0].sgnd != 0;
    const bool reinterpret = expect.isSigned && !codestreamSigned;
    cv::Mat out;
    if (bytes == 1 && !expect.isSigned) {
        out.create(height, width, CV_MAKETYPE(CV_8U, samples));
        copyComponents<uint8_t>(img.get(), out, samples, false, expect.bitsStored);
    } else if (expect.isSigned) {
        out.create(height, width, CV_MAKETYPE(CV_16S, samples));
        copyComponents<int16_t>(img.get(), out, samples, reinterpret, expect.bitsStored);
    } else {
        out.create(height, width, CV_MAKETYPE(CV_16U, samples));
        copyComponents<uint16_t>(img.get(), out, samples, false, expect.bitsStored);
    }
    return out;
}

/// Seconds the isolated decoder may take for `pixels`: generous (a large frame on a slow,
/// loaded machine takes a few), and never forever: a child that loops or deadlocks is killed.
/// LIGHTBOX_J2K_TIMEOUT_S overrides it (tests).
int isolatedDecodeSeconds(double pixels)
{
    if (const char* env = std::getenv("LIGHTBOX_J2K_TIMEOUT_S")) {
        const int s = std::atoi(env);
        if (s > 0)
            return s;
    }
    return 60 + static_cast<int>(pixels / 1e6);
}

/// OpenJPEG 2.5.0's HT block decoder (Debian 12) asserts on corrupt code-block data, and an
/// assertion aborts the whole program: HTJ2K frames are decoded in a child process, into
/// memory shared with it, so that a corrupt one only fails its own load. The parent waits for
/// it at most isolatedDecodeSeconds().
Result<cv::Mat> decodeIsolated(const uint8_t* data, std::size_t size, const Jpeg2000Expect& expect)
{
    using R = Result<cv::Mat>;
    const int samples = expect.samples == 3 ? 3 : 1;
    const int depth = (expect.bitsAllocated > 8 ? 2 : 1) == 1 && !expect.isSigned ? CV_8U
                      : expect.isSigned                                           ? CV_16S
                                                                                  : CV_16U;
    if (expect.rows <= 0 || expect.cols <= 0)
        return R::failure("JPEG 2000 frame without a size in the DICOM header");
    if (auto ok = checkFrameSize(expect.cols, expect.rows, samples, CV_ELEM_SIZE1(depth), expect.maxBytes); !ok)
        return R::failure(ok.error());
    const std::size_t payload = std::size_t(expect.rows) * expect.cols * samples * CV_ELEM_SIZE1(depth);
    struct Header {
        int ok;
        char error[512];
    };
    const std::size_t mapped = sizeof(Header) + payload;
    void* shared = mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (shared == MAP_FAILED)
        return R::failure("not enough memory to decode the JPEG 2000 frame");
    auto* header = static_cast<Header*>(shared);
    auto* pixels = static_cast<uint8_t*>(shared) + sizeof(Header);
    header->ok = 0;
    header->error[0] = '\0';
    const pid_t pid = fork();
    if (pid == 0) {
        // The child dies quietly on a crash or an assertion; the parent reports it.
        for (int sig : {SIGABRT, SIGSEGV, SIGBUS, SIGFPE, SIGILL})
            std::signal(sig, SIG_DFL);
        base::faultPoint("j2k-decoder-child"); // tests: a child that never finishes
        auto r = decodeInProcess(data, size, expect);
        if (r && r->isContinuous() && r->type() == CV_MAKETYPE(depth, samples) &&
            r->total() * r->elemSize() == payload) {
            std::memcpy(pixels, r->data, payload);
            header->ok = 1;
        } else {
            const std::string e = r ? std::string("JPEG 2000 frame decoded to an unexpected layout") : r.error();
            std::strncpy(header->error, e.c_str(), sizeof header->error - 1);
            header->error[sizeof header->error - 1] = '\0';
        }
        _exit(0);
    }
    if (pid < 0) {
        munmap(shared, mapped);
        return R::failure("cannot start the JPEG 2000 decoder process");
    }
    const int limit = isolatedDecodeSeconds(double(expect.rows) * expect.cols);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(limit);
    int status = 0;
    bool timedOut = false;
    for (auto pause = std::chrono::milliseconds(1);;) {
        const pid_t done = waitpid(pid, &status, WNOHANG);
        if (done == pid || (done < 0 && errno != EINTR))
            break;
        if (std::chrono::steady_clock::now() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            timedOut = true;
            break;
        }
        std::this_thread::sleep_for(pause);
        pause = std::min(pause * 2, std::chrono::milliseconds(20));
    }
    R result = R::failure("corrupt HTJ2K data: the JPEG 2000 decoder stopped on it");
    if (timedOut) {
        result = R::failure("the JPEG 2000 decoder did not finish within " + std::to_string(limit) +
                            " s and was stopped: the frame is not shown");
    } else if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (header->ok)
            result = cv::Mat(expect.rows, expect.cols, CV_MAKETYPE(depth, samples), pixels).clone();
        else
            result = R::failure(header->error);
    } else if (WIFSIGNALED(status)) {
        result = R::failure(std::string("corrupt HTJ2K data: the JPEG 2000 decoder stopped on it (") +
                            strsignal(WTERMSIG(status)) + ")");
    }
    munmap(shared, mapped);
    return result;
}

} // namespace

Result<cv::Mat> decodeJpeg2000(const uint8_t* data, std::size_t size, const Jpeg2000Expect& expect)
{
    if (data && size >= 16 && mayUseHtBlockCoder(data, size))
        return decodeIsolated(data, size, expect);
    return decodeInProcess(data, size, expect);
}

} // namespace lightbox::imaging::detail
