/* Result codes, their names and exit statuses, from status.def. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

static const char *const status_names[] = {
#define STATUS(e, exit_code, desc) #e,
#include "status.def"
#undef STATUS
};
static const char *const status_texts[] = {
#define STATUS(e, exit_code, desc) desc,
#include "status.def"
#undef STATUS
};
static const int status_exit_codes[] = {
#define STATUS(e, exit_code, desc) exit_code,
#include "status.def"
#undef STATUS
};
_Static_assert(sizeof status_names / sizeof *status_names == VKVAE_STATUS_COUNT,
               "status.def tables out of step");

vkvae_status vkvae_fail(vkvae_error *err, vkvae_status status, const char *fmt, ...)
{
    if (err && err->status == VKVAE_OK) {
        err->status = status;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof err->message, fmt, ap);
        va_end(ap);
    }
    return status;
}

const char *vkvae_status_name(vkvae_status s)
{
    return (unsigned)s < VKVAE_STATUS_COUNT ? status_names[s] : "UNKNOWN";
}

const char *vkvae_status_text(vkvae_status s)
{
    return (unsigned)s < VKVAE_STATUS_COUNT ? status_texts[s] : "unknown status";
}

int vkvae_status_exit_code(vkvae_status s)
{
    return (unsigned)s < VKVAE_STATUS_COUNT ? status_exit_codes[s] : 70;
}
