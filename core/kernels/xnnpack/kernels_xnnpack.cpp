// Placeholder until the XNNPACK backend lands: forwards to simd.
#include "core/kernels.h"

namespace cairn {
const Kernels& xnnpack_kernels() {
    static const Kernels k = [] {
        Kernels t = simd_kernels();
        t.name = "xnnpack";
        return t;
    }();
    return k;
}
}  // namespace cairn
