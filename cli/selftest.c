/* vkvae selftest: every op's kernel on the user's device against the CPU
 * backend's fp64 function (session/op_parity.h: a few shapes of each op,
 * forward and backward), in fp32 and, where the device has it, fp16; a
 * verdict per op and precision in seconds. Drivers that compute wrong
 * results exist (peers' trackers hold Intel, Mali and MoltenVK reports);
 * this finds one before a diverging run does. The verdict is kept per
 * device and driver in the user's cache folder, and `vkvae train` warns,
 * naming the ops, when it trains on a device whose last self-test failed.
 *
 * VKVAE_SELFTEST_PLANT=OP (test-only) plants a wrong kernel for OP: its
 * dispatches lose their last column of workgroups, as a driver that drops
 * work would; the self-test must then fail naming OP (tests/train).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "gpu/kernels.h"
#include "io/atomic.h"
#include "options.h"
#include "plan/op_info.h"
#include "session/op_parity.h"

static const char selftest_usage[] =
    "usage: vkvae selftest [options]\n"
    "\n"
    "Runs every op's kernel on the Vulkan device against vkvae's CPU backend in\n"
    "fp64 (a few shapes each, forward and backward; fresh random inputs, outputs\n"
    "poisoned so an unwritten element fails) and prints a verdict per op and\n"
    "precision. Exit 0 when all pass, 12 when the device computes a wrong result\n"
    "(docs/errors.md). The verdict is kept for this device and driver, and\n"
    "vkvae train warns when it trains on a device whose last self-test failed.\n"
    "\n"
    "  --device D        Vulkan device index or name substring (default: the best)\n"
    "  --precision P     fp32, fp16 or all (default: all: fp32, and fp16 where the\n"
    "                    device has it)\n"
    "  --ops LIST        only these ops, comma-separated (names as vkvae check\n"
    "                    --explain prints them)\n"
    "  -v                every case, not only the failures\n";

enum { MAX_CASES = 256, MAX_FAILED = 64 };

typedef struct verdicts {
    char failed[MAX_FAILED][48]; /* "dense fp32" */
    uint32_t n_failed, ops, cases;
} verdicts;

/* Every op of ops (NULL: all) with a kernel, on ctx; a status only for an
 * error that is not a verdict (a lost device, no memory). */
static int run_precision(vkvae_context *ctx, const char *label, const char *ops, int verbose,
                         verdicts *v)
{
    const char *plant = getenv("VKVAE_SELFTEST_PLANT");
    static vkvae_parity_case cases[MAX_CASES];
    for (int op = 0; op < VKVAE_OP_COUNT; op++) {
        const char *name = vkvae_op_name((vkvae_op)op);
        if (ops && !vkvae_parity_listed(ops, name))
            continue;
        uint32_t n = vkvae_parity_cases((vkvae_op)op, 1, cases, MAX_CASES);
        if (n == 0)
            continue;
        if (n > MAX_CASES)
            n = MAX_CASES;
        int planted = plant && strcmp(plant, name) == 0;
        uint32_t passed = 0;
        double worst = 0;
        char first_bad[700] = "";
        for (uint32_t i = 0; i < n; i++) {
            vkvae_error err = {0};
            vkvae_parity_result r;
            vkvae_status s = vkvae_parity_run(ctx, &cases[i], planted, &r, &err);
            if (s)
                return cli_fail(err.status, "selftest: %s (%s): %s", name, label, err.message);
            char id[160];
            vkvae_parity_describe(&cases[i], id, sizeof id);
            if (verbose)
                printf("    %s: %s %s\n", id, r.pass ? "ok" : "FAIL", r.detail);
            passed += (uint32_t)r.pass;
            if (r.worst_nmse > worst)
                worst = r.worst_nmse;
            if (!r.pass && !first_bad[0])
                snprintf(first_bad, sizeof first_bad, "%s %s", id, r.detail);
        }
        v->ops++;
        v->cases += n;
        if (passed == n) {
            printf("  %-20s %-5s %3u cases  ok    worst nmse %.1e\n", name, label, n, worst);
        } else {
            printf("  %-20s %-5s %3u cases  FAIL  %u wrong; first: %s\n", name, label, n,
                   n - passed, first_bad);
            if (v->n_failed < MAX_FAILED)
                snprintf(v->failed[v->n_failed++], sizeof v->failed[0], "%s %s", name, label);
        }
        fflush(stdout);
    }
    return 0;
}

/* The verdict's file: one per device and driver, in the user's cache. */
static int record_path(const vkvae_device_info *d, char *out, size_t size)
{
    char name[64];
    snprintf(name, sizeof name, "selftest-%04x-%04x-%08x.txt", d->vendor_id, d->device_id,
             d->driver_version);
    return cli_cache_path(name, out, size);
}

static void save_record(const vkvae_device_info *d, const verdicts *v)
{
    char path[1024], text[4096];
    if (record_path(d, path, sizeof path))
        return;
    int n = snprintf(text, sizeof text,
                     "vkvae %s selftest\ndevice %s\ndriver %s %s\nwhen %lld\nresult %s\n",
                     VKVAE_VERSION, d->name, d->driver_name, d->driver_info,
                     (long long)time(NULL), v->n_failed ? "fail" : "pass");
    for (uint32_t i = 0; i < v->n_failed && n > 0 && (size_t)n < sizeof text; i++)
        n += snprintf(text + n, sizeof text - (size_t)n, "failed %s\n", v->failed[i]);
    if (n <= 0 || (size_t)n >= sizeof text)
        return;
    /* the folder is the pipeline cache's, which the context made */
    vkvae_atomic_file af;
    vkvae_error err = {0};
    if (vkvae_atomic_begin(&af, path, &err) || vkvae_atomic_write(&af, text, (size_t)n, &err) ||
        vkvae_atomic_commit(&af, &err)) {
        vkvae_atomic_abort(&af);
        fprintf(stderr, "vkvae: note: the verdict was not kept (%s)\n", err.message);
    }
}

int cli_selftest_warning(const vkvae_device_info *d)
{
    char path[1024], line[256], failed[512] = "";
    if (record_path(d, path, sizeof path))
        return 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int fail = 0;
    size_t used = 0;
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        if (strcmp(line, "result fail") == 0)
            fail = 1;
        else if (strncmp(line, "failed ", 7) == 0 && used < sizeof failed)
            used += (size_t)snprintf(failed + used, sizeof failed - used, "%s%s",
                                     used ? ", " : "", line + 7);
    }
    fclose(f);
    if (fail)
        fprintf(stderr, "vkvae: warning: vkvae selftest found wrong results on %s with this "
                        "driver (%s): this run may train wrongly or diverge; run vkvae selftest "
                        "again after a driver update\n",
                d->name, failed[0] ? failed : "see vkvae selftest");
    return fail;
}

int cmd_selftest(int argc, char **argv)
{
    const char *device = NULL, *precision = "all", *ops = NULL;
    int verbose = 0;
    const cli_option options[] = {
        {CLI_STRING("--device", &device)}, {CLI_STRING("--precision", &precision)},
        {CLI_STRING("--ops", &ops)},       {CLI_FLAG("-v", &verbose)},
        {NULL},
    };
    int r = cli_options_parse(&(cli_command_line){.cmd = "selftest", .usage = selftest_usage,
                                                  .options = options},
                              argc, argv);
    if (r >= 0)
        return r;
    int want32 = strcmp(precision, "fp32") == 0 || strcmp(precision, "all") == 0;
    int want16 = strcmp(precision, "fp16") == 0 || strcmp(precision, "all") == 0;
    if (!want32 && !want16)
        return cli_fail(VKVAE_BAD_INPUT, "selftest: --precision '%s': expected fp32, fp16 or all",
                        precision);
    if (device && strcmp(device, "cpu") == 0)
        return cli_fail(VKVAE_BAD_INPUT, "selftest: checks a Vulkan device against the CPU "
                                         "backend; --device cpu has nothing to check");
    if (ops) {
        for (const char *p = ops; p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL) {
            size_t len = strcspn(p, ",");
            int known = 0;
            for (int op = 0; op < VKVAE_OP_COUNT && !known; op++)
                known = strlen(vkvae_op_name((vkvae_op)op)) == len &&
                        strncmp(vkvae_op_name((vkvae_op)op), p, len) == 0;
            if (!known)
                return cli_fail(VKVAE_BAD_INPUT, "selftest: --ops: no op '%.*s'", (int)len, p);
        }
    }
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    verdicts v = {0};
    vkvae_device_info info = {0};
    for (int fp16 = 0; fp16 <= 1; fp16++) {
        if (!(fp16 ? want16 : want32))
            continue;
        vkvae_context *ctx = NULL;
        vkvae_error err = {0};
        vkvae_context_desc desc = {
            .device = device ? device : "vulkan",
            .precision = fp16 ? VKVAE_PRECISION_FP16 : VKVAE_PRECISION_FP32};
        if (vkvae_context_create(&desc, &ctx, &err)) {
            if (fp16 && err.status == VKVAE_UNSUPPORTED && strcmp(precision, "all") == 0) {
                printf("  (no fp16 on this device: fp32 only)\n");
                continue;
            }
            return cli_fail(err.status, "%s", err.message);
        }
        uint32_t n;
        info = vkvae_context_devices(ctx, &n)[vkvae_context_device_index(ctx)];
        if (!fp16 || !want32)
            printf("vkvae selftest on %s (%s, %s %s)\n", info.name,
                   vkvae_device_type_name(info.type), info.driver_name, info.driver_info);
        r = run_precision(ctx, fp16 ? "fp16" : "fp32", ops, verbose, &v);
        uint32_t messages = vkvae_validation_message_count(ctx);
        vkvae_context_destroy(ctx);
        if (r)
            return r;
        if (messages)
            return cli_fail(VKVAE_VALIDATION, "selftest: %u validation message(s)", messages);
    }
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
    if (!ops)
        save_record(&info, &v); /* a verdict on all ops alone stands for the device */
    if (v.n_failed) {
        char list[1024] = "";
        size_t used = 0;
        for (uint32_t i = 0; i < v.n_failed && used < sizeof list; i++)
            used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "",
                                     v.failed[i]);
        return cli_fail(VKVAE_WRONG_RESULT,
                        "selftest: %u of %u op checks give wrong results on %s: %s", v.n_failed,
                        v.ops, info.name, list);
    }
    printf("vkvae selftest: %u op checks (%u cases) pass on %s in %.1f s\n", v.ops, v.cases,
           info.name, secs);
    return 0;
}
