// Runs the dashboard: a GLFW window (native, or Emscripten's GLFW on a WebGL2 canvas) and, natively, headless
// EGL rendering for screenshots. The renderer is ImGui's OpenGL3 backend built for OpenGL ES 3 / WebGL2.
//
// Index of this file
// [SECTION] Frame (shared)
// [SECTION] Window (GLFW; page and native)
// [SECTION] Offscreen (native: EGL + PNG)
#include "shell/platform.h"

#include <GLFW/glfw3.h>
#include <backends/imgui_impl_glfw.h>
#include <backends/imgui_impl_opengl3.h>
#include <imgui.h>

#include <algorithm>
#include <cmath>
#include <csignal>

#include "core/error.h"
#include "shell/dashboard.h"
#include "shell/engine.h"

#if CAIRN_WASM
#include <emscripten.h>
#include <emscripten/html5.h>
#else
// Static so it cannot clash with another stb_image_write in the same program.
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>

#include "shell/imgui_impl_egl.h"
#endif

#if CAIRN_WASM
// Resizes the canvas's backing store the way glfwSetWindowSize does, and Emscripten's GLFW follows through its
// resize listener. glfwSetWindowSize itself takes a size equal to the screen's for a request to enter the Fullscreen
// API, and that is exactly the size of a page in a fullscreen or kiosk browser: the request is refused without a
// user gesture (or, where granted, fullscreens the canvas unasked), and the canvas kept its old size.
EM_JS(void, cairn_set_canvas_size, (int width, int height), { Browser.setCanvasSize(width, height); });
#endif

namespace cairn::shell {

//-----------------------------------------------------------------------------
// [SECTION] Frame (shared)
//-----------------------------------------------------------------------------

namespace {

void ensure_imgui_context() {
    if (ImGui::GetCurrentContext()) return;
    IMGUI_CHECKVERSION();
    ImGui::CreateContext();
    ImGui::GetIO().IniFilename = nullptr;
}

// One frame into the currently bound framebuffer of fb_w x fb_h pixels; new_frame_platform() updates ImGui's IO.
template <class PlatformNewFrame>
void render_frame(App& app, const char* font_path, int fb_w, int fb_h, PlatformNewFrame new_frame_platform) {
    // Fonts changed (first frame or a new scale): re-upload only the font texture. Destroying all device objects
    // would trip ImGui 1.86's OpenGL3 backend, which keeps its old buffer sizes and then writes past new buffers.
    ImTextureID uploaded = ImGui::GetIO().Fonts->TexID;
    if (dashboard_prepare(app, font_path) && uploaded) {
        ImGui_ImplOpenGL3_DestroyFontsTexture();
        ImGui_ImplOpenGL3_CreateFontsTexture();
    }
    ImGui_ImplOpenGL3_NewFrame();
    new_frame_platform();
    ImGui::NewFrame();
    dashboard_draw(app);
    ImGui::Render();
    glViewport(0, 0, fb_w, fb_h);
    auto bg = background_rgb();
    glClearColor(bg[0] / 255.0f, bg[1] / 255.0f, bg[2] / 255.0f, 1.0f);
    glClear(GL_COLOR_BUFFER_BIT);
    ImGui_ImplOpenGL3_RenderDrawData(ImGui::GetDrawData());
}

//-----------------------------------------------------------------------------
// [SECTION] Window (GLFW; page and native)
//-----------------------------------------------------------------------------

// Chained before ImGui's own callback (which calls it): latches key presses for the dashboard's shortcuts.
std::vector<int> g_pressed_keys;
void on_key(GLFWwindow*, int key, int, int action, int mods) {
    if (action == GLFW_PRESS && !(mods & (GLFW_MOD_CONTROL | GLFW_MOD_ALT | GLFW_MOD_SUPER))) g_pressed_keys.push_back(key);
}

struct WindowLoop {
    App* app = nullptr;
    GLFWwindow* window = nullptr;
    const char* font_path = nullptr;
    const char* canvas = "#canvas";
};

#if CAIRN_WASM
// The canvas fills the page (CSS); its backing store is CSS size x devicePixelRatio so text stays sharp, and
// ImGui works in those device pixels with app.ui_scale = devicePixelRatio. Emscripten's GLFW reports mouse
// positions in canvas pixels, so nothing else needs scaling.
void fit_canvas(WindowLoop& w) {
    double css_w = 0, css_h = 0;
    emscripten_get_element_css_size(w.canvas, &css_w, &css_h);
    double dpr = emscripten_get_device_pixel_ratio();
    int pw = std::max(1, static_cast<int>(std::lround(css_w * dpr))), ph = std::max(1, static_cast<int>(std::lround(css_h * dpr)));
    int cw = 0, ch = 0;
    glfwGetWindowSize(w.window, &cw, &ch);
    if (pw != cw || ph != ch) cairn_set_canvas_size(pw, ph);
    w.app->ui_scale = static_cast<float>(dpr);
}
#endif

void window_frame(void* arg) {
    auto& w = *static_cast<WindowLoop*>(arg);
    glfwPollEvents();
#if CAIRN_WASM
    fit_canvas(w);
#else
    float sx = 1, sy = 1;
    glfwGetWindowContentScale(w.window, &sx, &sy);
    w.app->ui_scale = std::max(sx, sy);
#endif
    engine_tick(*w.app, ImGui::GetIO().DeltaTime);
    w.app->pressed_keys.swap(g_pressed_keys);
    g_pressed_keys.clear();
    int fb_w = 0, fb_h = 0;
    glfwGetFramebufferSize(w.window, &fb_w, &fb_h);
    render_frame(*w.app, w.font_path, fb_w, fb_h, [] { ImGui_ImplGlfw_NewFrame(); });
    glfwSwapBuffers(w.window);
}

}  // namespace

#if !CAIRN_WASM
static volatile std::sig_atomic_t g_close_requested = 0;
void request_window_close() { g_close_requested = 1; }
#endif

void run_window(App& app, const WindowDesc& desc) {
    if (!glfwInit()) fail("gl_error", "dashboard: cannot initialise GLFW (no display? use --screenshot for headless rendering)");
    glfwWindowHint(GLFW_CLIENT_API, GLFW_OPENGL_ES_API);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MAJOR, 3);
    glfwWindowHint(GLFW_CONTEXT_VERSION_MINOR, 0);
#if !CAIRN_WASM
    glfwWindowHint(GLFW_CONTEXT_CREATION_API, GLFW_EGL_CONTEXT_API);
    glfwWindowHint(GLFW_SCALE_TO_MONITOR, GLFW_TRUE);
#endif
    static WindowLoop w;  // lives as long as the page's frame loop
    w.app = &app;
    w.font_path = desc.font_path ? desc.font_path : kDefaultFontPath;
    w.canvas = desc.canvas ? desc.canvas : "#canvas";
    int width = desc.width > 0 ? desc.width : 1280, height = desc.height > 0 ? desc.height : 800;
    w.window = glfwCreateWindow(width, height, desc.title ? desc.title : "Cairn", nullptr, nullptr);
    if (!w.window) {
        glfwTerminate();
        fail("gl_error", "dashboard: cannot create a window with an OpenGL ES 3 context");
    }
    glfwMakeContextCurrent(w.window);
    glfwSwapInterval(1);
    ensure_imgui_context();
    glfwSetKeyCallback(w.window, on_key);  // before ImGui installs its callbacks, so it chains to this one
    ImGui_ImplGlfw_InitForOpenGL(w.window, true);
    ImGui_ImplOpenGL3_Init("#version 300 es");
#if CAIRN_WASM
    fit_canvas(w);
    emscripten_set_main_loop_arg(window_frame, &w, 0, false);
#else
    while (!glfwWindowShouldClose(w.window) && !g_close_requested) window_frame(&w);
    ImGui_ImplOpenGL3_Shutdown();
    ImGui_ImplGlfw_Shutdown();
    ImGui::DestroyContext();
    glfwDestroyWindow(w.window);
    glfwTerminate();
#endif
}

//-----------------------------------------------------------------------------
// [SECTION] Offscreen (native: EGL + PNG)
//-----------------------------------------------------------------------------

#if !CAIRN_WASM
Image render_offscreen(App& app, const OffscreenDesc& desc) {
    static bool ready = false;
    if (!ready) {
        ensure_imgui_context();
        if (!ImGui_ImplEGL_Init()) fail("gl_error", std::string("dashboard: headless rendering unavailable: ") + ImGui_ImplEGL_LastError());
        ImGui_ImplOpenGL3_Init("#version 300 es");
        ready = true;
    }
    float scale = desc.scale > 0 ? desc.scale : 1.0f;
    int w = static_cast<int>(std::lround((desc.width > 0 ? desc.width : 1280) * scale));
    int h = static_cast<int>(std::lround((desc.height > 0 ? desc.height : 800) * scale));
    if (w < 64 || h < 64 || w > 8192 || h > 8192)
        fail("invalid_argument", "dashboard: image size " + std::to_string(w) + "x" + std::to_string(h) + " is outside 64..8192 pixels");
    app.ui_scale = scale;
    ImGui_ImplEGL_SetSize(w, h);
    int frames = desc.frames > 0 ? desc.frames : 3;
    const char* font = desc.font_path ? desc.font_path : kDefaultFontPath;
    for (int i = 0; i < frames; ++i) render_frame(app, font, w, h, [] { ImGui_ImplEGL_NewFrame(1.0f / 60.0f); });
    glFinish();
    // A GL error means the image cannot be trusted (e.g. a failed upload draws nothing): fail loudly.
    if (GLenum err = glGetError(); err != GL_NO_ERROR)
        fail("gl_error", "dashboard: OpenGL error " + std::to_string(err) + " while rendering offscreen");
    Image img;
    img.width = w, img.height = h;
    img.rgba.resize(static_cast<size_t>(w) * h * 4);
    ImGui_ImplEGL_ReadPixels(img.rgba.data());
    return img;
}

void write_png(const Image& image, const std::string& path) {
    if (!stbi_write_png(path.c_str(), image.width, image.height, 4, image.rgba.data(), image.width * 4))
        fail("io_error", "dashboard: cannot write PNG '" + path + "'");
}
#endif

}  // namespace cairn::shell
