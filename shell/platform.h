// Running the dashboard: in a window (GLFW natively, Emscripten's GLFW on a WebGL2 canvas in the page) or
// headless into an offscreen framebuffer (native only: EGL surfaceless + GLES3) for screenshots and tests.
// Both use ImGui's own GLFW and OpenGL3 backends built for OpenGL ES 3 / WebGL2, so the renderer is the same
// code everywhere; the only platform code is in shell/platform.cpp and shell/imgui_impl_egl.cpp.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "shell/app.h"

namespace cairn::shell {

struct WindowDesc {
    int width = 0, height = 0;       // 0: 1280 x 800 (in the page: the canvas's CSS size)
    const char* title = nullptr;     // nullptr: "Cairn"
    const char* font_path = nullptr; // nullptr: kDefaultFontPath
    const char* canvas = nullptr;    // page only: CSS selector of the canvas, nullptr: "#canvas"
};

// Runs until the window closes (natively). In the page it installs the browser's frame loop and returns at once;
// `app` must outlive the page. Throws cairn::Error("gl_error") when no window/context can be made.
void run_window(App& app, const WindowDesc& desc);
#if !CAIRN_WASM
// Asks the native window loop to close after the current frame, as the close button does. Async-signal-safe, so
// a SIGTERM/SIGINT handler may call it: the store is never left mid-commit by a plain `kill`.
void request_window_close();
#endif

#if !CAIRN_WASM
struct OffscreenDesc {
    int width = 0, height = 0;       // logical size; 0: 1280 x 800
    float scale = 0;                 // device pixels per unit; 0: 1 (the framebuffer is size * scale)
    int frames = 0;                  // frames rendered before reading back (layout settles); 0: 3
    const char* font_path = nullptr; // nullptr: kDefaultFontPath
};

struct Image {
    int width = 0, height = 0;
    std::vector<uint8_t> rgba;       // top row first
    const uint8_t* at(int x, int y) const { return &rgba[(static_cast<size_t>(y) * width + x) * 4]; }
};

// Renders app headless and returns the last frame. app.probes holds where things were drawn, in image pixels.
Image render_offscreen(App& app, const OffscreenDesc& desc);
// Writes PNG; throws cairn::Error("io_error") naming the path on failure.
void write_png(const Image& image, const std::string& path);
#endif

}  // namespace cairn::shell
