// libFuzzer entry point; what one input does is in targets/FuzzTargets.h.
#include "targets/FuzzTargets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    (void)lightbox::fuzz::jpeg2000(data, size);
    return 0;
}
