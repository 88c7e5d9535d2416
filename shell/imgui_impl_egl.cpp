// Headless platform backend: see imgui_impl_egl.h.
#include "shell/imgui_impl_egl.h"

#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GLES3/gl3.h>
#include <imgui.h>

#include <cstring>
#include <vector>

namespace {

struct Backend {
    EGLDisplay display = EGL_NO_DISPLAY;
    EGLContext context = EGL_NO_CONTEXT;
    GLuint fbo = 0, color = 0;
    int width = 0, height = 0;
    const char* error = "";
} g;

}  // namespace

const char* ImGui_ImplEGL_LastError() { return g.error; }

bool ImGui_ImplEGL_Init() {
    if (g.context != EGL_NO_CONTEXT) return true;
    auto get_platform_display = reinterpret_cast<PFNEGLGETPLATFORMDISPLAYEXTPROC>(eglGetProcAddress("eglGetPlatformDisplayEXT"));
    if (!get_platform_display) return g.error = "EGL has no eglGetPlatformDisplayEXT", false;
    g.display = get_platform_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
    if (g.display == EGL_NO_DISPLAY || !eglInitialize(g.display, nullptr, nullptr))
        return g.error = "cannot open Mesa's surfaceless EGL display (is libegl-mesa0 installed?)", false;
    // No surface bits: the surfaceless platform has no window or pbuffer configs, and we render to a framebuffer.
    const EGLint config_attribs[] = {EGL_RENDERABLE_TYPE, EGL_OPENGL_ES3_BIT, EGL_SURFACE_TYPE, 0, EGL_NONE};
    EGLConfig config = nullptr;
    EGLint count = 0;
    if (!eglChooseConfig(g.display, config_attribs, &config, 1, &count) || count < 1)
        return g.error = "no EGL config renders OpenGL ES 3", false;
    eglBindAPI(EGL_OPENGL_ES_API);
    const EGLint context_attribs[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 0, EGL_NONE};
    g.context = eglCreateContext(g.display, config, EGL_NO_CONTEXT, context_attribs);
    if (g.context == EGL_NO_CONTEXT) return g.error = "cannot create an OpenGL ES 3 context", false;
    if (!eglMakeCurrent(g.display, EGL_NO_SURFACE, EGL_NO_SURFACE, g.context))
        return g.error = "cannot make the surfaceless context current", false;
    ImGuiIO& io = ImGui::GetIO();
    io.BackendPlatformName = "imgui_impl_egl";
    return true;
}

void ImGui_ImplEGL_SetSize(int width, int height) {
    if (g.fbo && width == g.width && height == g.height) return;
    if (!g.fbo) glGenFramebuffers(1, &g.fbo);
    if (!g.color) glGenRenderbuffers(1, &g.color);
    glBindRenderbuffer(GL_RENDERBUFFER, g.color);
    glRenderbufferStorage(GL_RENDERBUFFER, GL_RGBA8, width, height);
    glBindFramebuffer(GL_FRAMEBUFFER, g.fbo);
    glFramebufferRenderbuffer(GL_FRAMEBUFFER, GL_COLOR_ATTACHMENT0, GL_RENDERBUFFER, g.color);
    g.width = width, g.height = height;
}

void ImGui_ImplEGL_NewFrame(float delta_s) {
    ImGuiIO& io = ImGui::GetIO();
    glBindFramebuffer(GL_FRAMEBUFFER, g.fbo);
    io.DisplaySize = ImVec2(static_cast<float>(g.width), static_cast<float>(g.height));
    io.DisplayFramebufferScale = ImVec2(1, 1);
    io.DeltaTime = delta_s > 0 ? delta_s : 1.0f / 60.0f;
    io.MousePos = ImVec2(-FLT_MAX, -FLT_MAX);
}

void ImGui_ImplEGL_ReadPixels(uint8_t* rgba) {
    glBindFramebuffer(GL_FRAMEBUFFER, g.fbo);
    glPixelStorei(GL_PACK_ALIGNMENT, 1);
    size_t row = static_cast<size_t>(g.width) * 4;
    std::vector<uint8_t> flipped(row * g.height);
    glReadPixels(0, 0, g.width, g.height, GL_RGBA, GL_UNSIGNED_BYTE, flipped.data());
    for (int y = 0; y < g.height; ++y) std::memcpy(rgba + row * y, flipped.data() + row * (g.height - 1 - y), row);
}

void ImGui_ImplEGL_Shutdown() {
    if (g.fbo) glDeleteFramebuffers(1, &g.fbo);
    if (g.color) glDeleteRenderbuffers(1, &g.color);
    g.fbo = g.color = 0;
    if (g.display != EGL_NO_DISPLAY) {
        eglMakeCurrent(g.display, EGL_NO_SURFACE, EGL_NO_SURFACE, EGL_NO_CONTEXT);
        if (g.context != EGL_NO_CONTEXT) eglDestroyContext(g.display, g.context);
        eglTerminate(g.display);
    }
    g.display = EGL_NO_DISPLAY, g.context = EGL_NO_CONTEXT;
}
