// conv2d as an implicit matrix product: y[(n, oy, ox), c_out] = im2col(x) w^T, then bias and act
// (conv_mm.glsl: CONV_GATHER, the conv2d family).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "mm_build.glsl"
#include "common.glsl"
#define CONV_T 0
#define CONV_FAMILY CONV_GATHER
#include "conv_mm.glsl"
