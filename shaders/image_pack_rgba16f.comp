// image_pack into a RGBA16 float storage image (see image_pack.glsl)
#version 450
#extension GL_GOOGLE_include_directive : require
#define IMAGE_FORMAT rgba16f
#include "image_pack.glsl"
