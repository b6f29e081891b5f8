/* The models built into libvkvae: every spec in models/ that vkvae-gen can
 * lower today, compiled at build time into plan tables (models/meson.build
 * lists them). Each is also reachable by its own name,
 * `extern const vkvae_plan vkvae_model_<model>;`.
 */
#ifndef VKVAE_MODELS_H
#define VKVAE_MODELS_H

#include <stdint.h>

#include "plan/plan.h"

/* The built-in plans in models/meson.build's order, NULL-terminated. */
extern const vkvae_plan *const vkvae_builtin_models[];
extern const uint32_t vkvae_builtin_model_count;

/* The built-in plan of that model name (its spec's `model` line), or NULL. */
const vkvae_plan *vkvae_builtin_model(const char *name);

#endif
