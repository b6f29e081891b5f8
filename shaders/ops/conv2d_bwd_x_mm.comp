// conv2d_bwd_x as an implicit matrix product: dx[(n, iy, ix), c_in] per stride phase = dy gathered through the taps that reach each pixel, times w
// (conv_mm.glsl: CONV_SCATTER, the conv2d family).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "mm_build.glsl"
#include "common.glsl"
#define CONV_T 0
#define CONV_FAMILY CONV_SCATTER
#include "conv_mm.glsl"
