#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace lightbox::ml {

/// A small JSON value (null, bool, number, string, array, object), enough for model cards,
/// read and written by nlohmann-json (Json.cpp). Reading is forgiving where the cards need it:
/// a missing member reads as null, a wrong type gives the caller's fallback, and numbers
/// (doubles) convert to int clamped to its range. Objects are sorted maps, so keys are written
/// in order.
class Json {
public:
    enum class Type { Null, Bool, Number, String, Array, Object };
    using Array = std::vector<Json>;
    using Object = std::map<std::string, Json>;

    Json() = default;
    Json(std::nullptr_t) {}
    Json(bool b) : m_type(Type::Bool), m_bool(b) {}
    Json(int v) : m_type(Type::Number), m_number(v) {}
    Json(long long v) : m_type(Type::Number), m_number(static_cast<double>(v)) {}
    Json(double v) : m_type(Type::Number), m_number(v) {}
    Json(const char* s) : m_type(Type::String), m_string(s) {}
    Json(std::string s) : m_type(Type::String), m_string(std::move(s)) {}
    Json(Array a) : m_type(Type::Array), m_array(std::make_shared<Array>(std::move(a))) {}
    Json(Object o) : m_type(Type::Object), m_object(std::make_shared<Object>(std::move(o))) {}

    Type type() const { return m_type; }
    bool isNull() const { return m_type == Type::Null; }
    bool isBool() const { return m_type == Type::Bool; }
    bool isNumber() const { return m_type == Type::Number; }
    bool isString() const { return m_type == Type::String; }
    bool isArray() const { return m_type == Type::Array; }
    bool isObject() const { return m_type == Type::Object; }

    bool toBool(bool fallback = false) const { return isBool() ? m_bool : fallback; }
    double toNumber(double fallback = 0.0) const { return isNumber() ? m_number : fallback; }
    /// The number truncated toward zero and clamped to int's range (a card's 1e10 pixels reads
    /// as INT_MAX and is refused by the range checks, not converted with undefined behaviour).
    int toInt(int fallback = 0) const;
    std::string toString(const std::string& fallback = {}) const { return isString() ? m_string : fallback; }
    /// The elements of an array (empty for anything else).
    const Array& array() const;
    /// The members of an object (empty for anything else).
    const Object& object() const;
    /// Member `key` of an object, or a null value when absent or not an object.
    const Json& operator[](const std::string& key) const;
    bool contains(const std::string& key) const;

    /// Compact (indent < 0) or indented text.
    std::string dump(int indent = 2) const;
    /// Parses `text`; on failure returns false and sets `error` ("line 3: expected ':'").
    static bool parse(const std::string& text, Json& out, std::string& error);

private:
    void dumpTo(std::string& out, int indent, int depth) const;
    Type m_type = Type::Null;
    bool m_bool = false;
    double m_number = 0.0;
    std::string m_string;
    std::shared_ptr<Array> m_array;
    std::shared_ptr<Object> m_object;
};

} // namespace lightbox::ml
