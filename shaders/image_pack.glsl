/* image_pack: mean:[n,c,h,w] (a decoder's output, values in [0, 1]) ->
 * the application's storage image, one grid cell per image, magnified by
 * an integer scale (nearest neighbour). Grey (c = 1) is replicated to RGB;
 * alpha is 1 unless c = 4; one-channel formats keep channel 0 (imageStore
 * drops the rest). Each image_pack_<format>.comp defines IMAGE_FORMAT, the
 * format qualifier its storage image needs, and includes this file.
 * Push constants mirror struct pack_push in runtime/image_target.c.
 */
layout(local_size_x = 8, local_size_y = 8) in;

layout(std430, binding = 0) readonly buffer Mean { float mean[]; };
layout(IMAGE_FORMAT, binding = 1) writeonly uniform image2D target;

layout(push_constant) uniform Push {
    ivec2 origin;    // top-left pixel of the grid
    uint columns;    // grid cells per row
    uint scale;      // pixels per source pixel, each way
    uint first;      // index in the whole call of this pass's image 0
    uint rows;       // images in this pass
    uint channels, height, width;
} pc;

void main()
{
    uint row = gl_GlobalInvocationID.z;
    uvec2 p = gl_GlobalInvocationID.xy;
    uvec2 cell_size = uvec2(pc.width, pc.height) * pc.scale;
    if (row >= pc.rows || p.x >= cell_size.x || p.y >= cell_size.y)
        return;
    uint i = pc.first + row;
    ivec2 at = pc.origin + ivec2(uvec2(i % pc.columns, i / pc.columns) * cell_size + p);
    if (any(greaterThanEqual(at, imageSize(target))))
        return; // storage writes out of bounds are undefined: clip
    uint plane = pc.height * pc.width;
    uint src = row * pc.channels * plane + (p.y / pc.scale) * pc.width + p.x / pc.scale;
    float c0 = mean[src];
    vec4 v = vec4(c0, c0, c0, 1.0);
    if (pc.channels == 2)
        v = vec4(c0, mean[src + plane], 0.0, 1.0);
    else if (pc.channels >= 3)
        v.yz = vec2(mean[src + plane], mean[src + 2u * plane]);
    if (pc.channels >= 4)
        v.w = mean[src + 3u * plane];
    imageStore(target, at, v);
}
