// The Korean translation (resources/translations/lightbox_ko.ts) is complete and current:
// every message finished, non-empty, with the same %n arguments and an accelerator where the
// source has one, none obsolete or vanished; and lupdate run on today's sources finds no
// message the file lacks and none it should drop.
#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QSet>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QXmlStreamReader>
#include <QtTest>

namespace {

const QString kTsFile = QStringLiteral(LIGHTBOX_SOURCE_DIR "/resources/translations/lightbox_ko.ts");

struct Message {
    QString context;
    QString source;
    QString comment;
    QString type;             ///< the translation's type attribute: "", unfinished, obsolete, vanished
    QStringList translations; ///< one, or the numerus forms
    QString key() const { return context + QLatin1Char('|') + source + QLatin1Char('|') + comment; }
};

/// Reads the messages of a Qt Linguist file; false with `error` set when it is not one.
bool readTs(const QString& path, QList<Message>& out, QString& error)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly)) {
        error = QStringLiteral("cannot open %1").arg(path);
        return false;
    }
    QXmlStreamReader xml(&f);
    QString context;
    Message m;
    bool inMessage = false;
    bool numerus = false;
    while (!xml.atEnd()) {
        xml.readNext();
        if (xml.isStartElement()) {
            const auto name = xml.name();
            if (name == QLatin1String("name") && !inMessage) {
                context = xml.readElementText();
            } else if (name == QLatin1String("message")) {
                m = Message{context, {}, {}, {}, {}};
                numerus = xml.attributes().value(QLatin1String("numerus")) == QLatin1String("yes");
                inMessage = true;
            } else if (inMessage && name == QLatin1String("source")) {
                m.source = xml.readElementText();
            } else if (inMessage && name == QLatin1String("comment")) {
                m.comment = xml.readElementText();
            } else if (inMessage && name == QLatin1String("translation")) {
                m.type = xml.attributes().value(QLatin1String("type")).toString();
                if (!numerus)
                    m.translations << xml.readElementText();
            } else if (inMessage && name == QLatin1String("numerusform")) {
                m.translations << xml.readElementText();
            }
        } else if (xml.isEndElement() && xml.name() == QLatin1String("message")) {
            out << m;
            inMessage = false;
        }
    }
    if (xml.hasError()) {
        error = QStringLiteral("%1: %2 at line %3").arg(path, xml.errorString()).arg(xml.lineNumber());
        return false;
    }
    return true;
}

QStringList placeholders(const QString& s)
{
    QStringList out;
    static const QRegularExpression re(QStringLiteral("%(L?)(\\d+)"));
    for (auto it = re.globalMatch(s); it.hasNext();)
        out << it.next().captured(2);
    out.sort();
    out.removeDuplicates();
    return out;
}

bool hasAccelerator(const QString& s)
{
    static const QRegularExpression re(QStringLiteral("(^|[^&])&[^&\\s]"));
    return re.match(s).hasMatch();
}

} // namespace

class tst_Translations : public QObject {
    Q_OBJECT
private slots:
    void everyMessageTranslated();
    void matchesTheSources();
};

void tst_Translations::everyMessageTranslated()
{
    QList<Message> messages;
    QString error;
    QVERIFY2(readTs(kTsFile, messages, error), qPrintable(error));
    QVERIFY2(messages.size() > 300, qPrintable(QString::number(messages.size())));
    QStringList bad;
    for (const Message& m : messages) {
        const QString where = QStringLiteral("%1: \"%2\"").arg(m.context, m.source);
        if (!m.type.isEmpty()) {
            bad << QStringLiteral("%1 is %2").arg(where, m.type);
            continue;
        }
        if (m.translations.isEmpty()) {
            bad << QStringLiteral("%1 has no translation").arg(where);
            continue;
        }
        for (const QString& t : m.translations) {
            if (t.trimmed().isEmpty())
                bad << QStringLiteral("%1 has an empty translation").arg(where);
            else if (placeholders(t) != placeholders(m.source))
                bad << QStringLiteral("%1: \"%2\" has other %n arguments").arg(where, t);
            else if (hasAccelerator(m.source) && !hasAccelerator(t))
                bad << QStringLiteral("%1: \"%2\" lost the accelerator").arg(where, t);
        }
    }
    QVERIFY2(bad.isEmpty(), qPrintable(bad.join(QLatin1Char('\n'))));
    qInfo("%lld messages, all translated", static_cast<long long>(messages.size()));
}

void tst_Translations::matchesTheSources()
{
    QString lupdate = QStringLiteral(LIGHTBOX_LUPDATE);
    if (!QFileInfo(lupdate).isExecutable())
        lupdate = QStandardPaths::findExecutable(QStringLiteral("lupdate"), {QStringLiteral("/usr/lib/qt6/bin")});
    if (lupdate.isEmpty())
        QSKIP("lupdate is not installed (Debian: qt6-l10n-tools): cannot compare the .ts with the sources");
    QTemporaryDir tmp;
    QVERIFY(tmp.isValid());
    const QString fresh = tmp.filePath(QStringLiteral("fresh_ko.ts"));
    // The same sources and options as the lightbox_ui_lupdate target (ui/CMakeLists.txt).
    QProcess p;
    p.setWorkingDirectory(QStringLiteral(LIGHTBOX_SOURCE_DIR));
    p.setProcessChannelMode(QProcess::MergedChannels);
    p.start(lupdate, {QStringLiteral("ui"), QStringLiteral("app/gui_main.cpp"), QStringLiteral("-ts"), fresh,
                      QStringLiteral("-target-language"), QStringLiteral("ko"), QStringLiteral("-no-obsolete"),
                      QStringLiteral("-locations"), QStringLiteral("none"), QStringLiteral("-silent")});
    QVERIFY(p.waitForFinished(120000 * LIGHTBOX_TIME_FACTOR));
    QVERIFY2(p.exitStatus() == QProcess::NormalExit && p.exitCode() == 0, p.readAll().constData());

    QList<Message> now, committed;
    QString error;
    QVERIFY2(readTs(fresh, now, error), qPrintable(error));
    QVERIFY2(readTs(kTsFile, committed, error), qPrintable(error));
    QSet<QString> nowKeys, committedKeys;
    for (const Message& m : now)
        nowKeys.insert(m.key());
    for (const Message& m : committed)
        committedKeys.insert(m.key());
    QStringList missing = QSet<QString>(nowKeys).subtract(committedKeys).values();
    QStringList stale = QSet<QString>(committedKeys).subtract(nowKeys).values();
    missing.sort();
    stale.sort();
    QVERIFY2(missing.isEmpty(),
             qPrintable(QStringLiteral("strings in the sources that lightbox_ko.ts lacks (build lightbox_ui_lupdate "
                                       "and translate them):\n") +
                        missing.join(QLatin1Char('\n'))));
    QVERIFY2(stale.isEmpty(), qPrintable(QStringLiteral("messages in lightbox_ko.ts that the sources no longer "
                                                        "have (build lightbox_ui_lupdate):\n") +
                                         stale.join(QLatin1Char('\n'))));
}

QTEST_APPLESS_MAIN(tst_Translations)
#include "tst_translations.moc"
