// Dear ImGui compile-time configuration for Cairn (IMGUI_USER_CONFIG). ImGui's asserts catch API misuse (an
// unmatched Begin/End, a bad ID stack); release builds compile them out, so route them to a counter the
// screenshot tests check, and to stderr.
#pragma once
#include <cstdio>

namespace cairn::shell {
inline int& imgui_assert_count() {
    static int n = 0;
    return n;
}
}  // namespace cairn::shell

#define IM_ASSERT(_EXPR)                                                                                   \
    do {                                                                                                   \
        if (!(_EXPR)) {                                                                                    \
            ++cairn::shell::imgui_assert_count();                                                          \
            std::fprintf(stderr, "dashboard: ImGui check failed: %s (%s:%d)\n", #_EXPR, __FILE__, __LINE__); \
        }                                                                                                  \
    } while (0)

// Widgets report their label and rectangle to shell/widget_map.cpp, which tests use to click them (off by default).
#define IMGUI_ENABLE_TEST_ENGINE
