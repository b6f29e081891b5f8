#version 450
// Shows the image vkvae decoded into, letterboxed: the push constants map
// framebuffer uv to image uv (t = uv * scale + offset); outside [0, 1] is
// the background. The sampler filters with NEAREST, so each decoded pixel
// stays a crisp square.
layout(set = 0, binding = 0) uniform sampler2D decoded;
layout(push_constant) uniform Blit {
    vec2 scale;
    vec2 offset;
    vec4 background;
} pc;

layout(location = 0) in vec2 uv;
layout(location = 0) out vec4 color;

void main()
{
    vec2 t = uv * pc.scale + pc.offset;
    if (any(lessThan(t, vec2(0.0))) || any(greaterThanEqual(t, vec2(1.0))))
        color = pc.background;
    else
        color = vec4(texture(decoded, t).rgb, 1.0);
}
