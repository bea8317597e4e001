#include "Json.h"

// Reading and writing are nlohmann-json's (Debian's nlohmann-json3-dev, header-only and
// private to this file); Json itself stays the small typed value the cards are read through,
// with fallbacks and clamped conversions instead of exceptions.
#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>
#include <stdexcept>

namespace lightbox::ml {

namespace {

using Nl = nlohmann::json;

const Json::Array kEmptyArray;
const Json::Object kEmptyObject;
const Json kNull;

/// Deeper documents are refused: no card nests beyond a few levels, and the conversion below
/// recurses.
constexpr int kMaxDepth = 64;

struct TooDeep : std::runtime_error {
    TooDeep() : std::runtime_error("nesting too deep") {}
};

Json fromNl(const Nl& v)
{
    switch (v.type()) {
    case Nl::value_t::boolean: return Json(v.get<bool>());
    case Nl::value_t::number_integer: return Json(static_cast<double>(v.get<std::int64_t>()));
    case Nl::value_t::number_unsigned: return Json(static_cast<double>(v.get<std::uint64_t>()));
    case Nl::value_t::number_float: return Json(v.get<double>());
    case Nl::value_t::string: return Json(v.get_ref<const std::string&>());
    case Nl::value_t::array: {
        Json::Array a;
        a.reserve(v.size());
        for (const Nl& e : v)
            a.push_back(fromNl(e));
        return Json(std::move(a));
    }
    case Nl::value_t::object: {
        Json::Object o;
        for (auto it = v.begin(); it != v.end(); ++it)
            o.emplace(it.key(), fromNl(it.value()));
        return Json(std::move(o));
    }
    default: return Json();
    }
}

Nl toNl(const Json& v)
{
    switch (v.type()) {
    case Json::Type::Null: return nullptr;
    case Json::Type::Bool: return v.toBool();
    case Json::Type::Number: {
        const double x = v.toNumber();
        if (!std::isfinite(x))
            return nullptr; // JSON has no NaN or infinity
        if (x == std::floor(x) && std::fabs(x) < 1e15)
            return static_cast<std::int64_t>(x); // counts and sizes read as integers: "224", not "224.0"
        return x;
    }
    case Json::Type::String: return v.toString();
    case Json::Type::Array: {
        Nl a = Nl::array();
        for (const Json& e : v.array())
            a.push_back(toNl(e));
        return a;
    }
    case Json::Type::Object: {
        Nl o = Nl::object();
        for (const auto& [k, e] : v.object())
            o[k] = toNl(e);
        return o;
    }
    }
    return nullptr;
}

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
    // Strings that are not valid UTF-8 are written with U+FFFD rather than refused.
    return toNl(*this).dump(indent < 0 ? -1 : indent, ' ', false, Nl::error_handler_t::replace);
}

bool Json::parse(const std::string& text, Json& out, std::string& error)
{
    try {
        const Nl doc = Nl::parse(text, [](int depth, Nl::parse_event_t, Nl&) {
            if (depth > kMaxDepth)
                throw TooDeep();
            return true;
        });
        out = fromNl(doc);
        return true;
    } catch (const Nl::exception& e) {
        // "[json.exception.parse_error.101] parse error at line 3, column 5: syntax error ..."
        error = e.what();
        if (error.rfind("[json.exception.", 0) == 0 && error.find("] ") != std::string::npos)
            error.erase(0, error.find("] ") + 2);
        const std::string at = "parse error at ";
        if (error.rfind(at, 0) == 0)
            error.erase(0, at.size());
        // "; last read: '...'" quotes the raw bytes, which need not be text: left out.
        const auto quote = error.find("; last read: '");
        if (quote != std::string::npos) {
            const auto end = error.find("'; ", quote + 14);
            error.erase(quote, end == std::string::npos ? std::string::npos : end + 1 - quote);
        }
    } catch (const TooDeep& e) {
        error = e.what();
    } catch (const std::exception& e) {
        error = e.what();
    }
    return false;
}

} // namespace lightbox::ml
