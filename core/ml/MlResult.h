#pragma once

// core/ml shares the header-only Result type with the rest of Lightbox; it links nothing
// from core/imaging.
#include <base/Result.h>

namespace lightbox::ml {

using lightbox::Result;

/// The outcome of an operation that returns no value: ok(), or failure with a message.
using Status = Result<bool>;

inline Status success()
{
    return Status(true);
}

} // namespace lightbox::ml
