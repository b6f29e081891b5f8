// The GPU-assisted validation canary's kernel (test_gpuav_canary.c): one
// invocation writes element pc.index of its storage buffer binding, in
// bounds or, deliberately, one element past the descriptor's range.
#version 450

layout(local_size_x = 1) in;

layout(std430, set = 0, binding = 0) buffer Out { uint v[]; };

layout(push_constant) uniform Push {
    uint index;
} pc;

void main()
{
    v[pc.index] = 0xC0FFEEu;
}
