/* Text for sequence models (a spec's 'input T vocab V', docs/text.md): a
 * UTF-8 file's lines as rows of token bytes (io/text.h), the vocabulary
 * kept in the checkpoint under CLI_VOCAB_KEY, and drawn tokens back into
 * lines of text. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "io/atomic.h"
#include "io/safetensors.h"
#include "io/text.h"
#include "options.h"

int cli_text_vocab(const char *ckpt, vkvae_vocab *out)
{
    memset(out, 0, sizeof *out);
    vkvae_safetensors st;
    vkvae_error err = {0};
    if (vkvae_st_read(&st, ckpt, &err))
        return cli_fail(err.status, "%s", err.message);
    const char *text = NULL;
    for (size_t i = 0; i < st.meta_count; i++)
        if (strcmp(st.meta[i].key, CLI_VOCAB_KEY) == 0)
            text = st.meta[i].value;
    int r = 0;
    if (!text)
        r = cli_fail(VKVAE_BAD_INPUT, "%s: a text model's checkpoint without its vocabulary "
                     "(metadata '%s')", ckpt, CLI_VOCAB_KEY);
    else if (vkvae_vocab_parse(text, out, &err))
        r = cli_fail(err.status, "%s: metadata '%s': %s", ckpt, CLI_VOCAB_KEY, err.message);
    vkvae_st_destroy(&st);
    return r;
}

/* A set of sequences as an image set of one row of steps: ids as bytes. */
static int as_images(const vkvae_text_set *set, const char *path, vkvae_idx *out)
{
    *out = (vkvae_idx){.ndim = 3, .count = set->count, .channels = 1, .rows = 1,
                       .cols = set->max_len};
    size_t n = (size_t)set->count * set->max_len;
    out->path = strdup(path);
    out->data = malloc(n ? n : 1);
    if (!out->path || !out->data)
        return cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    for (size_t i = 0; i < n; i++)
        out->data[i] = (uint8_t)set->ids[i];
    return 0;
}

int cli_text_data(const cli_data_opts *d, const vkvae_plan *plan, const char *vocab_ckpt,
                  vkvae_idx_dataset *out, char **vocab_text)
{
    memset(out, 0, sizeof *out);
    if (vocab_text)
        *vocab_text = NULL;
    const char *path = d->data ? d->data : CLI_TEXT_DEFAULT;
    vkvae_text_opts opts = {.max_len = plan->input_w, .max_vocab = plan->input_vocab,
                            .split_test_percent = d->val_split > 0
                                ? (uint32_t)(d->val_split * 100.0f + 0.5f) : 10};
    if (opts.split_test_percent < 1 || opts.split_test_percent > 99)
        return cli_fail(VKVAE_BAD_INPUT, "--val-split %g: a text file's test lines are a "
                        "whole percentage of them, 1 to 99", (double)d->val_split);
    if (d->tokens && strcmp(d->tokens, "words") == 0)
        opts.words = 1;
    else if (d->tokens && strcmp(d->tokens, "chars") != 0)
        return cli_fail(VKVAE_BAD_INPUT, "--tokens '%s': chars (the default) or words",
                        d->tokens);
    if (!d->too_long || strcmp(d->too_long, "cut") == 0)
        opts.too_long = VKVAE_TEXT_CUT;
    else if (strcmp(d->too_long, "drop") == 0)
        opts.too_long = VKVAE_TEXT_DROP;
    else if (strcmp(d->too_long, "refuse") == 0)
        opts.too_long = VKVAE_TEXT_REFUSE;
    else
        return cli_fail(VKVAE_BAD_INPUT, "--long '%s': cut (the default), drop or refuse",
                        d->too_long);
    vkvae_vocab given = {0}, *vocab = NULL;
    int r = vocab_ckpt ? cli_text_vocab(vocab_ckpt, &given) : 0;
    if (r)
        return r;
    if (vocab_ckpt) {
        vocab = &given;
        if (d->tokens && opts.words != given.words) {
            vkvae_vocab_destroy(&given);
            return cli_fail(VKVAE_BAD_INPUT, "--tokens %s: %s reads text as %s", d->tokens,
                            vocab_ckpt, given.words ? "words" : "chars");
        }
        opts.words = given.words;
    }
    vkvae_text text;
    vkvae_error err = {0};
    vkvae_status st = vkvae_text_load(path, &opts, vocab, &text, &err);
    vkvae_vocab_destroy(&given);
    if (st == VKVAE_IO && !d->data)
        return cli_fail(st, "%s: %s (the default word list comes with Debian's package "
                        "wamerican, which tools/setup.sh installs; or give --data)", path,
                        err.message);
    if (st)
        return cli_fail(st, "%s", err.message);
    if (text.vocab.size > plan->input_vocab) {
        r = cli_fail(VKVAE_BAD_INPUT, "%s: a vocabulary of %u tokens, more than model %s's "
                     "%u", path, text.vocab.size, plan->model, plan->input_vocab);
    } else {
        r = as_images(&text.seqs, path, &out->train_images);
        if (!r)
            r = as_images(&text.test, path, &out->test_images);
    }
    if (!r && vocab_text && !(*vocab_text = vkvae_vocab_serialize(&text.vocab)))
        r = cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory");
    if (!r) {
        fprintf(stderr, "vkvae: %s: %u lines as %s: %u train, %u test; a vocabulary of %u "
                "(%llu of %llu tokens <unk>)", path, text.lines, opts.words ? "words" : "chars",
                text.seqs.count, text.test.count, text.vocab.size,
                (unsigned long long)text.unknown, (unsigned long long)text.tokens);
        if (text.cut || text.dropped)
            fprintf(stderr, "; %u lines past %u tokens %s", text.cut + text.dropped,
                    plan->input_w - 1, text.cut ? "cut" : "dropped");
        fprintf(stderr, "\n");
    }
    vkvae_text_destroy(&text);
    if (r)
        vkvae_idx_dataset_destroy(out);
    return r;
}

int cli_text_lines(const char *name, const char *lines, const vkvae_vocab *v,
                   const vkvae_plan *plan, vkvae_idx *out)
{
    vkvae_text text;
    vkvae_error err = {0};
    vkvae_text_opts opts = {.words = v->words, .max_len = plan->input_w};
    if (vkvae_text_load_text(name, lines, strlen(lines), &opts, v, &text, &err))
        return cli_fail(err.status, "%s", err.message);
    int r = as_images(&text.seqs, name, out);
    vkvae_text_destroy(&text);
    return r;
}

uint32_t cli_text_id(float level, uint32_t vocab)
{
    float k = level * (float)(vocab - 1) + 0.5f;
    return k <= 0.0f ? 0 : k >= (float)(vocab - 1) ? vocab - 1 : (uint32_t)k;
}

size_t cli_text_row(const vkvae_vocab *v, const float *levels, uint32_t steps, uint32_t vocab,
                    char *buf, size_t size)
{
    uint32_t ids[256], n = steps < 256 ? steps : 256; /* (a plan's steps: at most a byte's) */
    for (uint32_t t = 0; t < n; t++)
        ids[t] = cli_text_id(levels[t], vocab);
    size_t len = vkvae_text_decode(v, ids, n, buf, size);
    return len < size ? len : size - 1;
}

int cli_text_write(const char *path, const vkvae_vocab *v, const float *levels, uint32_t n,
                   uint32_t steps, uint32_t vocab)
{
    size_t size = (size_t)steps * 64 + 64; /* (a word may be long: decode cuts it) */
    char *line = malloc(size);
    vkvae_atomic_file af;
    vkvae_error err = {0};
    int r = !line ? cli_fail(VKVAE_OUT_OF_MEMORY, "out of host memory") : 0;
    if (!r && path && vkvae_atomic_begin(&af, path, &err))
        r = cli_fail(err.status, "%s", err.message);
    for (uint32_t i = 0; !r && i < n; i++) {
        size_t len = cli_text_row(v, levels + (size_t)i * steps, steps, vocab, line, size - 1);
        line[len++] = '\n';
        if (!path)
            fwrite(line, 1, len, stdout);
        else if (vkvae_atomic_write(&af, line, len, &err))
            r = cli_fail(err.status, "%s", err.message);
    }
    if (path && !r && vkvae_atomic_commit(&af, &err))
        r = cli_fail(err.status, "%s", err.message);
    else if (path && r)
        vkvae_atomic_abort(&af);
    if (!r && path)
        fprintf(stderr, "vkvae: wrote %s (%u lines)\n", path, n);
    free(line);
    return r;
}
