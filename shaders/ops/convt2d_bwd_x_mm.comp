// convt2d_bwd_x as an implicit matrix product: dx[(n, iy, ix), c_in] = im2col(dy) w^T
// (conv_mm.glsl: CONV_GATHER, the convt2d family).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "mm_build.glsl"
#include "common.glsl"
#define CONV_T 1
#define CONV_FAMILY CONV_GATHER
#include "conv_mm.glsl"
