// Placeholder until the SIMD kernels land: the simd table forwards to reference.
#include "core/kernels.h"

namespace cairn {
const Kernels& simd_kernels() {
    static const Kernels k = [] {
        Kernels t = reference_kernels();
        t.name = "simd";
        return t;
    }();
    return k;
}
}  // namespace cairn
