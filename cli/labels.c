/* `vkvae train --keep-labels N`: semi-supervised training on N labels of the
 * training set (a model with 'unlabelled' on its condition line, as
 * m2_mlp). N labels are kept, balanced over the classes (class c keeps
 * N/K, the first N mod K classes one more), chosen by a seeded shuffle of
 * each class's rows; the rest lose theirs (byte 255: the one-hot gathers
 * as all zero, which the ops read as "no label").
 *
 * Each step should see labelled rows: with 100 labels in 60,000 a shuffled
 * batch of 100 would hold one every six steps. So the training set becomes
 * the unlabelled rows plus the labelled ones repeated R = ceil(unlabelled /
 * labelled) times, and the ordinary shuffle mixes them: about half of every
 * batch has a label, and an epoch is one pass over the unlabelled rows (the
 * labelled set cycled alongside, as Kingma et al.'s and later code do).
 * The kept indices go to labelled.txt in the run's folder (one a line, rows
 * of --data's training set after --limit), so a twin trains on the same
 * labels. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/atomic.h"
#include "plan/shuffle.h"

/* The seeded choice does not collide with an epoch's shuffle (epochs count
 * from 0): a stream position of its own per class. */
#define LABELS_EPOCH 0x4c000000u

static int write_indices(const char *path, const uint32_t *keep, uint32_t n)
{
    vkvae_atomic_file af = {0};
    vkvae_error err = {0};
    vkvae_status st = vkvae_atomic_begin(&af, path, &err);
    char line[16];
    for (uint32_t i = 0; i < n && !st; i++) {
        int len = snprintf(line, sizeof line, "%u\n", keep[i]);
        st = vkvae_atomic_write(&af, line, (size_t)len, &err);
    }
    if (!st)
        st = vkvae_atomic_commit(&af, &err);
    vkvae_atomic_abort(&af);
    return st ? cli_fail(st, "%s", err.message) : 0;
}

int cli_keep_labels(vkvae_idx_dataset *d, uint32_t n, uint32_t classes, uint32_t seed,
                    const char *indices_path)
{
    vkvae_idx *im = &d->train_images, *lb = &d->train_labels;
    uint32_t count = im->count;
    if (n < classes || n >= count)
        return cli_fail(VKVAE_BAD_INPUT, "--keep-labels %u: keep at least one label a class (%u) "
                        "and fewer than the %u training images", n, classes, count);
    uint32_t *rows = malloc((size_t)count * sizeof *rows);
    uint32_t *keep = malloc((size_t)n * sizeof *keep);
    uint8_t *labelled = calloc(count, 1);
    if (!rows || !keep || !labelled) {
        free(rows), free(keep), free(labelled);
        return cli_fail(VKVAE_OUT_OF_MEMORY, "--keep-labels: out of host memory");
    }
    uint32_t kept = 0;
    for (uint32_t c = 0; c < classes; c++) {
        uint32_t have = 0, want = n / classes + (c < n % classes);
        for (uint32_t i = 0; i < count; i++)
            if (lb->data[i] == c)
                rows[have++] = i;
        if (have < want) {
            free(rows), free(keep), free(labelled);
            return cli_fail(VKVAE_BAD_INPUT, "--keep-labels %u: class %u has %u training images, "
                            "fewer than its share %u", n, c, have, want);
        }
        uint32_t *order = malloc((size_t)(have ? have : 1) * sizeof *order);
        if (!order) {
            free(rows), free(keep), free(labelled);
            return cli_fail(VKVAE_OUT_OF_MEMORY, "--keep-labels: out of host memory");
        }
        for (uint32_t i = 0; i < have; i++)
            order[i] = i;
        vkvae_shuffle(order, have, seed, LABELS_EPOCH + c);
        for (uint32_t i = 0; i < want; i++)
            labelled[rows[order[i]]] = 1;
        free(order);
    }
    for (uint32_t i = 0; i < count; i++)
        if (labelled[i])
            keep[kept++] = i;
    int r = indices_path ? write_indices(indices_path, keep, kept) : 0;

    /* the unlabelled rows, then the labelled ones R times */
    uint32_t unlabelled = count - kept, repeat = (unlabelled + kept - 1) / kept;
    uint64_t total = unlabelled + (uint64_t)kept * repeat;
    size_t width = (size_t)im->channels * im->rows * im->cols;
    uint8_t *pix = NULL, *lab = NULL;
    if (!r && total > UINT32_MAX / 2)
        r = cli_fail(VKVAE_BAD_INPUT, "--keep-labels %u: %llu rows after repeating the labelled "
                     "ones: too many", n, (unsigned long long)total);
    if (!r && (!(pix = malloc(total * width)) || !(lab = malloc(total))))
        r = cli_fail(VKVAE_OUT_OF_MEMORY, "--keep-labels: out of host memory for %llu rows",
                     (unsigned long long)total);
    uint64_t at = 0;
    for (uint32_t i = 0; !r && i < count; i++)
        if (!labelled[i]) {
            memcpy(pix + at * width, im->data + (size_t)i * width, width);
            lab[at++] = 255;
        }
    for (uint32_t k = 0; !r && k < repeat; k++)
        for (uint32_t j = 0; j < kept; j++) {
            memcpy(pix + at * width, im->data + (size_t)keep[j] * width, width);
            lab[at++] = lb->data[keep[j]];
        }
    if (r) {
        free(pix), free(lab);
    } else {
        free(im->data), free(lb->data);
        im->data = pix, lb->data = lab;
        im->count = lb->count = (uint32_t)total;
        if (indices_path)
            printf("labels: %u kept (%u a class), %u rows without; the labelled repeated %u "
                   "times: %llu rows an epoch (%s)\n", kept, n / classes, unlabelled, repeat,
                   (unsigned long long)total, indices_path);
    }
    free(rows), free(keep), free(labelled);
    return r;
}
