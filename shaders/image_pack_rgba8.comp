// image_pack into a RGBA8 unorm storage image (see image_pack.glsl)
#version 450
#extension GL_GOOGLE_include_directive : require
#define IMAGE_FORMAT rgba8
#include "image_pack.glsl"
