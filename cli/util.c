/* Small helpers the subcommands share: the one-line error, strict parsing
 * of flag values (a whole number, nothing trailing), the model argument and
 * the context for --device and --precision. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "io/data_source.h"
#include "io/image_folder.h"
#include "options.h"
#include "plan/models.h"
#include "spec/compile.h"

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

/* Whether every Vulkan device is a CPU driver (lavapipe, SwiftShader):
 * there vkvae's CPU backend runs the same plan many times faster (conv:
 * about 20x; BENCHMARKS.md). Says so once, naming how to pick the driver. */
static int only_cpu_drivers(void)
{
    vkvae_device_info *d = NULL;
    uint32_t n = 0;
    vkvae_error err = {0};
    if (vkvae_devices_query(&d, &n, &err) || n == 0) {
        free(d);
        return 0; /* no driver: the context's own error says what to install */
    }
    int cpu = 1;
    for (uint32_t i = 0; i < n; i++)
        cpu &= d[i].type == VKVAE_DEVICE_CPU;
    if (cpu && n == 1)
        fprintf(stderr, "vkvae: the only Vulkan device, %s, is a CPU driver: using vkvae's CPU "
                        "backend, faster on a CPU (--device 0 uses the driver anyway)\n",
                d[0].name);
    else if (cpu)
        fprintf(stderr, "vkvae: every Vulkan device is a CPU driver: using vkvae's CPU backend, "
                        "faster on a CPU (--device N uses driver N anyway; vkvae info lists "
                        "them)\n");
    free(d);
    return cpu;
}

int cli_cache_path(const char *name, char *out, size_t size)
{
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(out, size, "%s/vkvae/%s", xdg, name);
    else if (home && *home)
        n = snprintf(out, size, "%s/.cache/vkvae/%s", home, name);
    else
        return -1;
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int cli_context(const char *cmd, const char *device, vkvae_precision precision,
                vkvae_context **out)
{
    *out = NULL;
    if (!device || !*device)
        device = getenv("VKVAE_DEVICE");
    if ((!device || !*device) && precision == VKVAE_PRECISION_FP32 && strcmp(cmd, "bench") != 0 &&
        only_cpu_drivers())
        return 0;
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

/* A spec file's text, NUL-terminated (free() it); non-zero: the exit
 * status, the error printed. */
static int read_spec(const char *path, char **text, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return cli_fail(VKVAE_IO, "%s: %s", path, strerror(errno));
    /* one byte past the generator's limit, so that it reports the size */
    size_t cap = (1u << 20) + 1;
    char *t = malloc(cap + 1);
    size_t n = t ? fread(t, 1, cap, f) : 0;
    int bad = ferror(f);
    fclose(f);
    if (!t)
        return cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    if (bad) {
        free(t);
        return cli_fail(VKVAE_IO, "%s: cannot read", path);
    }
    t[n] = '\0';
    *text = t, *size = n;
    return 0;
}

/* The plan of a spec's text: compiled for batch rows (0: the spec's). A
 * malformed spec prints its diagnostics as vkvae-gen does, nothing else. */
static int compile(const char *path, const char *text, size_t size, uint32_t batch,
                   FILE *explain, const vkvae_plan **out)
{
    vkvae_plan *plan = NULL;
    char *diagnostics = NULL;
    vkvae_error err = {0};
    vkvae_status s = vkvae_spec_compile(&(vkvae_spec_desc){.path = path, .text = text,
                                                           .size = size, .batch = batch,
                                                           .explain = explain},
                                        &plan, &diagnostics, &err);
    if (s && s != VKVAE_OUT_OF_MEMORY && diagnostics) {
        fputs(diagnostics, stderr);
        free(diagnostics);
        return vkvae_status_exit_code(s);
    }
    free(diagnostics);
    if (s)
        return cli_fail(s, "%s", err.message);
    *out = plan;
    return 0;
}

/* A model argument: a built-in model's name, or the path of a spec file,
 * compiled here (a built-in model's very text gives that model's plan). A
 * batch other than 0 and the plan's compiles the spec for that batch: the
 * batch is a constant of the plan's kernels. Free it with cli_model_free. */
int cli_model(const char *arg, uint32_t batch, const vkvae_plan **out)
{
    *out = NULL;
    const int is_path = strchr(arg, '/') || strstr(arg, ".vae");
    if (!is_path) {
        *out = vkvae_builtin_model(arg);
        if (*out)
            return cli_model_fit(out, batch, 0);
        char names[512] = "";
        size_t used = 0;
        for (uint32_t i = 0; i < vkvae_builtin_model_count && used < sizeof names; i++)
            used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", i ? ", " : "",
                                     vkvae_builtin_models[i]->model);
        return cli_fail(VKVAE_BAD_INPUT, "unknown model '%s'; built-in models: %s", arg, names);
    }
    size_t n;
    char *text;
    int r = read_spec(arg, &text, &n);
    if (r)
        return r;
    for (uint32_t i = 0; i < vkvae_builtin_model_count; i++) {
        const vkvae_plan *p = vkvae_builtin_models[i];
        if (p->spec_text && strcmp(p->spec_text, text) == 0 && (!batch || batch == p->batch)) {
            free(text);
            *out = p;
            return 0;
        }
    }
    r = compile(arg, text, n, batch, NULL, out);
    free(text);
    return r;
}

int cli_spec_check(const char *path, uint32_t batch, FILE *explain)
{
    size_t n;
    char *text;
    int r = read_spec(path, &text, &n);
    if (r)
        return r;
    const vkvae_plan *plan = NULL;
    r = compile(path, text, n, batch, explain, &plan);
    free(text);
    vkvae_spec_plan_free((vkvae_plan *)plan);
    return r;
}

void cli_model_free(const vkvae_plan *plan)
{
    for (uint32_t i = 0; i < vkvae_builtin_model_count; i++)
        if (vkvae_builtin_models[i] == plan)
            return;
    vkvae_spec_plan_free((vkvae_plan *)plan);
}

int cli_model_fit(const vkvae_plan **plan, uint32_t batch, uint32_t data_rows)
{
    const vkvae_plan *fit;
    vkvae_plan *owned;
    vkvae_error err = {0};
    if (vkvae_spec_plan_for(*plan, batch, data_rows, &fit, &owned, &err))
        return cli_fail(err.status, "%s", err.message);
    if (owned) {
        cli_model_free(*plan);
        *plan = fit;
    }
    return 0;
}

/* The image decoder's progress: a bar on a terminal, a line every 10 s
 * otherwise. */
typedef struct decode_progress {
    int tty;
    double start, last;
} decode_progress;

double cli_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void on_decode(void *user, uint32_t done, uint32_t total)
{
    decode_progress *p = user;
    double t = cli_now_s();
    if (done < total && t - p->last < (p->tty ? 0.1 : 10.0))
        return;
    p->last = t;
    double rate = t > p->start ? done / (t - p->start) : 0;
    if (p->tty)
        fprintf(stderr, "\rdecoding images %u/%u  %.0f img/s   %s", done, total, rate,
                done == total ? "\n" : "");
    else
        fprintf(stderr, "decoding images %u/%u %.0f img/s\n", done, total, rate);
}

int cli_data_load(const cli_data_opts *d, const vkvae_plan *plan, vkvae_idx_dataset *out,
                  char **class_names)
{
    if (class_names)
        *class_names = NULL;
    vkvae_error err = {0};
    if (!d->data && access(CLI_DATA_DEFAULT, F_OK) != 0)
        return cli_fail(VKVAE_IO, "%s: not found: the default data set, Fashion-MNIST, comes "
                        "with Debian's package dataset-fashion-mnist (tools/setup.sh installs "
                        "it); or give --data", CLI_DATA_DEFAULT);
    /* The hold-out's seed is fixed, not the run's: every command and every
     * run of one file sees the same test images. */
    decode_progress progress = {.tty = isatty(2), .start = cli_now_s()};
    vkvae_image_folder_info info = {0};
    vkvae_data_source_desc desc = {.path = d->data ? d->data : CLI_DATA_DEFAULT,
                                   .labels = d->labels, .test_fraction = d->val_split,
                                   .progress = on_decode, .progress_user = &progress,
                                   .image_info = &info};
    if (plan) {
        desc.classes = plan->classes;
        desc.channels = plan->input_c;
        /* a flat input (c = h = 1) has no image size to scale to */
        if (plan->input_h > 1) {
            desc.height = plan->input_h;
            desc.width = plan->input_w;
        }
    }
    if ((d->resize && vkvae_image_resize_parse(d->resize, &desc.resize, &err)) ||
        (d->background && vkvae_image_background_parse(d->background, &desc.background, &err)) ||
        (d->on_bad && vkvae_image_on_bad_parse(d->on_bad, &desc.on_bad, &err)))
        return cli_fail(err.status, "%s", err.message);
    /* Decoded image folders are cached for the next run (io/data_cache.h). */
    char cache_dir[1024];
    if (d->cache && strcmp(d->cache, "off") == 0)
        cache_dir[0] = '\0';
    else if (d->cache)
        snprintf(cache_dir, sizeof cache_dir, "%s", d->cache);
    else if (cli_cache_path("data", cache_dir, sizeof cache_dir))
        cache_dir[0] = '\0';
    vkvae_data_cache_use use = VKVAE_CACHE_DECODED;
    char *warning = NULL;
    desc.cache_dir = cache_dir[0] ? cache_dir : NULL;
    desc.cache_use = &use;
    desc.cache_warning = &warning;
    if (vkvae_data_source_load(out, &desc, &err))
        return cli_fail(err.status, "%s", err.message);
    if (warning)
        fprintf(stderr, "vkvae: warning: no data cache: %s\n", warning);
    free(warning);
    if (desc.cache_dir && vkvae_data_source_is_image_folder(desc.path))
        fprintf(stderr, "vkvae: %s\n",
                use == VKVAE_CACHE_HIT ? "images from the data cache (the folder is unchanged)"
                : use == VKVAE_CACHE_STALE ? "the data cache was out of date or damaged: decoded "
                                             "again, cache updated"
                                           : "decoded; cached for the next run");
    if (info.skipped) {
        fprintf(stderr, "vkvae: warning: skipped %u of %u images that do not decode "
                "(--on-bad-image skip):\n", info.skipped, info.found);
        for (uint32_t i = 0; i < info.skipped_kept; i++)
            fprintf(stderr, "  %s\n", info.skipped_messages[i]);
        if (info.skipped > info.skipped_kept)
            fprintf(stderr, "  and %u more\n", info.skipped - info.skipped_kept);
    }
    const vkvae_idx *tr = &out->train_images, *te = &out->test_images;
    fprintf(stderr, "vkvae: data %s: %u training and %u test images of %ux%ux%u%s", desc.path,
            tr->count, te->count, tr->channels, tr->rows, tr->cols,
            info.n_classes ? ", classes" : "\n");
    size_t len = 0;
    for (uint32_t c = 0; c < info.n_classes; c++) {
        fprintf(stderr, "%s %u %s", c ? "," : "", c, info.class_names[c]);
        len += strlen(info.class_names[c]) + 1;
    }
    if (info.n_classes)
        fputc('\n', stderr);
    /* For the checkpoint: one name per line (a name's own line breaks, if
     * a folder has any, become spaces). */
    if (class_names && info.n_classes && (*class_names = malloc(len + 1))) {
        char *w = *class_names;
        for (uint32_t c = 0; c < info.n_classes; c++) {
            for (const char *n = info.class_names[c]; *n; n++)
                *w++ = *n == '\n' || *n == '\r' ? ' ' : *n;
            *w++ = c + 1 < info.n_classes ? '\n' : '\0';
        }
    }
    vkvae_image_folder_info_destroy(&info);
    return plan ? cli_check_levels(out, plan) : 0;
}

int cli_check_levels(vkvae_idx_dataset *ds, const vkvae_plan *plan)
{
    uint32_t levels = plan->input_levels;
    const vkvae_idx *sets[2] = {&ds->train_images, &ds->test_images};
    for (int s = 0; levels && s < 2; s++) {
        size_t features = (size_t)sets[s]->channels * sets[s]->rows * sets[s]->cols;
        size_t bytes = (size_t)sets[s]->count * features;
        for (size_t i = 0; i < bytes; i++)
            if (sets[s]->data[i] >= levels) {
                int r = cli_fail(VKVAE_BAD_INPUT, "%s: image %zu holds %u at value %zu; model "
                                 "%s reads levels 0..%u (its input line's 'levels %u')",
                                 sets[s]->path, i / features, sets[s]->data[i], i % features,
                                 plan->model, levels - 1, levels);
                vkvae_idx_dataset_destroy(ds);
                return r;
            }
    }
    return 0;
}

float cli_byte_scale(const vkvae_plan *plan)
{
    return plan->input_levels ? (float)(plan->input_levels - 1) : 255.0f;
}
