#include "Json.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>

namespace lightbox::ml {

namespace {

const Json::Array kEmptyArray;
const Json::Object kEmptyObject;
const Json kNull;

void escapeTo(std::string& out, const std::string& s)
{
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

class Parser {
public:
    explicit Parser(const std::string& text) : m_text(text) {}

    bool parseDocument(Json& out, std::string& error)
    {
        skipSpace();
        if (!parseValue(out, 0))
            return report(error);
        skipSpace();
        if (m_pos != m_text.size()) {
            m_error = "unexpected text after the value";
            return report(error);
        }
        return true;
    }

private:
    bool report(std::string& error) const
    {
        int line = 1;
        for (size_t i = 0; i < m_pos && i < m_text.size(); ++i)
            line += m_text[i] == '\n';
        error = "line " + std::to_string(line) + ": " + m_error;
        return false;
    }
    void skipSpace()
    {
        while (m_pos < m_text.size() &&
               (m_text[m_pos] == ' ' || m_text[m_pos] == '\n' || m_text[m_pos] == '\r' || m_text[m_pos] == '\t'))
            ++m_pos;
    }
    bool fail(const char* msg)
    {
        m_error = msg;
        return false;
    }
    bool literal(const char* word)
    {
        const std::string w(word);
        if (m_text.compare(m_pos, w.size(), w) != 0)
            return fail("invalid literal");
        m_pos += w.size();
        return true;
    }

    bool parseValue(Json& out, int depth)
    {
        if (depth > 64)
            return fail("nesting too deep");
        if (m_pos >= m_text.size())
            return fail("unexpected end of text");
        const char c = m_text[m_pos];
        if (c == '{')
            return parseObject(out, depth);
        if (c == '[')
            return parseArray(out, depth);
        if (c == '"') {
            std::string s;
            if (!parseString(s))
                return false;
            out = Json(std::move(s));
            return true;
        }
        if (c == 't') {
            out = Json(true);
            return literal("true");
        }
        if (c == 'f') {
            out = Json(false);
            return literal("false");
        }
        if (c == 'n') {
            out = Json();
            return literal("null");
        }
        if (c == '-' || (c >= '0' && c <= '9'))
            return parseNumber(out);
        return fail("unexpected character");
    }

    bool parseNumber(Json& out)
    {
        const size_t start = m_pos;
        if (m_text[m_pos] == '-')
            ++m_pos;
        auto digits = [&] {
            const size_t s = m_pos;
            while (m_pos < m_text.size() && m_text[m_pos] >= '0' && m_text[m_pos] <= '9')
                ++m_pos;
            return m_pos > s;
        };
        if (!digits())
            return fail("invalid number");
        if (m_pos < m_text.size() && m_text[m_pos] == '.') {
            ++m_pos;
            if (!digits())
                return fail("invalid number");
        }
        if (m_pos < m_text.size() && (m_text[m_pos] == 'e' || m_text[m_pos] == 'E')) {
            ++m_pos;
            if (m_pos < m_text.size() && (m_text[m_pos] == '+' || m_text[m_pos] == '-'))
                ++m_pos;
            if (!digits())
                return fail("invalid number");
        }
        out = Json(std::strtod(m_text.substr(start, m_pos - start).c_str(), nullptr));
        return true;
    }

    static void appendUtf8(std::string& s, unsigned cp)
    {
        if (cp < 0x80) {
            s += static_cast<char>(cp);
        } else if (cp < 0x800) {
            s += static_cast<char>(0xC0 | (cp >> 6));
            s += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
            s += static_cast<char>(0xE0 | (cp >> 12));
            s += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
            s += static_cast<char>(0x80 | (cp & 0x3F));
        }
    }

    bool parseString(std::string& s)
    {
        ++m_pos; // opening quote
        while (m_pos < m_text.size()) {
            const char c = m_text[m_pos++];
            if (c == '"')
                return true;
            if (static_cast<unsigned char>(c) < 0x20)
                return fail("control character in string");
            if (c != '\\') {
                s += c;
                continue;
            }
            if (m_pos >= m_text.size())
                break;
            const char e = m_text[m_pos++];
            switch (e) {
            case '"': s += '"'; break;
            case '\\': s += '\\'; break;
            case '/': s += '/'; break;
            case 'n': s += '\n'; break;
            case 'r': s += '\r'; break;
            case 't': s += '\t'; break;
            case 'b': s += '\b'; break;
            case 'f': s += '\f'; break;
            case 'u': {
                if (m_pos + 4 > m_text.size())
                    return fail("invalid \\u escape");
                unsigned cp = 0;
                for (int i = 0; i < 4; ++i) {
                    const char h = m_text[m_pos++];
                    cp <<= 4;
                    if (h >= '0' && h <= '9')
                        cp |= h - '0';
                    else if (h >= 'a' && h <= 'f')
                        cp |= h - 'a' + 10;
                    else if (h >= 'A' && h <= 'F')
                        cp |= h - 'A' + 10;
                    else
                        return fail("invalid \\u escape");
                }
                appendUtf8(s, cp);
                break;
            }
            default: return fail("invalid escape");
            }
        }
        return fail("unterminated string");
    }

    bool parseArray(Json& out, int depth)
    {
        ++m_pos;
        Json::Array items;
        skipSpace();
        if (m_pos < m_text.size() && m_text[m_pos] == ']') {
            ++m_pos;
            out = Json(std::move(items));
            return true;
        }
        for (;;) {
            skipSpace();
            Json v;
            if (!parseValue(v, depth + 1))
                return false;
            items.push_back(std::move(v));
            skipSpace();
            if (m_pos >= m_text.size())
                return fail("unterminated array");
            const char c = m_text[m_pos++];
            if (c == ']')
                break;
            if (c != ',')
                return fail("expected ',' or ']'");
        }
        out = Json(std::move(items));
        return true;
    }

    bool parseObject(Json& out, int depth)
    {
        ++m_pos;
        Json::Object members;
        skipSpace();
        if (m_pos < m_text.size() && m_text[m_pos] == '}') {
            ++m_pos;
            out = Json(std::move(members));
            return true;
        }
        for (;;) {
            skipSpace();
            if (m_pos >= m_text.size() || m_text[m_pos] != '"')
                return fail("expected a string key");
            std::string key;
            if (!parseString(key))
                return false;
            skipSpace();
            if (m_pos >= m_text.size() || m_text[m_pos] != ':')
                return fail("expected ':'");
            ++m_pos;
            skipSpace();
            Json v;
            if (!parseValue(v, depth + 1))
                return false;
            members[key] = std::move(v);
            skipSpace();
            if (m_pos >= m_text.size())
                return fail("unterminated object");
            const char c = m_text[m_pos++];
            if (c == '}')
                break;
            if (c != ',')
                return fail("expected ',' or '}'");
        }
        out = Json(std::move(members));
        return true;
    }

    const std::string& m_text;
    size_t m_pos = 0;
    std::string m_error;
};

} // namespace

int Json::toInt(int fallback) const
{
    if (!isNumber() || std::isnan(m_number))
        return fallback;
    if (m_number >= static_cast<double>(std::numeric_limits<int>::max()))
        return std::numeric_limits<int>::max();
    if (m_number <= static_cast<double>(std::numeric_limits<int>::min()))
        return std::numeric_limits<int>::min();
    return static_cast<int>(m_number);
}

const Json::Array& Json::array() const
{
    return m_array ? *m_array : kEmptyArray;
}
const Json::Object& Json::object() const
{
    return m_object ? *m_object : kEmptyObject;
}

const Json& Json::operator[](const std::string& key) const
{
    if (!m_object)
        return kNull;
    auto it = m_object->find(key);
    return it == m_object->end() ? kNull : it->second;
}

bool Json::contains(const std::string& key) const
{
    return m_object && m_object->count(key) != 0;
}

std::string Json::dump(int indent) const
{
    std::string out;
    dumpTo(out, indent, 0);
    return out;
}

void Json::dumpTo(std::string& out, int indent, int depth) const
{
    auto newline = [&](int d) {
        if (indent < 0)
            return;
        out += '\n';
        out.append(static_cast<size_t>(indent * d), ' ');
    };
    switch (m_type) {
    case Type::Null: out += "null"; break;
    case Type::Bool: out += m_bool ? "true" : "false"; break;
    case Type::Number: {
        if (!std::isfinite(m_number)) {
            out += "null";
        } else if (m_number == std::floor(m_number) && std::fabs(m_number) < 1e15) {
            out += std::to_string(static_cast<long long>(m_number));
        } else {
            char buf[32];
            std::snprintf(buf, sizeof buf, "%.17g", m_number);
            out += buf;
        }
        break;
    }
    case Type::String: escapeTo(out, m_string); break;
    case Type::Array: {
        out += '[';
        const auto& a = array();
        for (size_t i = 0; i < a.size(); ++i) {
            if (i)
                out += ',';
            newline(depth + 1);
            a[i].dumpTo(out, indent, depth + 1);
        }
        if (!a.empty())
            newline(depth);
        out += ']';
        break;
    }
    case Type::Object: {
        out += '{';
        bool first = true;
        for (const auto& [k, v] : object()) {
            if (!first)
                out += ',';
            first = false;
            newline(depth + 1);
            escapeTo(out, k);
            out += indent < 0 ? ":" : ": ";
            v.dumpTo(out, indent, depth + 1);
        }
        if (!object().empty())
            newline(depth);
        out += '}';
        break;
    }
    }
}

bool Json::parse(const std::string& text, Json& out, std::string& error)
{
    Parser p(text);
    Json v;
    if (!p.parseDocument(v, error))
        return false;
    out = std::move(v);
    return true;
}

} // namespace lightbox::ml
