/* vkvae export: a checkpoint's weights alone, for PyTorch. The checkpoint
 * is loaded strictly on its model's plan (no device: host copies) and saved
 * weights-only (vkvae_checkpoint_export): every parameter with its name,
 * shape and bytes as F32, no "optim.*" tensors, and the metadata that says
 * what it is (format, model, spec, epoch, step, seed; "optimizer" "none").
 * OUT is written atomically: on any error it is untouched, or absent.
 */
#include <stdio.h>

#include "cli.h"
#include "options.h"
#include "session/checkpoint.h"

static const char export_usage[] =
    "usage: vkvae export CKPT OUT.safetensors\n"
    "\n"
    "Writes the weights of checkpoint CKPT alone to OUT: each parameter with its\n"
    "name and shape as F32, no optimizer state (\"optim.*\"), the metadata (model,\n"
    "spec, epoch, step, seed) kept. PyTorch's strict load takes it on the matching\n"
    "nn.Module (dense weights are [out,in], as nn.Linear's):\n"
    "  model.load_state_dict(safetensors.torch.load_file(\"OUT.safetensors\"))\n"
    "sample, eval and the other commands that take a CKPT accept OUT as well;\n"
    "train --resume does not (it needs the optimizer state).\n";

int cmd_export(int argc, char **argv)
{
    const char *ckpt = NULL, *out = NULL;
    const cli_option options[] = {{NULL}};
    int r = cli_options_parse(&(cli_command_line){.cmd = "export", .usage = export_usage,
                                                  .options = options, .arg = &ckpt, .arg2 = &out},
                              argc, argv);
    if (r >= 0)
        return r;
    if (!ckpt || !out)
        return cli_fail(VKVAE_BAD_INPUT, "export: which checkpoint and which output? "
                                         "(vkvae export CKPT OUT.safetensors)");
    const vkvae_plan *plan;
    r = cli_checkpoint_plan(ckpt, &plan);
    if (r)
        return r;
    vkvae_error err = {0};
    vkvae_status s = vkvae_checkpoint_export(ckpt, out, plan, &err);
    if (!s)
        fprintf(stderr, "vkvae: wrote %s (the weights of %s: model %s, %llu parameters)\n", out,
                ckpt, plan->model, (unsigned long long)plan->n_params);
    cli_model_free(plan);
    return s ? cli_fail(err.status, "%s", err.message) : 0;
}
