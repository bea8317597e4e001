#pragma once
// What every lightbox-cli command shares: its command line (Qt's QCommandLineParser, with a
// --help of its own, unknown options and missing values refused by name, numbers checked
// against their range) and the one-line error messages.

#include <QCommandLineParser>
#include <QString>
#include <QStringList>

#include <limits>
#include <string>
#include <vector>

namespace lightbox::cli {

/// Exit statuses: 0 done, 1 the work failed (a file, a model, the data), 2 the command line is
/// wrong (the message says which option and what it takes).
constexpr int kFailed = 1;
constexpr int kUsage = 2;

/// Prints "lightbox-cli: FILE: MESSAGE" (or the message alone when it already starts with
/// FILE) and returns kFailed.
int fail(const QString& file, const std::string& message);

/// One command's options and arguments.
///
///     CommandLine cl("info", "FILE", "Size, bit depth, ... of an image or DICOM file.");
///     cl.flag("json", "Print JSON.");
///     cl.option("frame", "N", "Frame to read (0-based).");
///     if (!cl.parse(argv, 1, 1))
///         return cl.exitCode();   // --help printed (0), or a usage error printed (2)
///     int frame = 0;
///     if (!cl.integer("frame", 0, kIntMax, frame))
///         return cl.exitCode();
class CommandLine {
public:
    static constexpr long long kIntMax = std::numeric_limits<int>::max();

    /// `arguments`: the positional arguments as the synopsis shows them ("FILE OUT.png").
    CommandLine(QString command, QString arguments, QString description);

    void flag(const QString& name, const QString& help);
    /// An option that takes a value; `required` ones are checked by parse().
    void option(const QString& name, const QString& valueName, const QString& help, bool required = false);

    /// Parses the command's arguments (without the program and command names): false when the
    /// command should stop with exitCode(): after --help, an unknown option, a missing value or
    /// required option, or fewer than `minPositional` / more than `maxPositional` (-1: any)
    /// positional arguments.
    bool parse(const QStringList& arguments, int minPositional, int maxPositional);
    int exitCode() const { return m_exitCode; }

    bool has(const QString& name) const;
    QString value(const QString& name) const;
    std::string text(const QString& name) const { return value(name).toStdString(); }
    QStringList positional() const { return m_parser.positionalArguments(); }

    /// The value of --name as a whole number in [minimum, maximum]; `out` stays as it is when
    /// the option is absent. False (after the message, exitCode() 2) when it is not one.
    bool integer(const QString& name, long long minimum, long long maximum, int& out);
    /// The value as a number in [minimum, maximum] (finite).
    bool real(const QString& name, double minimum, double maximum, double& out);
    /// The value, one of `allowed`.
    bool choice(const QString& name, const QStringList& allowed, QString& out);
    /// Prints "lightbox-cli COMMAND: MESSAGE" and the pointer to --help on one line; returns kUsage.
    int usageError(const QString& message);

    /// The full help: synopsis, description, options.
    QString helpText() const;
    QString command() const { return m_command; }

private:
    struct Spec {
        QString name, valueName, help;
        bool required = false;
    };
    QString m_command, m_arguments, m_description;
    std::vector<Spec> m_specs;
    QCommandLineParser m_parser;
    int m_exitCode = 0;
};

} // namespace lightbox::cli
