#pragma once

#include <optional>
#include <string>
#include <utility>

namespace lightbox {

/// The outcome of an operation that can fail on bad input: a value, or a message the user
/// can act on ("truncated pixel data: 1024 of 8192 bytes"). Expected failures travel as a
/// Result; exceptions stay inside the library that raised them.
template <typename T> class Result {
public:
    Result(T value) : m_value(std::move(value)) {}
    static Result failure(std::string message)
    {
        Result r;
        r.m_error = std::move(message);
        return r;
    }

    bool ok() const { return m_value.has_value(); }
    explicit operator bool() const { return ok(); }
    const T& value() const& { return *m_value; }
    T& value() & { return *m_value; }
    T&& value() && { return std::move(*m_value); }
    const T* operator->() const { return &*m_value; }
    T* operator->() { return &*m_value; }
    const std::string& error() const { return m_error; }

private:
    Result() = default;
    std::optional<T> m_value;
    std::string m_error;
};

} // namespace lightbox
