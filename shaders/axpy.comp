// axpy: y = a*x + y over n floats. The smallest complete kernel: the
// runtime's self-test and the proof of the build chain (GLSL -> SPIR-V ->
// embedded array -> pipeline -> dispatch), compared with the CPU in tests.
#version 450

layout(local_size_x = 64) in;

layout(std430, set = 0, binding = 0) readonly buffer X { float x[]; };
layout(std430, set = 0, binding = 1) buffer Y { float y[]; };

layout(push_constant) uniform Push {
    float a;
    uint n;
} pc;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i < pc.n)
        y[i] = pc.a * x[i] + y[i];
}
