/* The CPU ops in float: ops_real.h with real = float. Random normals are
 * drawn in float, as the GPU draws them. */
#define real float
#define SFX _f32
#define RAND_NORMAL vkvae_rand_normal
#include "ops_real.h"
