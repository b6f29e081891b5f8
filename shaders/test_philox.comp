#version 450
/* GPU half of the Philox test: element i < count writes six words,
 *   out[6i+0..3] = Philox4x32-10(ctr = (i, step, 0, 0), key = (seed, stream))
 *   out[6i+4]    = floatBitsToUint(vkvae_rand_uniform(seed, stream, step, i))
 *   out[6i+5]    = floatBitsToUint(vkvae_rand_normal(seed, stream, step, i))
 * The words and the uniform must equal runtime/plan/philox.h bit for bit; the
 * normal agrees up to the device's log and cos (compare with a tolerance).
 * seed = stream = step = 0 makes element 0 the Random123 zero known answer
 * 6627e8d5 e169c58d bc57ac4c 9b00dbd8. out holds 6 * count words.
 */
#extension GL_GOOGLE_include_directive : require
#include "philox.glsl"

layout(local_size_x = 64) in;

layout(binding = 0, std430) writeonly buffer Out { uint words[]; } out_buf;

layout(push_constant) uniform Push {
    uint seed;
    uint stream;
    uint step;
    uint count;
} pc;

void main()
{
    uint i = gl_GlobalInvocationID.x;
    if (i >= pc.count) {
        return;
    }
    uvec4 w = vkvae_rand_words(pc.seed, pc.stream, pc.step, i);
    out_buf.words[6u * i + 0u] = w.x;
    out_buf.words[6u * i + 1u] = w.y;
    out_buf.words[6u * i + 2u] = w.z;
    out_buf.words[6u * i + 3u] = w.w;
    out_buf.words[6u * i + 4u] = floatBitsToUint(vkvae_rand_uniform(pc.seed, pc.stream, pc.step, i));
    out_buf.words[6u * i + 5u] = floatBitsToUint(vkvae_rand_normal(pc.seed, pc.stream, pc.step, i));
}
