/* The CPU ops in double, the reference the float paths are measured
 * against: ops_real.h with real = double. Normals are evaluated in double
 * from the same Philox words and uniforms as in float. */
#define real double
#define SFX _f64
#define RAND_NORMAL vkvae_rand_normal_f64
#include "ops_real.h"
