#version 450
// A fullscreen triangle from gl_VertexIndex (no vertex buffer): uv covers
// [0, 1] over the framebuffer, top-left at (0, 0) as in Vulkan.
layout(location = 0) out vec2 uv;

void main()
{
    uv = vec2((gl_VertexIndex << 1) & 2, gl_VertexIndex & 2);
    gl_Position = vec4(uv * 2.0 - 1.0, 0.0, 1.0);
}
