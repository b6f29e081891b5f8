/* Every built-in model (runtime/models.h) is a plan the CPU backend accepts
 * against the op contracts, in double, and every program's barriers pass the
 * hazard check both ways (the train step cyclically, as it is recorded back
 * to back); its tables name what the runtime looks up.
 */
#include <stdio.h>
#include <string.h>

#include "cpu/cpu_backend.h"
#include "plan/hazard.h"
#include "plan/models.h"
#include "plan_util.h"

static int failures;

#define CHECK(cond, ...)                                                   \
    do {                                                                   \
        if (!(cond)) {                                                     \
            fprintf(stderr, "%s:%d: %s: ", __FILE__, __LINE__, #cond);     \
            fprintf(stderr, __VA_ARGS__);                                  \
            fputc('\n', stderr);                                           \
            failures++;                                                    \
        }                                                                  \
    } while (0)

int main(void)
{
    CHECK(vkvae_builtin_model_count >= 6, "%u built-in models", vkvae_builtin_model_count);
    CHECK(vkvae_builtin_models[vkvae_builtin_model_count] == NULL, "registry not NULL-ended");
    CHECK(vkvae_builtin_model("vae_mlp") && vkvae_builtin_model("vae_mlp")->n_params == 652824,
          "vae_mlp missing or not 652,824 parameters");
    CHECK(vkvae_builtin_model("iwae_mlp") != NULL, "iwae_mlp is not built");
    for (uint32_t m = 0; m < vkvae_builtin_model_count; m++) {
        const vkvae_plan *p = vkvae_builtin_models[m];
        vkvae_error err = { 0 };
        vkvae_cpu *cpu = NULL;
        vkvae_status s = vkvae_cpu_create(p, VKVAE_CPU_F64, &cpu, &err);
        CHECK(s == VKVAE_OK, "%s: %s", p->model, err.message);
        vkvae_cpu_destroy(cpu);
        uint32_t steps = 0;
        for (uint32_t k = 0; k < p->n_programs; k++) {
            char msg[256] = "";
            int cyclic = vkvae_hazard_cyclic(p->programs[k].kind, p->sample_passes > 0,
                                             p->input_vocab > 0);
            uint32_t problems = vkvae_hazard_check(p, k, cyclic, msg, sizeof msg);
            CHECK(problems == 0, "%s %s: %u problems: %s", p->model, p->programs[k].name,
                  problems, msg);
            steps += p->programs[k].n_steps;
        }
        /* every plan trains and evaluates; what else it has decides its io
         * tensors: encode reads io.x and writes io.mu (a classifier's
         * features), decode (and sample, where there is a prior) go from
         * io.z to io.mean; a GAN has only those two; a pixel model samples
         * into io.mean, its program run once a pixel and once more */
        int has[VKVAE_PROGRAM_COUNT] = { 0 };
        for (uint32_t k = 0; k < p->n_programs; k++)
            has[p->programs[k].kind]++;
        static const char *const names[] = { "params.all", "grads.all", "adam.m", "adam.v",
            "train.images", "train.perm", "loss.acc" };
        for (size_t i = 0; i < sizeof names / sizeof *names; i++)
            CHECK(plan_tensor(p, names[i]) >= 0, "%s has no tensor '%s'", p->model, names[i]);
        if (has[VKVAE_PROGRAM_ENCODE])
            CHECK(plan_tensor(p, "io.x") >= 0 && plan_tensor(p, "io.mu") >= 0,
                  "%s: encode without io.x and io.mu", p->model);
        if (p->sample_passes && p->input_vocab) /* text: decode and sample a step a run */
            CHECK(has[VKVAE_PROGRAM_SAMPLE] && has[VKVAE_PROGRAM_DECODE] &&
                      plan_tensor(p, "io.z") >= 0 && plan_tensor(p, "io.mean") >= 0 &&
                      p->sample_passes == p->input_w + 1,
                  "%s: a text model's decode and sample programs, io.z, io.mean, %u runs",
                  p->model, p->sample_passes);
        else if (p->sample_passes) /* a pixel model: sample draws into io.mean, no code */
            CHECK(has[VKVAE_PROGRAM_SAMPLE] && !has[VKVAE_PROGRAM_DECODE] &&
                      plan_tensor(p, "io.z") < 0 && plan_tensor(p, "io.mean") >= 0 &&
                      p->sample_passes == (uint64_t)p->input_c * p->input_h * p->input_w + 1,
                  "%s: a pixel model's sample program, io.mean, %u runs", p->model,
                  p->sample_passes);
        else if (has[VKVAE_PROGRAM_DECODE] || has[VKVAE_PROGRAM_SAMPLE])
            CHECK(has[VKVAE_PROGRAM_DECODE] && plan_tensor(p, "io.z") >= 0 &&
                      plan_tensor(p, "io.mean") >= 0,
                  "%s: decode or sample without decode, io.z and io.mean", p->model);
        CHECK(p->n_programs >= 3 && p->programs[0].kind == VKVAE_PROGRAM_TRAIN &&
                  p->programs[1].kind == VKVAE_PROGRAM_EVAL &&
                  (has[VKVAE_PROGRAM_ENCODE] || has[VKVAE_PROGRAM_SAMPLE]),
              "%s: %u programs", p->model, p->n_programs);
        /* every Gaussian-latent model (it has io.logvar) has the IWAE
         * estimate, a text model's (rvae_chars) a row an item, but a
         * semi-supervised one (M2), whose bound would also sum over the
         * classes, and one with a learned prior (a kl_gauss2 step:
         * vunet), whose weights would read p(a|s): not generated yet */
        int learned_prior = 0, iwae = 0;
        for (uint32_t k = 0; k < p->n_programs; k++) {
            iwae += p->programs[k].kind == VKVAE_PROGRAM_IWAE;
            for (uint32_t i = 0; i < p->programs[k].n_steps; i++)
                learned_prior |= p->programs[k].steps[i].op == VKVAE_OP_KL_GAUSS2;
        }
        int vae = plan_tensor(p, "io.logvar") >= 0 && !vkvae_plan_semi_supervised(p) &&
                  !learned_prior;
        CHECK(iwae == vae && (!vae || plan_tensor(p, "io.logw") >= 0),
              "%s: %d iwae program(s), gaussian latent %d", p->model, iwae, vae);
        CHECK(p->n_kernels == 0 && p->spec_text && p->step_flops > 0, "%s: tables", p->model);
        printf("%-14s ok: %u programs, %u steps, %llu parameters\n", p->model, p->n_programs,
               steps, (unsigned long long)p->n_params);
    }
    if (failures)
        fprintf(stderr, "%d check(s) failed\n", failures);
    return failures ? 1 : 0;
}
