/* One option parser for the subcommands: each command describes its flags
 * in a table (name, kind, destination) and cli_options_parse walks argv,
 * fills the destinations and reports the first bad flag or value in one
 * line, in the words every command has always printed:
 *
 *   CMD: option --x needs a value
 *   CMD: unknown option '--x' (see vkvae CMD --help)
 *   --x 'abc' is not a whole number from 0 to 4294967295   (cli_parse_u32)
 *   CMD: --x 0 is outside 1..10000                         (a u32 range)
 *   CMD: --x 20 is outside (0, 10)                         (a float range)
 */
#ifndef VKVAE_CLI_OPTIONS_H
#define VKVAE_CLI_OPTIONS_H

#include <stdint.h>

#include "vkvae.h"

typedef enum cli_option_kind {
    CLI_OPT_FLAG,      /* no value; int *: set to 1 */
    CLI_OPT_STRING,    /* const char **: the value as given */
    CLI_OPT_U32,       /* uint32_t *: a whole number (cli_parse_u32) */
    CLI_OPT_FLOAT,     /* float *: a finite number (cli_parse_float) */
    CLI_OPT_PRECISION, /* vkvae_precision *: fp32 or fp16 (cli_parse_precision) */
} cli_option_kind;

typedef struct cli_option {
    const char *name;     /* as typed: "--epochs", "-n"; NULL ends a table */
    cli_option_kind kind;
    void *dest;
    int *given;           /* set to 1 when the option appears (default NULL: not kept) */
    double min, max;      /* when max > min (default none): U32 within min..max,
                             FLOAT within (min, max) */
} cli_option;

/* A row's name, kind and destination, its type checked (a destination of
 * another type is a pointer mismatch the compiler reports); a row may add
 * .given and a range: {CLI_U32("--runs", &o->runs), .min = 1, .max = 10000}. */
#define CLI_OPT_DEST(type, p) ((void *)(1 ? (p) : (type *)0))
#define CLI_FLAG(n, p) .name = (n), .kind = CLI_OPT_FLAG, .dest = CLI_OPT_DEST(int, p)
#define CLI_STRING(n, p) .name = (n), .kind = CLI_OPT_STRING, .dest = CLI_OPT_DEST(const char *, p)
#define CLI_U32(n, p) .name = (n), .kind = CLI_OPT_U32, .dest = CLI_OPT_DEST(uint32_t, p)
#define CLI_FLOAT(n, p) .name = (n), .kind = CLI_OPT_FLOAT, .dest = CLI_OPT_DEST(float, p)
#define CLI_PRECISION(n, p)                                                                        \
    .name = (n), .kind = CLI_OPT_PRECISION, .dest = CLI_OPT_DEST(vkvae_precision, p)

/* Where a command's images come from (cli_data_load): the options every
 * command that reads a data set takes, and their usage lines. */
typedef struct cli_data_opts {
    const char *data;   /* NULL: Fashion-MNIST, Debian's dataset-fashion-mnist */
    const char *labels;
    float val_split;    /* 0: 0.1 */
    const char *resize, *background, *on_bad; /* image folders; NULL: fit, white, stop */
    const char *cache;  /* the decoded image folders' cache folder, "off"; NULL: the user's
                           cache folder ($XDG_CACHE_HOME or ~/.cache, then vkvae/data) */
    const char *tokens, *too_long; /* text: chars or words; cut, drop or refuse. NULL: the
                                      first */
} cli_data_opts;
#define CLI_DATA_DEFAULT "/usr/share/datasets/fashion-mnist"
/* A text model's data when --data is not given: Debian's wamerican. */
#define CLI_TEXT_DEFAULT "/usr/share/dict/american-english"
#define CLI_DATA_OPTIONS(d)                                                                        \
    {CLI_STRING("--data", &(d)->data)}, {CLI_STRING("--labels", &(d)->labels)},                   \
        {CLI_FLOAT("--val-split", &(d)->val_split), .min = 0, .max = 1},                           \
        {CLI_STRING("--resize", &(d)->resize)}, {CLI_STRING("--background", &(d)->background)},   \
        {CLI_STRING("--on-bad-image", &(d)->on_bad)}, {CLI_STRING("--cache", &(d)->cache)},      \
        {CLI_STRING("--tokens", &(d)->tokens)}, {CLI_STRING("--long", &(d)->too_long)}
#define CLI_DATA_USAGE                                                                             \
    "  --data PATH       a folder of PNG/JPEG images (one subfolder per class, or none; train/\n" \
    "                    and test/ for given splits), a folder of IDX files (the MNIST names;\n" \
    "                    4-d for colour), or a .npy of images: uint8, or float32 in [0, 1];\n"   \
    "                    N x H x W, N x C x H x W or N x H x W x C (default\n"                    \
    "                    " CLI_DATA_DEFAULT "); docs/data.md\n"                                    \
    "  --labels F.npy    the labels of a .npy of images (conditional models)\n"                   \
    "  --val-split F     the fraction held out as the test set when the data has none (default\n"\
    "                    0.1; the same images every run, the same fraction of each class)\n"     \
    "  --resize MODE     images of another size: fit (default: scale to cover, centre-crop),\n"  \
    "                    stretch, or none (centre-crop only)\n"                                   \
    "  --background C    under transparent pixels: white (default), black, grey, #RRGGBB\n"      \
    "  --on-bad-image P  stop (default) or skip (with a count) at an image that does not decode\n"\
    "  --cache DIR       where decoded image folders are kept for the next run, while the\n"     \
    "                    folder is unchanged (default ~/.cache/vkvae/data; off: none)\n"         \
    "  --tokens K --long L  text (docs/text.md; --data default " CLI_TEXT_DEFAULT "):\n" \
    "                    chars or words; a line of T or more tokens cut, drop or refuse\n"

typedef struct cli_command_line {
    const char *cmd;               /* "train": names the command in its errors */
    const char *usage;             /* printed on stdout for -h or --help */
    const cli_option *options;     /* ends with a {NULL} row */
    const char **arg;              /* the one argument that is not an option */
    const char **arg2;             /* a second one, for a command that takes two
                                      (export CKPT OUT; default NULL: none) */
    const char *second_arg;        /* one argument too many: "more than one model given"
                                      ('a', 'b'); NULL: "unexpected argument 'b'" */
} cli_command_line;

/* Walks argv left to right: -h or --help prints the usage and stops; a
 * word not starting with '-' is the argument (then arg2); an option takes
 * the next word as its value unless it is a FLAG. Returns -1 when all was
 * parsed (go on), 0 after the usage (exit 0), else the exit status of the
 * error it printed. */
int cli_options_parse(const cli_command_line *cl, int argc, char **argv);

#endif
