/* metrics.csv reading (see metrics_csv.h). Columns are found by name in
 * the header, so train may add columns without breaking plots. Rows are
 * kept with their line order, sorted by (epoch, line) and reduced to the
 * last row of each epoch. */
#include "metrics_csv.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define MAX_ABS 1e30 /* beyond this a chart cannot show the value (chart.h) */

typedef struct row {
    uint32_t epoch;
    unsigned long line;
    double train, test;
    double train_term[CLI_METRICS_MAX_TERMS], test_term[CLI_METRICS_MAX_TERMS];
} row;

enum { COL_EPOCH, COL_TRAIN, COL_TEST, COLS };
static const char *const col_names[COLS] = {"epoch", "train_loss", "test_loss"};

typedef struct reader {
    const char *path;
    unsigned long line;
    size_t n_fields;   /* the header's */
    size_t col[COLS];  /* field index of each needed column */
    uint32_t n_terms;  /* loss terms: their names and train, test fields */
    char *term_name[CLI_METRICS_MAX_TERMS];
    size_t term_col[CLI_METRICS_MAX_TERMS][2];
    char **fields;     /* n_fields slots */
    vkvae_error *err;
} reader;

/* Splits line at commas in place into at most max fields; returns the
 * field count, or max + 1 when there are more. */
static size_t split(char *line, char **fields, size_t max)
{
    size_t n = 0;
    for (char *p = line;;) {
        if (n < max)
            fields[n] = p;
        n++;
        char *comma = strchr(p, ',');
        if (!comma || n > max)
            return n;
        *comma = '\0';
        p = comma + 1;
    }
}

static vkvae_status bad(reader *r, const char *what, const char *field, const char *text)
{
    return vkvae_fail(r->err, VKVAE_BAD_INPUT, "%s:%lu: %s '%s' %s", r->path, r->line, field,
                      text, what);
}

static vkvae_status parse_field(reader *r, size_t field, const char *name, double *out)
{
    const char *text = r->fields[field];
    char *end = NULL;
    double v = strtod(text, &end); /* underflow to 0 or a denormal is fine */
    if (!text[0] || text[0] == ' ' || text[0] == '\t' || *end != '\0')
        return bad(r, "is not a number", name, text);
    if (!isfinite(v) || fabs(v) > MAX_ABS)
        return bad(r, "is not a finite number within +-1e30", name, text);
    *out = v;
    return VKVAE_OK;
}

static vkvae_status parse_loss(reader *r, int col, double *out)
{
    return parse_field(r, r->col[col], col_names[col], out);
}

static vkvae_status parse_row(reader *r, char *line, row *out)
{
    size_t n = split(line, r->fields, r->n_fields);
    if (n != r->n_fields)
        return vkvae_fail(r->err, VKVAE_BAD_INPUT, "%s:%lu: %s%zu fields where the header has %zu",
                          r->path, r->line, n > r->n_fields ? "more than " : "",
                          n > r->n_fields ? r->n_fields : n, r->n_fields);
    const char *text = r->fields[r->col[COL_EPOCH]];
    char *end = NULL;
    errno = 0;
    unsigned long long e = strtoull(text, &end, 10);
    if (text[0] < '0' || text[0] > '9' || *end != '\0' || errno || e < 1 || e > UINT32_MAX)
        return bad(r, "is not a whole epoch number from 1", "epoch", text);
    *out = (row){.epoch = (uint32_t)e, .line = r->line};
    vkvae_status st = parse_loss(r, COL_TRAIN, &out->train);
    if (!st)
        st = parse_loss(r, COL_TEST, &out->test);
    for (uint32_t t = 0; t < r->n_terms && !st; t++) {
        char name[2][80];
        snprintf(name[0], sizeof name[0], "train_%s", r->term_name[t]);
        snprintf(name[1], sizeof name[1], "test_%s", r->term_name[t]);
        st = parse_field(r, r->term_col[t][0], name[0], &out->train_term[t]);
        if (!st)
            st = parse_field(r, r->term_col[t][1], name[1], &out->test_term[t]);
    }
    return st;
}

/* Whether train_<term> is a codebook's usage column: term ends in suffix
 * and train_<the rest><other> is a column too. */
static int is_usage(const char *term, const char *suffix, const char *other, char *const *names,
                    size_t n)
{
    size_t len = strlen(term), sl = strlen(suffix);
    if (len <= sl || strcmp(term + len - sl, suffix) != 0)
        return 0;
    char want[128];
    snprintf(want, sizeof want, "train_%.*s%s", (int)(len - sl), term, other);
    for (size_t j = 0; j < n; j++)
        if (strcmp(names[j], want) == 0)
            return 1;
    return 0;
}

/* The loss terms' column pairs (metrics_csv.h). */
static vkvae_status find_terms(reader *r, char *const *names, size_t n)
{
    static const char *const fixed[] = {"loss", "recon", "kl", "ce", "error"};
    for (size_t i = 0; i < n; i++) {
        if (strncmp(names[i], "train_", 6) != 0)
            continue;
        const char *term = names[i] + 6;
        /* a codebook's usage columns (train.c: _perplexity and _dead, both)
         * are no loss terms */
        int known = is_usage(term, "_perplexity", "_dead", names, n) ||
                    is_usage(term, "_dead", "_perplexity", names, n);
        for (size_t k = 0; k < sizeof fixed / sizeof *fixed; k++)
            known |= strcmp(term, fixed[k]) == 0;
        size_t j = 0;
        while (j < n && !(strncmp(names[j], "test_", 5) == 0 && strcmp(names[j] + 5, term) == 0))
            j++;
        if (known || j == n || r->n_terms == CLI_METRICS_MAX_TERMS)
            continue;
        r->term_name[r->n_terms] = strdup(term);
        if (!r->term_name[r->n_terms])
            return vkvae_fail(r->err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", r->path);
        r->term_col[r->n_terms][0] = i;
        r->term_col[r->n_terms++][1] = j;
    }
    return VKVAE_OK;
}

static vkvae_status parse_header(reader *r, char *line)
{
    size_t n = 1;
    for (const char *p = line; (p = strchr(p, ',')); p++)
        n++;
    r->n_fields = n;
    r->fields = malloc(n * sizeof *r->fields);
    if (!r->fields)
        return vkvae_fail(r->err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", r->path);
    split(line, r->fields, n);
    for (int c = 0; c < COLS; c++) {
        size_t i = 0;
        while (i < n && strcmp(r->fields[i], col_names[c]) != 0)
            i++;
        if (i == n)
            return vkvae_fail(r->err, VKVAE_BAD_INPUT,
                              "%s:1: the header has no column '%s' (not a metrics.csv of "
                              "vkvae train?)",
                              r->path, col_names[c]);
        r->col[c] = i;
    }
    return find_terms(r, r->fields, n);
}

static int by_epoch_then_line(const void *a, const void *b)
{
    const row *x = a, *y = b;
    if (x->epoch != y->epoch)
        return x->epoch < y->epoch ? -1 : 1;
    return x->line < y->line ? -1 : x->line > y->line;
}

/* Sorts rows and keeps the last of each epoch, filling m. */
static vkvae_status reduce(const char *path, row *rows, size_t n, cli_metrics *m,
                           vkvae_error *err)
{
    qsort(rows, n, sizeof *rows, by_epoch_then_line);
    size_t kept = 0;
    for (size_t i = 0; i < n; i++)
        if (i + 1 == n || rows[i + 1].epoch != rows[i].epoch)
            rows[kept++] = rows[i];
    m->epoch = malloc(kept * sizeof *m->epoch);
    m->train = malloc(kept * sizeof *m->train);
    m->test = malloc(kept * sizeof *m->test);
    int missing = !m->epoch || !m->train || !m->test;
    for (uint32_t t = 0; t < m->n_terms; t++) {
        m->train_term[t] = malloc(kept * sizeof(double));
        m->test_term[t] = malloc(kept * sizeof(double));
        missing |= !m->train_term[t] || !m->test_term[t];
    }
    if (missing) {
        cli_metrics_free(m);
        return vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    for (size_t i = 0; i < kept; i++) {
        m->epoch[i] = rows[i].epoch, m->train[i] = rows[i].train, m->test[i] = rows[i].test;
        for (uint32_t t = 0; t < m->n_terms; t++)
            m->train_term[t][i] = rows[i].train_term[t], m->test_term[t][i] = rows[i].test_term[t];
    }
    m->n = (uint32_t)kept;
    return VKVAE_OK;
}

vkvae_status cli_metrics_read(const char *path, cli_metrics *m, vkvae_error *err)
{
    *m = (cli_metrics){0};
    FILE *f = fopen(path, "rb");
    if (!f)
        return vkvae_fail(err, VKVAE_IO, "%s: %s", path, strerror(errno));
    reader r = {.path = path, .err = err};
    row *rows = NULL;
    size_t n = 0, cap = 0, size = 0;
    char *line = NULL;
    ssize_t len;
    vkvae_status st = VKVAE_OK;
    while (!st && (len = getline(&line, &size, f)) >= 0) {
        r.line++;
        if (len > 0 && line[len - 1] == '\n')
            line[--len] = '\0';
        if (len > 0 && line[len - 1] == '\r')
            line[--len] = '\0';
        if (strlen(line) != (size_t)len) {
            st = vkvae_fail(err, VKVAE_BAD_INPUT, "%s:%lu: a NUL byte in a text line", path,
                            r.line);
        } else if (r.line == 1) {
            st = parse_header(&r, line);
        } else if (len > 0) { /* blank lines carry nothing */
            if (n == cap) {
                size_t c = cap ? 2 * cap : 64;
                row *grown = c > cap ? realloc(rows, c * sizeof *rows) : NULL;
                if (!grown) {
                    st = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", path);
                    break;
                }
                rows = grown, cap = c;
            }
            st = parse_row(&r, line, &rows[n]);
            n += !st;
        }
    }
    if (!st && ferror(f))
        st = vkvae_fail(err, VKVAE_IO, "%s:%lu: read error: %s", path, r.line + 1,
                        strerror(errno));
    else if (!st && r.line == 0)
        st = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: empty file; expected vkvae train's header "
                        "line (epoch,...,train_loss,...,test_loss,...)", path);
    else if (!st && n == 0)
        st = vkvae_fail(err, VKVAE_BAD_INPUT, "%s:%lu: no epochs after the header", path,
                        r.line + 1);
    fclose(f);
    free(line);
    free(r.fields);
    m->n_terms = r.n_terms;
    for (uint32_t t = 0; t < r.n_terms; t++)
        m->term_name[t] = r.term_name[t];
    if (!st)
        st = reduce(path, rows, n, m, err);
    else
        cli_metrics_free(m);
    free(rows);
    return st;
}

void cli_metrics_free(cli_metrics *m)
{
    free(m->epoch);
    free(m->train);
    free(m->test);
    for (uint32_t t = 0; t < m->n_terms; t++) {
        free(m->term_name[t]);
        free(m->train_term[t]);
        free(m->test_term[t]);
    }
    *m = (cli_metrics){0};
}
