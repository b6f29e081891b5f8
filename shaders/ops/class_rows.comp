// class_rows: -> y:[n*classes,classes]; y[(r*classes+c)*classes + j] =
// (j == c) ? 1 : 0, every row (padding too: a constant): the label of each
// class's copy of a row (M2). One invocation per element.
#version 450
#extension GL_GOOGLE_include_directive : require
#include "common.glsl"
layout(std430, binding = 0) writeonly buffer Y { float y[]; };
void main()
{
    uint i = element_index();
    if (i >= P_N * P_CLASSES * P_CLASSES) return;
    y[i] = (i / P_CLASSES) % P_CLASSES == i % P_CLASSES ? 1.0 : 0.0;
}
