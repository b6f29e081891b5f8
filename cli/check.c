/* vkvae check: a spec checked and compiled as train would compile it, with
 * no device and nothing written: every error as path:line:col with the
 * source line and a caret (exit 1; what has no lowering yet is such an
 * error too), nothing (exit 0), or, should the lowering of a spec that
 * checks fail all the same (an internal error), its reason (exit 11). --explain prints the forward
 * graph, parameters, FLOPs and the plan step by step, as vkvae-gen does.
 */
#include <stdio.h>

#include "cli.h"
#include "options.h"

static const char check_usage[] =
    "usage: vkvae check path/to/spec.vae [--explain] [--batch B]\n"
    "\n"
    "Checks a model spec (docs/spec.md) and compiles it as vkvae train would, on no\n"
    "device: each error as FILE:LINE:COL with the line and a caret, exit 1 if any.\n"
    "\n"
    "  --explain         print the forward graph with shapes, parameters, FLOPs, and\n"
    "                    the plan: buffers, programs step by step, bytes moved\n"
    "  --batch B         compile for this batch (default: the spec's)\n";

int cmd_check(int argc, char **argv)
{
    const char *spec = NULL;
    int explain = 0;
    uint32_t batch = 0;
    const cli_option options[] = {
        {CLI_FLAG("--explain", &explain)},
        {CLI_U32("--batch", &batch), .min = 1, .max = 65536},
        {NULL},
    };
    int r = cli_options_parse(&(cli_command_line){.cmd = "check", .usage = check_usage,
                                                  .options = options, .arg = &spec},
                              argc, argv);
    if (r >= 0)
        return r;
    if (!spec)
        return cli_fail(VKVAE_BAD_INPUT, "check: which spec? (vkvae check path/to/spec.vae)");
    return cli_spec_check(spec, batch, explain ? stdout : NULL);
}
