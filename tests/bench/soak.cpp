// A long working day in one process: does memory stay flat?
//
// Runs the GUI under the offscreen platform and, one phase after the other,
//   1. predicts with Grad-CAM through the classify panel (PredictJob, the viewer's heat map)
//      --predicts times, on the sample images and the shared DICOM files (a new one every five
//      predictions), the whole image and a crop in turn;
//   2. opens --opens images one after another in the main window's viewer, decoded in the
//      background as the GUI does (resources/samples, the shared DICOM files and the first two
//      images of each folder of the shared data sets, cycled);
//   3. starts --trainings short cnn5 runs in the training tab on a synthetic data set, stops
//      every other one after its first batches and lets the rest finish with their evaluation.
// It prints the resident memory (VmRSS), the heap in use and the freed memory that malloc keeps
// (mallinfo2) about ten times per phase (whole cycles over its images apart, where they are
// short), then per phase the growth from the end of the warm-up (the first 10 % of the phase, or
// one cycle over its images if that is longer: until then each new, larger image may rightly
// raise the high-water mark) to the end, and the longest event-loop stall (tests/StallMeter.h). `--max-growth PCT`
// makes it exit 1 when a phase's RSS grows by more than PCT % after its warm-up. `--quick`
// runs 20/20/2.
//
//   soak [--predicts N] [--opens N] [--trainings N] [--model PATH] [--max-growth PCT] [--quick]

#include "../StallMeter.h"
#include "../train/SyntheticDataset.h"

#include <ClassifyPanel.h>
#include <ImageViewer.h>
#include <MainWindow.h>
#include <TrainingTab.h>

#include <QApplication>
#include <QComboBox>
#include <QDirIterator>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QFile>
#include <QLineEdit>
#include <QSpinBox>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTimer>

#include <malloc.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

using namespace lightbox;
using lightbox::ui::ClassifyPanel;
using lightbox::ui::MainWindow;

namespace {

/// Resident memory in MB, from /proc/self/status.
double rssMb()
{
    QFile f(QStringLiteral("/proc/self/status"));
    if (!f.open(QIODevice::ReadOnly))
        return 0;
    for (const QByteArray& line : f.readAll().split('\n'))
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toDouble() / 1024.0;
    return 0;
}

/// Heap in use in MB (glibc's count of allocated bytes): a leak grows it, fragmentation does not.
double heapMb()
{
    const struct mallinfo2 m = mallinfo2();
    return static_cast<double>(m.uordblks + m.hblkhd) / (1024.0 * 1024.0);
}

/// Freed memory that glibc's arenas keep for later allocations, in MB (part of the RSS).
double heapFreeMb()
{
    return static_cast<double>(mallinfo2().fordblks) / (1024.0 * 1024.0);
}

/// Runs the event loop until `done` holds or `timeoutMs` passes; false on timeout.
bool waitFor(const std::function<bool()>& done, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (!done()) {
        if (t.elapsed() > timeoutMs)
            return false;
        QEventLoop loop;
        QTimer::singleShot(2, &loop, &QEventLoop::quit);
        loop.exec();
    }
    return true;
}

/// Lets the window paint what changed.
void settle()
{
    waitFor([] { return false; }, 5);
}

struct Sample {
    int done = 0;
    double rss = 0;
    double heap = 0;
    double heapFree = 0;
};

/// Records memory at about ten points of a phase and prints the growth after the warm-up.
class Phase {
public:
    /// `cycle`: the steps that go once over the inputs. Memory depends on the image in hand, so
    /// the points are whole cycles apart where a cycle is short enough, and the warm-up lasts
    /// at least one cycle: until then each new, larger image may rightly raise the high-water mark.
    Phase(const char* name, int total, int cycle)
        : m_name(name), m_total(total),
          m_every(cycle <= total / 5 ? cycle * std::max(1, total / 10 / cycle) : std::max(1, total / 10)),
          m_warmUp(std::min(total, std::max(total / 10, cycle)))
    {
        std::printf("\n%s: %d\n", name, total);
        std::printf("  %8s %10s %10s %10s\n", "done", "RSS MB", "heap MB", "free MB");
        m_stall.restart();
        record(0);
    }
    /// Call after each step.
    void step(int done)
    {
        if (done % m_every == 0 || done == m_total)
            record(done);
    }
    /// Prints the summary line; returns the RSS growth after the warm-up in %.
    double finish()
    {
        const double seconds = m_clock.elapsed() / 1000.0;
        // From the first point after the warm-up to the last point (both at the same place in
        // the cycle of images).
        const Sample* warm = &m_samples.back();
        const Sample* end = &m_samples.back();
        for (const Sample& s : m_samples)
            if (s.done >= std::max(1, m_warmUp) && s.done % m_every == 0) {
                warm = &s;
                break;
            }
        for (const Sample& s : m_samples)
            if (s.done % m_every == 0)
                end = &s;
        if (end->done < warm->done)
            end = warm;
        const double growth = warm->rss > 0 ? 100.0 * (end->rss - warm->rss) / warm->rss : 0;
        std::printf("  %s: %.0f s; RSS %.1f MB at the start, %.1f after the warm-up (%d), %.1f at the end (%d): "
                    "%+.1f MB (%+.1f %%) after the warm-up; heap in use %.1f -> %.1f MB (%+.1f MB); longest "
                    "event-loop stall %lld ms (%lld ms on the clock)\n",
                    m_name, seconds, m_samples.front().rss, warm->rss, warm->done, end->rss, end->done,
                    end->rss - warm->rss, growth, warm->heap, end->heap, end->heap - warm->heap,
                    static_cast<long long>(m_stall.maxStallMs()), static_cast<long long>(m_stall.maxGapMs()));
        std::fflush(stdout);
        return growth;
    }

private:
    void record(int done)
    {
        if (!m_samples.empty() && m_samples.back().done == done)
            return;
        if (m_samples.empty())
            m_clock.start();
        m_samples.push_back({done, rssMb(), heapMb(), heapFreeMb()});
        const Sample& s = m_samples.back();
        std::printf("  %8d %10.1f %10.1f %10.1f\n", done, s.rss, s.heap, s.heapFree);
        std::fflush(stdout);
    }

    const char* m_name;
    int m_total;
    int m_every;  ///< steps between two points
    int m_warmUp; ///< steps of the warm-up
    std::vector<Sample> m_samples;
    QElapsedTimer m_clock;
    test::StallMeter m_stall;
};

constexpr int kPredictionsPerImage = 5;

/// The images to open: the samples, the shared DICOM files, and (with `datasets`) the first two
/// images of each folder of the shared data sets.
QStringList imageFiles(bool datasets)
{
    QStringList files;
    for (const QString& f :
         QDir(QStringLiteral(LIGHTBOX_SOURCE_DIR "/resources/samples")).entryList(QDir::Files, QDir::Name))
        if (!f.endsWith(QLatin1String(".md")))
            files << QStringLiteral(LIGHTBOX_SOURCE_DIR "/resources/samples/") + f;
    const QDir shared(QStringLiteral(LIGHTBOX_SHARED_DATA));
    for (const QString& f : QDir(shared.filePath(QStringLiteral("dicom"))).entryList(QDir::Files, QDir::Name))
        files << shared.filePath(QStringLiteral("dicom/") + f);
    if (!datasets)
        return files;
    QDirIterator dirs(shared.path(), QDir::Dirs | QDir::NoDotAndDotDot, QDirIterator::Subdirectories);
    QStringList folders;
    while (dirs.hasNext())
        folders << dirs.next();
    folders.sort();
    for (const QString& d : folders) {
        if (d.endsWith(QLatin1String("/dicom")))
            continue;
        const QStringList images = QDir(d).entryList({"*.png", "*.jpg", "*.jpeg"}, QDir::Files, QDir::Name);
        for (int i = 0; i < std::min<int>(2, images.size()); ++i)
            files << QDir(d).filePath(images[i]);
    }
    return files;
}

/// Opens a file as the GUI does (decoded in the background, shown on the GUI thread) and waits.
bool open(MainWindow& window, const QString& path)
{
    window.openFileInBackground(path);
    return waitFor([&] { return !window.statusText().startsWith(QLatin1String("Loading")); }, 60000) &&
           window.lastError().isEmpty();
}

double predictPhase(MainWindow& window, const QStringList& images, int count)
{
    ClassifyPanel* panel = window.classifyPanel();
    Phase phase("predict + Grad-CAM", count, kPredictionsPerImage * static_cast<int>(images.size()));
    int failures = 0;
    for (int i = 0; i < count; ++i) {
        // A new image every few predictions; the whole image and a central crop in turn.
        if (i % kPredictionsPerImage == 0 && !open(window, images[(i / kPredictionsPerImage) % images.size()]))
            ++failures;
        const QSize size(window.image()->width(), window.image()->height());
        if (i % 2)
            window.viewer()->setRoi(QRect(size.width() / 4, size.height() / 4, size.width() / 2, size.height() / 2));
        else
            window.viewer()->clearRoi();
        bool applied = false;
        const auto c = QObject::connect(panel, &ClassifyPanel::resultApplied, [&](const jobs::PredictResult& r) {
            applied = true;
            failures += r.ok() && r.hasCam() ? 0 : 1;
        });
        panel->run();
        if (!waitFor([&] { return applied; }, 60000))
            ++failures;
        QObject::disconnect(c);
        settle();
        phase.step(i + 1);
    }
    if (failures)
        std::printf("  %d predictions failed or had no map\n", failures);
    return phase.finish();
}

double openPhase(MainWindow& window, const QStringList& images, int count)
{
    Phase phase("open images", count, static_cast<int>(images.size()));
    int failures = 0;
    for (int i = 0; i < count; ++i) {
        if (!open(window, images[i % images.size()]))
            ++failures;
        settle();
        phase.step(i + 1);
    }
    if (failures)
        std::printf("  %d images failed to open\n", failures);
    return phase.finish();
}

double trainingPhase(MainWindow& window, const QString& data, const QString& runs, int count)
{
    ui::TrainingTab* tab = window.trainingTab();
    window.centralTabs()->setCurrentWidget(tab);
    tab->setInteractive(false);
    tab->presetCombo()->setCurrentIndex(0);
    tab->dataPathEdit()->setText(data);
    tab->architectureCombo()->setCurrentIndex(tab->architectureCombo()->findText(QStringLiteral("cnn5")));
    tab->sizeSpin()->setValue(32);
    tab->channelsCombo()->setCurrentIndex(tab->channelsCombo()->findData(1));
    tab->epochsSpin()->setValue(2);
    tab->batchSpin()->setValue(4);
    tab->patienceSpin()->setValue(0);
    tab->augmentCombo()->setCurrentIndex(tab->augmentCombo()->findText(QStringLiteral("none")));
    tab->deviceCombo()->setCurrentIndex(tab->deviceCombo()->findText(QStringLiteral("cpu")));
    tab->threadsSpin()->setValue(1);

    Phase phase("training runs", count, 2);
    int failures = 0;
    for (int i = 0; i < count; ++i) {
        tab->runDirEdit()->setText(QStringLiteral("%1/run-%2").arg(runs).arg(i));
        // Every other run is stopped after its third batch; the others finish and are evaluated.
        const bool stop = i % 2 == 0;
        int batches = 0;
        bool finished = false;
        const auto b = QObject::connect(tab, &ui::TrainingTab::batchShown, [&] {
            if (++batches == 3 && stop)
                tab->stopTraining();
        });
        const auto f = QObject::connect(tab, &ui::TrainingTab::trainingFinished, [&](bool ok) {
            finished = true;
            failures += ok ? 0 : 1;
        });
        if (!tab->startTraining() || !waitFor([&] { return finished; }, 120000))
            ++failures;
        QObject::disconnect(b);
        QObject::disconnect(f);
        settle();
        phase.step(i + 1);
    }
    if (failures)
        std::printf("  %d training runs failed\n", failures);
    return phase.finish();
}

} // namespace

int main(int argc, char** argv)
{
    qputenv("QT_QPA_PLATFORM", "offscreen");
    int predicts = 1000, opens = 500, trainings = 20;
    double maxGrowth = -1;
    QString model = QStringLiteral(LIGHTBOX_SOURCE_DIR "/models/chest-pneumonia-resnet10s.lbx");
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        auto next = [&] { return i + 1 < argc ? std::string(argv[++i]) : std::string(); };
        if (a == "--predicts")
            predicts = std::stoi(next());
        else if (a == "--opens")
            opens = std::stoi(next());
        else if (a == "--trainings")
            trainings = std::stoi(next());
        else if (a == "--model")
            model = QString::fromStdString(next());
        else if (a == "--max-growth")
            maxGrowth = std::stod(next());
        else if (a == "--quick")
            predicts = 20, opens = 20, trainings = 2;
        else {
            std::fprintf(stderr, "usage: soak [--predicts N] [--opens N] [--trainings N] [--model PATH] "
                                 "[--max-growth PCT] [--quick]\n");
            return 2;
        }
    }

    QApplication app(argc, argv);
    QStandardPaths::setTestModeEnabled(true); // settings of their own, not the user's
    QCoreApplication::setOrganizationName(QStringLiteral("lightbox-soak"));
    QCoreApplication::setApplicationName(QStringLiteral("soak"));

    const QStringList samples = imageFiles(false), images = imageFiles(true);
    QTemporaryDir tmp;
    const QString data = tmp.filePath(QStringLiteral("squares"));
    if (!tmp.isValid() || images.isEmpty() || !test::makeSquaresDataset(data, 20)) {
        std::fprintf(stderr, "cannot prepare the images or the synthetic data set\n");
        return 1;
    }
    std::printf("soak: %d predictions with %s over %lld images, %d opens over %lld images, %d training runs; RSS "
                "%.1f MB\n",
                predicts, qPrintable(QFileInfo(model).fileName()), static_cast<long long>(samples.size()), opens,
                static_cast<long long>(images.size()), trainings, rssMb());

    MainWindow window;
    window.setInteractive(false);
    window.resize(1280, 900);
    window.show();
    settle();
    ClassifyPanel* panel = window.classifyPanel();
    panel->setAutoPick(false);
    panel->setAutoRerun(false);
    panel->setDevice(QStringLiteral("cpu"));
    panel->setCamMethod(ml::CamMethod::GradCam);
    bool described = false;
    QObject::connect(panel, &ClassifyPanel::modelDescribed, [&](bool ok) { described = ok; });
    if (!open(window, images.front()) || !panel->selectModel(model) || !waitFor([&] { return described; }, 60000)) {
        std::fprintf(stderr, "cannot open %s or load %s\n", qPrintable(images.front()), qPrintable(model));
        return 1;
    }

    const double growth[] = {
        predicts > 0 ? predictPhase(window, samples, predicts) : 0, opens > 0 ? openPhase(window, images, opens) : 0,
        trainings > 0 ? trainingPhase(window, data, tmp.filePath(QStringLiteral("runs")), trainings) : 0};
    std::printf("\nRSS at the end %.1f MB; heap in use %.1f MB\n", rssMb(), heapMb());
    const double worst = *std::max_element(std::begin(growth), std::end(growth));
    if (maxGrowth >= 0 && worst > maxGrowth) {
        std::printf("a phase grew by %.1f %% after its warm-up (allowed %.1f %%)\n", worst, maxGrowth);
        return 1;
    }
    return 0;
}
