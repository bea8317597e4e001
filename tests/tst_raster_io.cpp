// Raster formats (PNG, JPEG, TIFF, BMP) through imaging::loadImage, rendering, and bad input.
#include <imaging/ImageLoader.h>
#include <imaging/ImageWriter.h>
#include <imaging/Render.h>

#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

using namespace lightbox::imaging;

namespace {

cv::Mat gradient16(int w, int h)
{
    cv::Mat m(h, w, CV_16UC1);
    for (int y = 0; y < h; ++y)
        for (int x = 0; x < w; ++x)
            m.at<uint16_t>(y, x) = static_cast<uint16_t>((x * 997 + y * 131) % 4096 + 100);
    return m;
}

QByteArray readAll(const QString& path)
{
    QFile f(path);
    f.open(QIODevice::ReadOnly);
    return f.readAll();
}

void writeBytes(const QString& path, const QByteArray& bytes)
{
    QFile f(path);
    QVERIFY(f.open(QIODevice::WriteOnly));
    f.write(bytes);
}

/// A JPEG with an EXIF APP1 segment carrying the given Orientation value.
QByteArray jpegWithOrientation(const cv::Mat& bgr, uint16_t orientation)
{
    std::vector<uint8_t> enc;
    cv::imencode(".jpg", bgr, enc, {cv::IMWRITE_JPEG_QUALITY, 100});
    QByteArray tiff;
    tiff.append("MM\x00\x2A", 4);       // big-endian TIFF header
    tiff.append("\x00\x00\x00\x08", 4); // IFD at offset 8
    tiff.append("\x00\x01", 2);         // one entry
    tiff.append("\x01\x12\x00\x03", 4); // Orientation, SHORT
    tiff.append("\x00\x00\x00\x01", 4); // count 1
    tiff.append(char(orientation >> 8)).append(char(orientation & 0xFF)).append("\x00\x00", 2);
    tiff.append("\x00\x00\x00\x00", 4); // no next IFD
    QByteArray app1 = QByteArray("Exif\x00\x00", 6) + tiff;
    const int len = app1.size() + 2;
    QByteArray seg = QByteArray("\xFF\xE1", 2);
    seg.append(char(len >> 8)).append(char(len & 0xFF)).append(app1);
    QByteArray out(reinterpret_cast<const char*>(enc.data()), int(enc.size()));
    out.insert(2, seg); // right after SOI
    return out;
}

} // namespace

class tst_RasterIo : public QObject {
    Q_OBJECT
private slots:
    void roundTrip_data();
    void roundTrip();
    void rgbOrderIsRgb();
    void grayStoredAsColourBecomesGray();
    void exifOrientationApplied();
    void contentWinsOverExtension();
    void badInput_data();
    void badInput();
    void absurdDimensionsRefusedBeforeDecode();
    void windowMath();
    void monochrome1Inverts();
    void autoWindowUsesPercentiles();
    void subRectRenderMatchesFullRender();

private:
    QTemporaryDir m_dir;
};

void tst_RasterIo::roundTrip_data()
{
    QTest::addColumn<QString>("ext");
    QTest::addColumn<int>("depth");
    QTest::addColumn<bool>("lossless");
    QTest::newRow("png8") << "png" << CV_8U << true;
    QTest::newRow("png16") << "png" << CV_16U << true;
    QTest::newRow("tiff8") << "tif" << CV_8U << true;
    QTest::newRow("tiff16") << "tiff" << CV_16U << true;
    QTest::newRow("bmp8") << "bmp" << CV_8U << true;
    QTest::newRow("jpeg8") << "jpg" << CV_8U << false;
}

void tst_RasterIo::roundTrip()
{
    QFETCH(QString, ext);
    QFETCH(int, depth);
    QFETCH(bool, lossless);
    cv::Mat src = gradient16(97, 61);
    if (depth == CV_8U)
        src.convertTo(src, CV_8U, 1.0 / 16.0);
    const QString path = m_dir.filePath("rt." + ext);
    QVERIFY(cv::imwrite(path.toStdString(), src));
    auto r = loadImage(path.toStdString());
    QVERIFY2(r.ok(), r.error().c_str());
    QCOMPARE(r->width(), 97);
    QCOMPARE(r->height(), 61);
    QCOMPARE(r->channels(), 1);
    QCOMPARE(r->pixels.depth(), depth);
    QCOMPARE(r->photometric, Photometric::Monochrome2);
    const double maxDiff = cv::norm(r->pixels, src, cv::NORM_INF);
    if (lossless)
        QCOMPARE(maxDiff, 0.0);
    else
        QVERIFY2(maxDiff < 12, qPrintable(QString::number(maxDiff)));
    // The same bytes from memory give the same image.
    const QByteArray bytes = readAll(path);
    auto m = loadImage(reinterpret_cast<const uint8_t*>(bytes.constData()), std::size_t(bytes.size()));
    QVERIFY2(m.ok(), m.error().c_str());
    QCOMPARE(m->pixels.type(), r->pixels.type());
    QCOMPARE(cv::norm(m->pixels, r->pixels, cv::NORM_INF), 0.0);
    QCOMPARE(m->format, r->format);
    QVERIFY(m->sourcePath.empty());
}

void tst_RasterIo::rgbOrderIsRgb()
{
    cv::Mat rgb(8, 8, CV_8UC3, cv::Scalar(250, 10, 20)); // red in RGB order
    const QString path = m_dir.filePath("red.png");
    QVERIFY(writePng(rgb, path.toStdString()).ok());
    auto r = loadImage(path.toStdString());
    QVERIFY2(r.ok(), r.error().c_str());
    QCOMPARE(r->channels(), 3);
    QCOMPARE(r->photometric, Photometric::Rgb);
    const auto px = r->pixels.at<cv::Vec3b>(3, 3);
    QCOMPARE(int(px[0]), 250);
    QCOMPARE(int(px[2]), 20);
    // And the file on disk is really red for other programs (OpenCV reads BGR).
    cv::Mat bgr = cv::imread(path.toStdString());
    QCOMPARE(int(bgr.at<cv::Vec3b>(0, 0)[2]), 250);
}

void tst_RasterIo::grayStoredAsColourBecomesGray()
{
    cv::Mat g = gradient16(40, 30);
    g.convertTo(g, CV_8U, 1.0 / 16.0);
    cv::Mat c;
    cv::cvtColor(g, c, cv::COLOR_GRAY2BGR);
    const QString path = m_dir.filePath("grayrgb.png");
    QVERIFY(cv::imwrite(path.toStdString(), c));
    auto r = loadImage(path.toStdString());
    QVERIFY(r.ok());
    QCOMPARE(r->channels(), 1);
    QCOMPARE(cv::norm(r->pixels, g, cv::NORM_INF), 0.0);
}

void tst_RasterIo::exifOrientationApplied()
{
    cv::Mat bgr(10, 20, CV_8UC3, cv::Scalar(0, 0, 0));
    bgr(cv::Rect(0, 0, 5, 5)).setTo(cv::Scalar(255, 255, 255)); // white top-left block
    const QString path = m_dir.filePath("exif6.jpg");
    writeBytes(path, jpegWithOrientation(bgr, 6)); // rotate 90° clockwise to display
    auto r = loadImage(path.toStdString());
    QVERIFY2(r.ok(), r.error().c_str());
    QCOMPARE(r->width(), 10);
    QCOMPARE(r->height(), 20);
    // After a clockwise rotation the white block sits at the top-right.
    QVERIFY(r->pixels.at<uint8_t>(2, 7) > 200);
    QVERIFY(r->pixels.at<uint8_t>(2, 2) < 50);
}

void tst_RasterIo::contentWinsOverExtension()
{
    cv::Mat g(16, 16, CV_8UC1, cv::Scalar(77));
    const QString path = m_dir.filePath("really-a-png.dcm");
    std::vector<uint8_t> enc;
    cv::imencode(".png", g, enc);
    writeBytes(path, QByteArray(reinterpret_cast<const char*>(enc.data()), int(enc.size())));
    auto r = loadImage(path.toStdString());
    QVERIFY2(r.ok(), r.error().c_str());
    QCOMPARE(r->format, std::string("PNG"));
    QCOMPARE(int(r->pixels.at<uint8_t>(5, 5)), 77);

    const QString dcmAsPng = m_dir.filePath("really-a-dicom.png");
    QFile::remove(dcmAsPng);
    QVERIFY(QFile::copy(QString(LIGHTBOX_PYDICOM_FILES) + "/CT_small.dcm", dcmAsPng));
    auto d = loadImage(dcmAsPng.toStdString());
    QVERIFY2(d.ok(), d.error().c_str());
    QCOMPARE(d->format, std::string("DICOM"));
}

void tst_RasterIo::badInput_data()
{
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<QString>("name");
    QTest::addColumn<QString>("expect");

    std::vector<uint8_t> png, jpg, tif;
    cv::Mat g = gradient16(64, 64);
    cv::imencode(".png", g, png);
    g.convertTo(g, CV_8U, 1.0 / 16);
    cv::imencode(".jpg", g, jpg);
    cv::imencode(".tif", g, tif);
    auto bytes = [](const std::vector<uint8_t>& v, double frac) {
        return QByteArray(reinterpret_cast<const char*>(v.data()), int(v.size() * frac));
    };
    QByteArray corruptPng = bytes(png, 1.0);
    for (int i = 60; i < corruptPng.size() - 20; i += 7)
        corruptPng[i] = char(corruptPng[i] ^ 0x5A);

    QTest::newRow("empty") << QByteArray() << "empty.png"
                           << "empty file";
    QTest::newRow("png truncated in header") << bytes(png, 0.02) << "t1.png"
                                             << "PNG";
    QTest::newRow("png truncated half") << bytes(png, 0.5) << "t2.png"
                                        << "PNG";
    QTest::newRow("png corrupt data") << corruptPng << "c.png"
                                      << "PNG";
    QTest::newRow("jpeg header only") << bytes(jpg, 0.05) << "t.jpg"
                                      << "JPEG";
    QTest::newRow("tiff truncated") << bytes(tif, 0.1) << "t.tif"
                                    << "TIFF";
    QTest::newRow("text with png name") << QByteArray("hello, this is not an image\n") << "text.png"
                                        << "unrecognised";
    QTest::newRow("random bytes") << QByteArray(5000, '\x37') << "random.bin"
                                  << "unrecognised";
}

void tst_RasterIo::badInput()
{
    QFETCH(QByteArray, bytes);
    QFETCH(QString, name);
    QFETCH(QString, expect);
    const QString path = m_dir.filePath(name);
    writeBytes(path, bytes);
    auto r = loadImage(path.toStdString());
    QVERIFY2(!r.ok(), "bad input must not load");
    QVERIFY2(QString::fromStdString(r.error()).contains(expect, Qt::CaseInsensitive), r.error().c_str());
    // From memory: the same message.
    auto m = loadImage(reinterpret_cast<const uint8_t*>(bytes.constData()), std::size_t(bytes.size()));
    QVERIFY(!m.ok());
    QCOMPARE(QString::fromStdString(m.error()), QString::fromStdString(r.error()));
}

void tst_RasterIo::absurdDimensionsRefusedBeforeDecode()
{
    // A valid PNG signature and IHDR claiming 100000 x 100000 16-bit pixels.
    std::vector<uint8_t> png;
    cv::imencode(".png", cv::Mat(4, 4, CV_16UC1, cv::Scalar(1)), png);
    QByteArray b(reinterpret_cast<const char*>(png.data()), int(png.size()));
    const uint32_t big = 100000;
    for (int off : {16, 20})
        for (int i = 0; i < 4; ++i)
            b[off + i] = char((big >> (24 - 8 * i)) & 0xFF);
    const QString path = m_dir.filePath("huge.png");
    writeBytes(path, b);
    auto r = loadImage(path.toStdString());
    QVERIFY(!r.ok());
    QVERIFY2(QString::fromStdString(r.error()).contains("MiB"), r.error().c_str());

    QVERIFY(!loadImage(m_dir.filePath("does-not-exist.png").toStdString()).ok());
    auto dir = loadImage(m_dir.path().toStdString());
    QVERIFY(!dir.ok());
    QVERIFY(QString::fromStdString(dir.error()).contains("folder"));
}

void tst_RasterIo::windowMath()
{
    Image img;
    img.pixels = cv::Mat(1, 4, CV_16UC1);
    img.pixels.at<uint16_t>(0, 0) = 0;
    img.pixels.at<uint16_t>(0, 1) = 999;
    img.pixels.at<uint16_t>(0, 2) = 1100;
    img.pixels.at<uint16_t>(0, 3) = 3000;
    img.rescaleSlope = 2.0;
    img.rescaleIntercept = -1000.0; // modality values -1000, 998, 1200, 5000
    RenderParams p;
    p.window = Window{1100, 201, {}};
    DisplayLut lut(img, p);
    QCOMPARE(int(lut.map(999)), 0);
    QCOMPARE(int(lut.map(1201)), 255);
    QVERIFY(std::abs(int(lut.map(1100)) - 128) <= 1);
    cv::Mat out = render8(img, p);
    QCOMPARE(out.type(), CV_8UC1);
    QCOMPARE(int(out.at<uint8_t>(0, 0)), 0);
    QCOMPARE(int(out.at<uint8_t>(0, 1)), 0);   // 998 below the lower edge (999.5)
    QCOMPARE(int(out.at<uint8_t>(0, 2)), 255); // 1200 > upper edge (1199.5)
    QCOMPARE(int(out.at<uint8_t>(0, 3)), 255);
    p.invert = true;
    QCOMPARE(int(render8(img, p).at<uint8_t>(0, 0)), 255);
}

void tst_RasterIo::monochrome1Inverts()
{
    Image img;
    img.pixels = (cv::Mat_<uint16_t>(1, 2) << 0, 1000);
    img.autoWindow = computeAutoWindow(img, 0, 100);
    img.photometric = Photometric::Monochrome2;
    cv::Mat m2 = render8(img);
    img.photometric = Photometric::Monochrome1;
    cv::Mat m1 = render8(img);
    QVERIFY(m2.at<uint8_t>(0, 0) < m2.at<uint8_t>(0, 1));
    QCOMPARE(int(m1.at<uint8_t>(0, 0)), 255 - int(m2.at<uint8_t>(0, 0)));
    QCOMPARE(int(m1.at<uint8_t>(0, 1)), 255 - int(m2.at<uint8_t>(0, 1)));
}

void tst_RasterIo::autoWindowUsesPercentiles()
{
    // 1000 pixels 0..999 plus a few extreme outliers: the 0.5-99.5 % window ignores them.
    Image img;
    img.pixels = cv::Mat(1, 1010, CV_16SC1);
    for (int i = 0; i < 1000; ++i)
        img.pixels.at<int16_t>(0, i) = static_cast<int16_t>(i);
    for (int i = 1000; i < 1005; ++i)
        img.pixels.at<int16_t>(0, i) = -30000;
    for (int i = 1005; i < 1010; ++i)
        img.pixels.at<int16_t>(0, i) = 30000;
    const Window w = computeAutoWindow(img);
    QVERIFY2(w.center > 400 && w.center < 600, qPrintable(QString::number(w.center)));
    QVERIFY2(w.width > 900 && w.width < 1100, qPrintable(QString::number(w.width)));
}

void tst_RasterIo::subRectRenderMatchesFullRender()
{
    Image img;
    img.pixels = gradient16(300, 200);
    img.autoWindow = computeAutoWindow(img);
    RenderParams p;
    p.window = img.autoWindow;
    DisplayLut lut(img, p);
    cv::Mat full, part;
    lut.apply(img, full);
    const cv::Rect r(37, 21, 100, 55);
    lut.apply(img, part, r);
    QCOMPARE(cv::norm(full(r), part, cv::NORM_INF), 0.0);
}

QTEST_GUILESS_MAIN(tst_RasterIo)
#include "tst_raster_io.moc"
