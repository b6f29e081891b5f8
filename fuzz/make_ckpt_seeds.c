/* Writes the seed corpus of fuzz_ckpt (fuzz/corpus/ckpt/): real checkpoints
 * of the two plans the target loads, from a tiny training run on the CPU
 * backend (parameters initialised as PyTorch does, two optimizer steps over
 * a patterned data set), saved by vkvae_checkpoint_save with a training
 * state and one extra metadata key. Deterministic: the same build writes
 * the same bytes.
 *   build/fuzz/fuzz_make_ckpt_seeds fuzz/corpus/ckpt
 */
#include <stdio.h>
#include <string.h>

#include "cpu/cpu_backend.h"
#include "plan/shuffle.h"
#include "session/checkpoint.h"

extern const vkvae_plan fuzz_plan_tiny_ae, fuzz_plan_tiny_vae;

static int find(const vkvae_plan *plan, const char *name)
{
    for (uint32_t i = 0; i < plan->n_tensors; i++)
        if (strcmp(plan->tensors[i].name, name) == 0)
            return (int)i;
    return -1;
}

static vkvae_status read_cb(void *user, uint32_t t, float *dst, vkvae_error *err)
{
    return vkvae_cpu_read_f32(user, t, dst, err);
}

static int seed_file(const vkvae_plan *plan, const char *dir, uint32_t steps)
{
    vkvae_cpu *cpu = NULL;
    vkvae_error err = { 0 };
    vkvae_status s = vkvae_cpu_create(plan, VKVAE_CPU_F32, &cpu, &err);
    int images = find(plan, "train.images"), perm = find(plan, "train.perm"),
        labels = find(plan, "train.labels");
    if (!s && (images < 0 || perm < 0))
        s = vkvae_fail(&err, VKVAE_INTERNAL, "plan %s has no train.images or train.perm",
                       plan->model);
    if (!s) {
        vkvae_cpu_view img = vkvae_cpu_tensor(cpu, (uint32_t)images);
        for (uint64_t i = 0; i < img.elems; i++)
            ((uint8_t *)img.data)[i] = (uint8_t)(i * 37 % 251);
        if (labels >= 0) {
            vkvae_cpu_view lab = vkvae_cpu_tensor(cpu, (uint32_t)labels);
            for (uint64_t i = 0; i < lab.elems; i++)
                ((uint8_t *)lab.data)[i] = (uint8_t)(i % (plan->classes ? plan->classes : 1));
        }
        uint32_t rows = (uint32_t)plan->tensors[perm].elems;
        vkvae_shuffle(vkvae_cpu_tensor(cpu, (uint32_t)perm).data, rows, plan->seed, 0);
        s = vkvae_cpu_init_params(cpu, plan->seed, &err);
        for (uint32_t step = 0; !s && step < steps; step++) {
            uint32_t base = step * plan->batch % rows;
            vkvae_push push = { .seed = plan->seed, .step = step, .base = base,
                                .rows = rows - base < plan->batch ? rows - base : plan->batch,
                                .kl_weight = plan->kl_beta, .grad_scale = 1.0f / plan->batch };
            s = vkvae_cpu_run(cpu, VKVAE_PROGRAM_TRAIN, &push, &err);
        }
    }
    if (!s) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s_step%u.st", dir, plan->model, steps);
        static const vkvae_st_meta extra[] = { { "note", "fuzz seed" } };
        vkvae_train_state state = { .epoch = steps / 3, .step = steps, .seed = plan->seed,
                                    .meta = extra, .meta_count = 1 };
        s = vkvae_checkpoint_save(path, plan, read_cb, cpu, &state, &err);
        if (!s)
            printf("wrote %s\n", path);
    }
    vkvae_cpu_destroy(cpu);
    if (s)
        fprintf(stderr, "make_ckpt_seeds: %s\n", err.message);
    return s ? 1 : 0;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s OUT_DIR\n", argv[0]);
        return 1;
    }
    int bad = 0;
    bad |= seed_file(&fuzz_plan_tiny_ae, argv[1], 0);
    bad |= seed_file(&fuzz_plan_tiny_ae, argv[1], 2);
    bad |= seed_file(&fuzz_plan_tiny_vae, argv[1], 2);
    return bad;
}
