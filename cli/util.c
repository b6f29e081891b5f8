/* Small helpers the subcommands share: the one-line error, strict parsing
 * of flag values (a whole number, nothing trailing), the model argument and
 * the context for --device and --precision. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plan/models.h"

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

int cli_parse_precision(const char *flag, const char *text, vkvae_precision *out)
{
    if (strcmp(text, "fp32") == 0)
        *out = VKVAE_PRECISION_FP32;
    else if (strcmp(text, "fp16") == 0)
        *out = VKVAE_PRECISION_FP16;
    else
        return cli_fail(VKVAE_BAD_INPUT, "%s '%s': expected fp32 or fp16", flag, text);
    return 0;
}

int cli_context(const char *cmd, const char *device, vkvae_precision precision,
                vkvae_context **out)
{
    *out = NULL;
    if (device && strcmp(device, "cpu") == 0) {
        if (precision != VKVAE_PRECISION_FP32)
            return cli_fail(VKVAE_BAD_INPUT, "%s: --precision fp16 is for Vulkan devices; "
                                             "--device cpu computes in fp32", cmd);
        return 0;
    }
    vkvae_error err = {0};
    if (vkvae_context_create(&(vkvae_context_desc){.device = device, .precision = precision},
                             out, &err))
        return cli_fail(err.status, "%s", err.message);
    return 0;
}

/* A model argument: a built-in model's name, or the path of a spec file
 * whose text is that of a built-in model (specs compile at build time;
 * compiling a user's spec at run time is a later step). */
int cli_model(const char *arg, const vkvae_plan **out)
{
    const int is_path = strchr(arg, '/') || strstr(arg, ".vae");
    if (!is_path) {
        *out = vkvae_builtin_model(arg);
        if (*out)
            return 0;
        char names[512] = "";
        size_t used = 0;
        for (uint32_t i = 0; i < vkvae_builtin_model_count && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                     vkvae_builtin_models[i]->model);
        return cli_fail(VKVAE_BAD_INPUT, "unknown model '%s'; built-in models: %s", arg, names);
    }
    FILE *f = fopen(arg, "rb");
    if (!f)
        return cli_fail(VKVAE_IO, "%s: %s", arg, strerror(errno));
    char *text = malloc(1 << 20);
    size_t n = text ? fread(text, 1, (1 << 20) - 1, f) : 0;
    fclose(f);
    if (!text)
        return cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    text[n] = '\0';
    for (uint32_t i = 0; i < vkvae_builtin_model_count; i++) {
        const vkvae_plan *p = vkvae_builtin_models[i];
        if (p->spec_text && strcmp(p->spec_text, text) == 0) {
            free(text);
            *out = p;
            return 0;
        }
    }
    free(text);
    return cli_fail(VKVAE_UNSUPPORTED,
                    "%s: not a built-in model's spec; specs are compiled at build time: add it to "
                    "models/ and models/meson.build, then rebuild",
                    arg);
}
