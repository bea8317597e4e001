#include "CommandLine.h"

#include <QCommandLineOption>

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace lightbox::cli {

int fail(const QString& file, const std::string& message)
{
    // Messages that already name the file ("PATH is empty") are not prefixed with it again.
    const std::string name = file.toStdString();
    if (!name.empty() && message.rfind(name, 0) == 0)
        std::fprintf(stderr, "lightbox-cli: %s\n", message.c_str());
    else
        std::fprintf(stderr, "lightbox-cli: %s: %s\n", qPrintable(file), message.c_str());
    return kFailed;
}

CommandLine::CommandLine(QString command, QString arguments, QString description)
    : m_command(std::move(command)), m_arguments(std::move(arguments)), m_description(std::move(description))
{
    m_parser.setSingleDashWordOptionMode(QCommandLineParser::ParseAsLongOptions);
    m_parser.addOption(QCommandLineOption(QStringList{QStringLiteral("h"), QStringLiteral("help")}));
}

void CommandLine::flag(const QString& name, const QString& help)
{
    m_parser.addOption(QCommandLineOption(name, help));
    m_specs.push_back({name, QString(), help, false});
}

void CommandLine::option(const QString& name, const QString& valueName, const QString& help, bool required)
{
    m_parser.addOption(QCommandLineOption(name, help, valueName));
    m_specs.push_back({name, valueName, help, required});
}

bool CommandLine::parse(const QStringList& arguments, int minPositional, int maxPositional)
{
    // QCommandLineParser expects the program name first.
    if (!m_parser.parse(QStringList{QStringLiteral("lightbox-cli")} + arguments)) {
        // "Unknown option 'epoch'." / "Missing value after '--frame'."
        QString text = m_parser.errorText();
        if (text.endsWith(QLatin1Char('.')))
            text.chop(1);
        text.replace(QStringLiteral("option '"), QStringLiteral("option '--"));
        usageError(text);
        return false;
    }
    if (m_parser.isSet(QStringLiteral("help"))) {
        std::printf("%s", qPrintable(helpText()));
        m_exitCode = 0;
        return false;
    }
    for (const Spec& s : m_specs)
        if (s.required && !m_parser.isSet(s.name)) {
            usageError(QStringLiteral("--%1 %2 is required").arg(s.name, s.valueName));
            return false;
        }
    const auto count = m_parser.positionalArguments().size();
    if (count < minPositional || (maxPositional >= 0 && count > maxPositional)) {
        const QString what = m_arguments.isEmpty() ? QStringLiteral("no arguments besides its options")
                                                   : QStringLiteral("%1 besides its options").arg(m_arguments);
        usageError(QStringLiteral("takes %1 (got %2: %3)")
                       .arg(what)
                       .arg(count)
                       .arg(count ? m_parser.positionalArguments().join(QLatin1Char(' ')) : QStringLiteral("none")));
        return false;
    }
    return true;
}

bool CommandLine::has(const QString& name) const
{
    return m_parser.isSet(name);
}

QString CommandLine::value(const QString& name) const
{
    return m_parser.value(name);
}

bool CommandLine::integer(const QString& name, long long minimum, long long maximum, int& out)
{
    if (!has(name))
        return true;
    bool ok = false;
    const long long v = value(name).trimmed().toLongLong(&ok);
    if (!ok || v < minimum || v > maximum) {
        const QString range = maximum == kIntMax ? QStringLiteral("%1 or more").arg(minimum)
                                                 : QStringLiteral("from %1 to %2").arg(minimum).arg(maximum);
        usageError(QStringLiteral("--%1 must be a whole number %2 (got '%3')").arg(name, range, value(name)));
        return false;
    }
    out = static_cast<int>(v);
    return true;
}

bool CommandLine::real(const QString& name, double minimum, double maximum, double& out)
{
    if (!has(name))
        return true;
    bool ok = false;
    const double v = value(name).trimmed().toDouble(&ok);
    if (!ok || !std::isfinite(v) || v < minimum || v > maximum) {
        usageError(QStringLiteral("--%1 must be a number from %2 to %3 (got '%4')")
                       .arg(name)
                       .arg(minimum)
                       .arg(maximum)
                       .arg(value(name)));
        return false;
    }
    out = v;
    return true;
}

bool CommandLine::choice(const QString& name, const QStringList& allowed, QString& out)
{
    if (!has(name))
        return true;
    if (!allowed.contains(value(name))) {
        usageError(QStringLiteral("--%1 must be %2 (got '%3')")
                       .arg(name,
                            allowed.size() > 1 ? allowed.mid(0, allowed.size() - 1).join(QStringLiteral(", ")) +
                                                     QStringLiteral(" or ") + allowed.last()
                                               : allowed.value(0),
                            value(name)));
        return false;
    }
    out = value(name);
    return true;
}

int CommandLine::usageError(const QString& message)
{
    std::fprintf(stderr, "lightbox-cli %s: %s (lightbox-cli %s --help shows the options)\n", qPrintable(m_command),
                 qPrintable(message), qPrintable(m_command));
    m_exitCode = kUsage;
    return kUsage;
}

namespace {

/// `text` wrapped at 100 columns, continuation lines indented by `indent`; the first line
/// starts at `column`.
QString wrapped(const QString& text, int indent, int column)
{
    QString out;
    bool first = true;
    for (const QString& w : text.split(QLatin1Char(' '), Qt::SkipEmptyParts)) {
        if (!first && column + 1 + w.size() > 100) {
            out += QLatin1Char('\n') + QString(indent, QLatin1Char(' '));
            column = indent;
            first = true;
        }
        if (!first) {
            out += QLatin1Char(' ');
            ++column;
        }
        out += w;
        column += static_cast<int>(w.size());
        first = false;
    }
    return out;
}

} // namespace

QString CommandLine::helpText() const
{
    QString out =
        QStringLiteral("usage: lightbox-cli %1%2%3\n\n%4\n")
            .arg(m_command, m_specs.empty() ? QString() : QStringLiteral(" [options]"),
                 m_arguments.isEmpty() ? QString() : QLatin1Char(' ') + m_arguments, wrapped(m_description, 0, 0));
    if (m_specs.empty())
        return out;
    out += QStringLiteral("\noptions:\n");
    int width = 0;
    std::vector<QString> heads;
    for (const Spec& s : m_specs) {
        heads.push_back(QStringLiteral("--") + s.name +
                        (s.valueName.isEmpty() ? QString() : QLatin1Char(' ') + s.valueName) +
                        (s.required ? QStringLiteral(" (required)") : QString()));
        width = std::max(width, static_cast<int>(heads.back().size()));
    }
    width = std::min(width, 28);
    const int indent = width + 4;
    for (size_t i = 0; i < m_specs.size(); ++i) {
        // A head too long for its column gets a line of its own.
        if (heads[i].size() > width)
            out += QStringLiteral("  ") + heads[i] + QLatin1Char('\n') + QString(indent, QLatin1Char(' ')) +
                   wrapped(m_specs[i].help, indent, indent) + QLatin1Char('\n');
        else
            out += QStringLiteral("  ") + heads[i].leftJustified(width) + QStringLiteral("  ") +
                   wrapped(m_specs[i].help, indent, indent) + QLatin1Char('\n');
    }
    return out;
}

} // namespace lightbox::cli
