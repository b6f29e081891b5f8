// convt2d as an implicit matrix product: y[(n, oy, ox), c_out] per stride phase = x gathered through the taps that reach each pixel, times w, then bias and act
// (conv_mm.glsl: CONV_SCATTER, the convt2d family).
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "mm_build.glsl"
#include "common.glsl"
#define CONV_T 1
#define CONV_FAMILY CONV_SCATTER
#include "conv_mm.glsl"
