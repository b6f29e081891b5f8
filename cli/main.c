/* The vkvae command line: one subcommand per job. Each subcommand parses
 * its own flags; errors are one line on stderr and a non-zero exit status
 * from status.def (docs/errors.md).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "plan/models.h"
#include "vkvae.h"

static const char usage[] =
    "usage: vkvae <command> [options]\n"
    "\n"
    "commands:\n"
    "  info [--device D]   list the Vulkan devices and mark the one vkvae would use\n"
    "  models              list the built-in models: parameters, FLOPs per training step\n"
    "  train [MODEL]       train a model (default vae_mlp on Fashion-MNIST) or your spec.vae\n"
    "  check SPEC          check and compile a spec, as train would; --explain: graph, plan\n"
    "  sample CKPT         draw images from a trained model's prior\n"
    "  reconstruct CKPT    data items beside their reconstructions\n"
    "  interpolate CKPT    decode a path between two items' codes (--slerp: spherical)\n"
    "  traverse CKPT       vary one latent dimension per row around an item's code\n"
    "  edit CKPT           move an item's code from one class's mean code towards another's\n"
    "  transfer CKPT       render items' shapes with other items' appearances (a VU-Net)\n"
    "  encode CKPT         export codes (mu, logvar, label) as a NumPy .npy file\n"
    "  eval CKPT           test negative ELBO and its terms; --iwae K: the IWAE -log p(x)\n"
    "  export CKPT OUT     the weights alone as safetensors, for PyTorch's load_state_dict\n"
    "  plot RUN_DIR        the train and test -ELBO per epoch of a run as a PNG line chart\n"
    "  bench [MODEL]       GPU time of each kernel of a train step against the device's roofs\n"
    "  selftest            every op's kernel on the device against the CPU backend: a verdict\n"
    "                      per op (do this driver's results hold?)\n"
    "\n"
    "options:\n"
    "  --device D          a device index or name substring, 'cpu' (vkvae's CPU backend) or\n"
    "                      'vulkan' (the best Vulkan device); default $VKVAE_DEVICE, else the\n"
    "                      best: discrete, integrated, virtual, and where every Vulkan device\n"
    "                      is a CPU driver, the CPU backend (bench: the driver)\n"
    "  -h, --help          this help\n"
    "  --version           the version\n"
    "\n"
    "environment: VKVAE_DEVICE (as --device), VKVAE_VALIDATION=1 (Khronos validation with\n"
    "synchronization validation; messages are printed and make the command fail),\n"
    "VKVAE_LIMITS=minimum|mali|discrete (run as if on a minimal device: Vulkan's minimum\n"
    "limits, no fp16 or subgroup arithmetic; mali: 64 invocations per workgroup; discrete:\n"
    "memory that is not host-visible, every transfer staged; docs/testing.md)\n";


static void print_version(const char *label, uint32_t v)
{
    printf("    %-16s %u.%u.%u\n", label, v >> 22, (v >> 12) & 0x3ff, v & 0xfff);
}

static void print_bytes(uint64_t b, char *out, size_t size)
{
    if (b >= (1ull << 30))
        snprintf(out, size, "%.1f GiB", (double)b / (1ull << 30));
    else
        snprintf(out, size, "%.0f MiB", (double)b / (1ull << 20));
}

static const char *yes_no(int v)
{
    return v ? "yes" : "no";
}

static void print_device(const vkvae_device_info *d, uint32_t index, int chosen)
{
    printf("%s %u: %s%s\n", chosen ? "*" : " ", index, d->name, chosen ? "  (chosen)" : "");
    printf("    %-16s %s\n", "type", vkvae_device_type_name(d->type));
    printf("    %-16s %s%s%s\n", "driver", d->driver_name[0] ? d->driver_name : "(unknown)",
           d->driver_info[0] ? ", " : "", d->driver_info);
    print_version("Vulkan API", d->api_version);
    printf("    %-16s 0x%04x / 0x%04x\n", "vendor / device", d->vendor_id, d->device_id);
    for (uint32_t h = 0; h < d->heap_count; h++) {
        char size[32], label[32];
        print_bytes(d->heap_size[h], size, sizeof size);
        snprintf(label, sizeof label, "memory heap %u", h);
        printf("    %-16s %s%s\n", label, size, d->heap_device_local[h] ? ", device-local" : "");
    }
    printf("    %-16s %s\n", "unified memory", yes_no(d->unified_memory));
    printf("    %-16s %u (min %u, max %u)\n", "subgroup size", d->subgroup_size, d->subgroup_min,
           d->subgroup_max);
    printf("    %-16s %u bytes\n", "shared memory", d->max_shared_memory);
    printf("    %-16s %u invocations, %u x %u x %u\n", "workgroup max", d->max_invocations,
           d->max_workgroup_size[0], d->max_workgroup_size[1], d->max_workgroup_size[2]);
    printf("    %-16s %u x %u x %u\n", "workgroup count", d->max_workgroup_count[0],
           d->max_workgroup_count[1], d->max_workgroup_count[2]);
    printf("    %-16s %u bytes\n", "push constants", d->max_push_constants);
    printf("    %-16s %llu bytes\n", "storage range", (unsigned long long)d->max_storage_buffer_range);
    printf("    %-16s fp16 %s, int8 %s, 16-bit storage %s\n", "arithmetic", yes_no(d->fp16),
           yes_no(d->int8), yes_no(d->storage16));
    printf("    %-16s %s, shuffle %s\n", "subgroup arith", yes_no(d->subgroup_arithmetic),
           yes_no(d->subgroup_shuffle));
    printf("    %-16s %s\n", "coop. matrix", yes_no(d->cooperative_matrix));
    if (d->timestamp_period_ns > 0)
        printf("    %-16s %g ns per tick\n", "timestamps", d->timestamp_period_ns);
    else
        printf("    %-16s none on the compute queue\n", "timestamps");
}

static int cmd_info(int argc, char **argv)
{
    const char *device = NULL;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--device") == 0 && i + 1 < argc)
            device = argv[++i];
        else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        } else {
            char msg[256];
            snprintf(msg, sizeof msg, "info: unknown or incomplete option '%s'", argv[i]);
            return cli_fail(VKVAE_BAD_INPUT, "%s", msg);
        }
    }
    vkvae_error err = {0};
    vkvae_context *ctx = NULL;
    if (vkvae_context_create(&(vkvae_context_desc){.device = device}, &ctx, &err))
        return cli_fail(err.status, "%s", err.message);
    uint32_t n;
    const vkvae_device_info *devices = vkvae_context_devices(ctx, &n);
    uint32_t chosen = vkvae_context_device_index(ctx);
    printf("vkvae %s: %u Vulkan device%s\n", VKVAE_VERSION, n, n == 1 ? "" : "s");
    if (devices[chosen].limits[0]) /* every description is clamped alike */
        printf("limits clamp: %s (VKVAE_LIMITS; the limits below are clamped)\n",
               devices[chosen].limits);
    for (uint32_t i = 0; i < n; i++)
        print_device(&devices[i], i, i == chosen);
    uint32_t messages = vkvae_validation_message_count(ctx);
    vkvae_context_destroy(ctx);
    if (messages)
        return cli_fail(VKVAE_VALIDATION, "%s", "the validation layer reported messages (above)");
    return 0;
}

static int cmd_models(int argc, char **argv)
{
    if (argc > 0) {
        if (strcmp(argv[0], "-h") == 0 || strcmp(argv[0], "--help") == 0) {
            fputs(usage, stdout);
            return 0;
        }
        char msg[256];
        snprintf(msg, sizeof msg, "models: unknown option '%s'", argv[0]);
        return cli_fail(VKVAE_BAD_INPUT, "%s", msg);
    }
    printf("%-16s %12s %8s %18s %s\n", "model", "parameters", "batch", "FLOPs/step", "programs");
    for (uint32_t i = 0; i < vkvae_builtin_model_count; i++) {
        const vkvae_plan *p = vkvae_builtin_models[i];
        printf("%-16s %12llu %8u %18llu ", p->model, (unsigned long long)p->n_params, p->batch,
               (unsigned long long)p->step_flops);
        for (uint32_t k = 0; k < p->n_programs; k++)
            printf("%s%s", k ? "," : "", p->programs[k].name);
        printf("\n");
    }
    return 0;
}

int cmd_bench(int argc, char **argv); /* cli/bench.c */

int main(int argc, char **argv)
{
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        fputs(usage, argc < 2 ? stderr : stdout);
        return argc < 2 ? 1 : 0;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("vkvae %s\n", VKVAE_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "info") == 0)
        return cmd_info(argc - 2, argv + 2);
    if (strcmp(argv[1], "models") == 0)
        return cmd_models(argc - 2, argv + 2);
    if (strcmp(argv[1], "bench") == 0)
        return cmd_bench(argc - 2, argv + 2);
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } commands[] = {
        {"train", cmd_train},       {"sample", cmd_sample}, {"reconstruct", cmd_reconstruct},
        {"interpolate", cmd_interpolate}, {"traverse", cmd_traverse}, {"edit", cmd_edit},
        {"transfer", cmd_transfer},
        {"encode", cmd_encode},     {"eval", cmd_eval},     {"plot", cmd_plot},
        {"check", cmd_check},       {"export", cmd_export}, {"selftest", cmd_selftest},
    };
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (strcmp(argv[1], commands[i].name) == 0)
            return commands[i].run(argc - 2, argv + 2);
    char msg[256];
    snprintf(msg, sizeof msg, "unknown command '%s' (see vkvae --help)", argv[1]);
    return cli_fail(VKVAE_BAD_INPUT, "%s", msg);
}
