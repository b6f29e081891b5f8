/* The arithmetic roof of `vkvae bench`: every invocation runs 16 independent
 * chains of fused multiply-adds (enough to hide FMA latency on CPUs and
 * GPUs alike) for ITERS iterations and stores one sum so that nothing is
 * optimised away. FLOPs = invocations * ITERS * 16 * 2. The multiplier and
 * addend come as push constants so the compiler cannot fold the loop.
 */
#version 450
layout(local_size_x = 64) in;
layout(constant_id = 0) const uint ITERS = 1024;
layout(std430, binding = 0) writeonly buffer Out { float o[]; };
layout(push_constant) uniform Push { float mul, add; } pc;

void main()
{
    uint id = gl_GlobalInvocationID.x;
    float a[16];
    for (uint c = 0; c < 16; c++)
        a[c] = float(id + c) * 1e-6;
    for (uint i = 0; i < ITERS; i++)
        for (uint c = 0; c < 16; c++)
            a[c] = fma(a[c], pc.mul, pc.add);
    float s = 0.0;
    for (uint c = 0; c < 16; c++)
        s += a[c];
    o[id] = s;
}
