/* Errors: every fallible vkvae call returns a vkvae_status and, when given a
 * vkvae_error, fills it with a one-line message that names the file, place or
 * Vulkan call at fault. The first failure wins: later vkvae_fail calls on an
 * error that already holds one keep the original message. */
#ifndef VKVAE_ERROR_H
#define VKVAE_ERROR_H

typedef enum vkvae_status {
#define STATUS(e, exit_code, desc) VKVAE_##e,
#include "status.def"
#undef STATUS
    VKVAE_STATUS_COUNT
} vkvae_status;

typedef struct vkvae_error {
    vkvae_status status;
    char message[512];
} vkvae_error;

#if defined(__GNUC__)
#define VKVAE_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define VKVAE_PRINTF(f, a)
#endif

/* Records status and a printf-style message in err (if not NULL and not
 * already failed) and returns status, so callers write
 * `return vkvae_fail(err, VKVAE_BAD_INPUT, "%s: ...", path);`. */
vkvae_status vkvae_fail(vkvae_error *err, vkvae_status status, const char *fmt, ...)
    VKVAE_PRINTF(3, 4);

const char *vkvae_status_name(vkvae_status s);   /* "BAD_INPUT" */
const char *vkvae_status_text(vkvae_status s);   /* "invalid input (...)" */
int vkvae_status_exit_code(vkvae_status s);      /* the command line's exit status */

#endif
