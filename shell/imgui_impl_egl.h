// Dear ImGui platform backend for headless rendering: EGL on Mesa's surfaceless platform, an OpenGL ES 3 context
// and an offscreen framebuffer that the OpenGL3 renderer backend draws into. Native only (no window, no X).
#pragma once
#include <cstdint>

bool ImGui_ImplEGL_Init();                      // creates and makes current the context; false (with a reason) on failure
const char* ImGui_ImplEGL_LastError();
void ImGui_ImplEGL_Shutdown();
void ImGui_ImplEGL_SetSize(int width, int height);  // (re)creates and binds the framebuffer, in pixels
void ImGui_ImplEGL_NewFrame(float delta_s);     // io.DisplaySize = framebuffer size, scale 1, no input
void ImGui_ImplEGL_ReadPixels(uint8_t* rgba);   // width*height*4 bytes, top row first
