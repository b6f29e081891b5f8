// dense_pair_bwd_x: the contract in runtime/plan/ops.def; the kernel in dense_bwd_x.glsl
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "mm_build.glsl"
#include "common.glsl"
#define DENSE_PAIR 1
#include "dense_bwd_x.glsl"
