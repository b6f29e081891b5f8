/* Opening a trained model for the commands that use one (sample,
 * reconstruct, interpolate, traverse, edit, encode, eval; export takes the
 * plan alone): the plan is the checkpoint's (vkvae_checkpoint_plan: a
 * built-in model with the very spec it carries, else that spec compiled, so
 * a user's model opens in any vkvae); the session is created on the chosen
 * backend and the weights are loaded strictly.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "session/checkpoint.h"

static vkvae_status write_cb(void *user, uint32_t tensor, const float *src, vkvae_error *err)
{
    return vkvae_session_write(user, tensor, src, err);
}

int cli_checkpoint_plan(const char *ckpt, const vkvae_plan **out)
{
    vkvae_error err = {0};
    char name[128], *diagnostics = NULL;
    vkvae_plan *owned;
    vkvae_status ps = vkvae_checkpoint_plan(ckpt, NULL, name, sizeof name, out, &owned,
                                            &diagnostics, &err);
    int printed = ps && diagnostics; /* the carried spec's, as vkvae-gen prints them */
    if (printed)
        fputs(diagnostics, stderr);
    free(diagnostics);
    if (ps)
        return printed ? vkvae_status_exit_code(ps) : cli_fail(err.status, "%s", err.message);
    return 0;
}

int cli_model_open(const char *cmd, const char *ckpt, uint32_t data_rows, const char *device,
                   vkvae_precision precision, cli_model_handle *out)
{
    memset(out, 0, sizeof *out);
    vkvae_error err = {0};
    int r = cli_checkpoint_plan(ckpt, &out->plan);
    if (r)
        return r;
    /* The data set is sized for what the command puts there: no training
     * set's worth of memory for a sample. */
    r = cli_model_fit(&out->plan, 0, data_rows ? data_rows : 1);
    if (!r)
        r = cli_context(cmd, device, precision, &out->ctx);
    if (r) {
        cli_model_close(out);
        return r;
    }
    vkvae_status s = vkvae_session_create(&(vkvae_session_desc){.plan = out->plan, .ctx = out->ctx},
                                 &out->session, &err);
    vkvae_train_state state = {0};
    if (!s)
        s = vkvae_checkpoint_load(ckpt, vkvae_session_plan(out->session), write_cb, out->session,
                                  &state, 0, &err);
    if (s) {
        cli_model_close(out);
        return cli_fail(err.status, "%s", err.message);
    }
    out->seed = state.seed;
    return 0;
}

int cli_model_close(cli_model_handle *m)
{
    vkvae_session_destroy(m->session);
    cli_model_free(m->plan);
    uint32_t messages = m->ctx ? vkvae_validation_message_count(m->ctx) : 0;
    vkvae_context_destroy(m->ctx);
    memset(m, 0, sizeof *m);
    return messages ? cli_fail(VKVAE_VALIDATION, "the validation layer reported %u message(s)",
                               messages)
                    : 0;
}
