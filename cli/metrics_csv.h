/* Reading the metrics.csv that `vkvae train` writes: a header line naming
 * the columns, then one row per finished epoch. A resumed run appends to
 * the file and may repeat epochs (those after its checkpoint); the last row
 * of an epoch is the one that led to the run's checkpoints, so it wins. */
#ifndef VKVAE_CLI_METRICS_CSV_H
#define VKVAE_CLI_METRICS_CSV_H

#include <stdint.h>

#include "error.h"

enum { CLI_METRICS_MAX_TERMS = 8 };

typedef struct cli_metrics {
    uint32_t n;                    /* epochs, ascending */
    double *epoch, *train, *test;  /* n each: epoch number, train and test negative ELBO */
    /* a model of several networks: its loss terms, the column pairs
     * train_<term>, test_<term> other than the one-network models' (recon,
     * kl, ce, error) */
    uint32_t n_terms;
    char *term_name[CLI_METRICS_MAX_TERMS];
    double *train_term[CLI_METRICS_MAX_TERMS], *test_term[CLI_METRICS_MAX_TERMS];
} cli_metrics;

/* Reads path strictly: the header must have the columns epoch, train_loss
 * and test_loss; every row as many fields as the header, a whole epoch
 * number from 1 and finite losses. Errors name the file and line
 * ("run/metrics.csv:3: ..."), with BAD_INPUT, or IO when it cannot be
 * read. On failure m is left empty. */
vkvae_status cli_metrics_read(const char *path, cli_metrics *m, vkvae_error *err);
void cli_metrics_free(cli_metrics *m);

#endif
