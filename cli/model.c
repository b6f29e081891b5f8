/* Opening a trained model for the commands that use one (sample,
 * reconstruct, interpolate, traverse, edit, encode): the checkpoint carries
 * its spec, which gives the plan (a built-in model's own plan when the text
 * is that model's, else the spec compiled now, so a user's model opens in
 * any vkvae); the session is created on the chosen backend and the weights
 * are loaded strictly.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "io/safetensors.h"
#include "plan/models.h"
#include "session/checkpoint.h"

static vkvae_status write_cb(void *user, uint32_t tensor, const float *src, vkvae_error *err)
{
    return vkvae_session_write(user, tensor, src, err);
}

int cli_model_open(const char *cmd, const char *ckpt, const char *device,
                   vkvae_precision precision, cli_model_handle *out)
{
    memset(out, 0, sizeof *out);
    vkvae_error err = {0};
    vkvae_safetensors st;
    if (vkvae_st_read(&st, ckpt, &err))
        return cli_fail(err.status, "%s", err.message);
    const char *model = NULL, *spec = NULL;
    for (size_t i = 0; i < st.meta_count; i++) {
        if (strcmp(st.meta[i].key, "model") == 0)
            model = st.meta[i].value;
        if (strcmp(st.meta[i].key, "spec") == 0)
            spec = st.meta[i].value;
    }
    const vkvae_plan *plan = model ? vkvae_builtin_model(model) : NULL;
    int r = 0;
    if (model && spec && (!plan || !plan->spec_text || strcmp(plan->spec_text, spec) != 0)) {
        /* not this build's model of that name: the spec the checkpoint carries */
        char where[1100];
        snprintf(where, sizeof where, "%s (its spec)", ckpt);
        plan = NULL;
        r = cli_model_compile(where, spec, &plan);
    }
    char name[128];
    snprintf(name, sizeof name, "%s", model ? model : "");
    vkvae_st_destroy(&st);
    if (r)
        return r;
    if (!model)
        return cli_fail(VKVAE_BAD_INPUT, "%s: not a vkvae checkpoint (no 'model' in its metadata)",
                        ckpt);
    if (!plan)
        return cli_fail(VKVAE_BAD_INPUT, "%s: model '%s' is not built into this vkvae, and the "
                        "checkpoint carries no spec", ckpt, name);
    out->plan = plan;
    r = cli_context(cmd, device, precision, &out->ctx);
    if (r) {
        cli_model_close(out);
        return r;
    }
    vkvae_status s = vkvae_session_create(&(vkvae_session_desc){.plan = plan, .ctx = out->ctx},
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
