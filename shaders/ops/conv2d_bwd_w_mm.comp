// conv2d_bwd_w as an implicit matrix product: dw[c_out, c_in k k] = dy im2col(x) over (n, oy, ox); db in a last row of workgroups
// (conv_mm.glsl: CONV_WGRAD, the conv2d family).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "mm_build.glsl"
#include "common.glsl"
#define CONV_T 0
#define CONV_FAMILY CONV_WGRAD
#include "conv_mm.glsl"
