// dense: the contract in runtime/plan/ops.def; the kernel in dense.glsl
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_EXT_control_flow_attributes : require
#include "mm_build.glsl"
#include "common.glsl"
#define DENSE_PAIR 0
#include "dense.glsl"
