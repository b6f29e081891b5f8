/* Small helpers the subcommands share: the one-line error and strict
 * parsing of flag values (a whole number, nothing trailing). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"

int cli_fail(vkvae_status s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("vkvae: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return vkvae_status_exit_code(s);
}

int cli_parse_u32(const char *flag, const char *text, uint32_t *out)
{
    char *end = NULL;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno || v > 0xffffffffull)
        return cli_fail(VKVAE_BAD_INPUT, "%s '%s' is not a whole number from 0 to 4294967295",
                        flag, text);
    *out = (uint32_t)v;
    return 0;
}

int cli_parse_float(const char *flag, const char *text, float *out)
{
    char *end = NULL;
    errno = 0;
    double v = strtod(text, &end);
    if (end == text || *end != '\0' || errno || !isfinite(v))
        return cli_fail(VKVAE_BAD_INPUT, "%s '%s' is not a number", flag, text);
    *out = (float)v;
    return 0;
}
