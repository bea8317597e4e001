#pragma once

#include "MlResult.h"

#include <string>

namespace lightbox::ml {

/// Checks that `path` is a sound zip archive, as bundles and TorchScript files are, before
/// LibTorch reads it: the end records and the central directory lie inside the file, every
/// entry's data too (stored or deflated, sizes consistent), and every entry's CRC-32 matches
/// its data. LibTorch 1.13's reader trusts all of this: a damaged file made it allocate the
/// gigabytes a size field claimed or crash in its TorchScript parser. Reads the file once.
/// Fails with what is wrong ("the checksum of archive/data/3 does not match").
Status checkZipArchive(const std::string& path);

} // namespace lightbox::ml
