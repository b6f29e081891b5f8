/* vkvae plot: the learning curve of a training run, the train and test
 * negative ELBO per epoch from RUN_DIR/metrics.csv, as a PNG line chart.
 * vkvae train draws the same chart into its output folder when it ends.
 */
#include <stdio.h>
#include <string.h>

#include "chart.h"
#include "cli.h"
#include "metrics_csv.h"

static const char plot_usage[] =
    "usage: vkvae plot RUN_DIR [-o curve.png] [--width W] [--height H]\n"
    "\n"
    "Draws the train and test negative ELBO per epoch from RUN_DIR/metrics.csv (written\n"
    "by vkvae train) as a line chart. A resumed run's repeated epochs count once, with\n"
    "their last row.\n"
    "\n"
    "  -o, --out PNG     output image (default RUN_DIR/curve.png)\n"
    "  --width W         image width in pixels, 200..8192 (default 640)\n"
    "  --height H        image height in pixels, 200..8192 (default 480)\n";

/* The series' colours: matplotlib's first two, familiar from loss plots. */
static const canvas_colour train_colour = {31, 119, 180}, test_colour = {255, 127, 14};
/* Loss terms: a hue per term (matplotlib's first four), dark for train and
 * light for test. */
static const canvas_colour term_colours[4][2] = {
    {{31, 119, 180}, {174, 199, 232}}, {{255, 127, 14}, {255, 187, 120}},
    {{44, 160, 44}, {152, 223, 138}}, {{214, 39, 40}, {255, 152, 150}}};

vkvae_status cli_plot_metrics(const char *metrics_path, const char *png_path, uint32_t width,
                              uint32_t height, vkvae_error *err)
{
    cli_metrics m;
    vkvae_status st = cli_metrics_read(metrics_path, &m, err);
    if (st)
        return st;
    chart_series series[2 * CLI_METRICS_MAX_TERMS] = {
        {.name = "train", .colour = train_colour, .x = m.epoch, .y = m.train, .n = m.n},
        {.name = "test", .colour = test_colour, .x = m.epoch, .y = m.test, .n = m.n},
    };
    uint32_t n_series = 2;
    char names[2 * CLI_METRICS_MAX_TERMS][80];
    if (m.n_terms) { /* a model of several networks: each loss term, train and test */
        n_series = 0;
        for (uint32_t t = 0; t < m.n_terms; t++)
            for (int test = 0; test < 2; test++) {
                snprintf(names[n_series], sizeof names[0], "%s %s", test ? "test" : "train",
                         m.term_name[t]);
                series[n_series] = (chart_series){
                    .name = names[n_series], .colour = term_colours[t % 4][test], .x = m.epoch,
                    .y = test ? m.test_term[t] : m.train_term[t], .n = m.n};
                n_series++;
            }
    }
    st = chart_write_png(png_path,
                         &(chart_desc){.width = width, .height = height, .x_label = "epoch",
                                       .y_label = m.n_terms ? "loss (nats/image)"
                                                            : "-ELBO (nats/image)",
                                       .x_integer = 1, .series = series, .n_series = n_series},
                         err);
    cli_metrics_free(&m);
    return st;
}

static int parse_side(const char *flag, const char *text, uint32_t *out)
{
    int bad = cli_parse_u32(flag, text, out);
    if (!bad && (*out < CHART_MIN_SIDE || *out > CHART_MAX_SIDE))
        return cli_fail(VKVAE_BAD_INPUT, "plot: %s %s is outside %u..%u pixels", flag, text,
                        CHART_MIN_SIDE, CHART_MAX_SIDE);
    return bad;
}

int cmd_plot(int argc, char **argv)
{
    const char *run_dir = NULL, *out = NULL;
    uint32_t width = CLI_PLOT_WIDTH, height = CLI_PLOT_HEIGHT;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(plot_usage, stdout);
            return 0;
        }
        if (a[0] != '-') {
            if (run_dir)
                return cli_fail(VKVAE_BAD_INPUT, "plot: more than one run folder ('%s', '%s')",
                                run_dir, a);
            run_dir = a;
            continue;
        }
        int is_out = strcmp(a, "-o") == 0 || strcmp(a, "--out") == 0;
        if (!is_out && strcmp(a, "--width") != 0 && strcmp(a, "--height") != 0)
            return cli_fail(VKVAE_BAD_INPUT, "plot: unknown option '%s' (see vkvae plot --help)",
                            a);
        if (!v)
            return cli_fail(VKVAE_BAD_INPUT, "plot: option %s needs a value", a);
        i++;
        int bad = is_out ? (out = v, 0)
                  : strcmp(a, "--width") == 0 ? parse_side(a, v, &width)
                                              : parse_side(a, v, &height);
        if (bad)
            return bad;
    }
    if (!run_dir)
        return cli_fail(VKVAE_BAD_INPUT, "plot: RUN_DIR is required (see vkvae plot --help)");
    char metrics_path[1024], default_out[1024];
    if ((size_t)snprintf(metrics_path, sizeof metrics_path, "%s/metrics.csv", run_dir) >=
            sizeof metrics_path ||
        (size_t)snprintf(default_out, sizeof default_out, "%s/curve.png", run_dir) >=
            sizeof default_out)
        return cli_fail(VKVAE_BAD_INPUT, "plot: run folder path too long (%zu bytes)",
                        strlen(run_dir));
    if (!out)
        out = default_out;
    vkvae_error err = {0};
    if (cli_plot_metrics(metrics_path, out, width, height, &err))
        return cli_fail(err.status, "%s", err.message);
    fprintf(stderr, "vkvae: wrote %s (%ux%u)\n", out, width, height);
    return 0;
}
