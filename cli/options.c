/* The subcommands' option parser (options.h). An option is looked up
 * before its value is taken, so a FLAG never swallows the next word; an
 * unknown option is reported as unknown, last on the line too (a typo such
 * as --explian is not "needing a value"). Values go through cli_parse_*
 * (util.c), so a bad number reads the same in every command.
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "options.h"

static const cli_option *find_option(const cli_option *options, const char *name)
{
    for (const cli_option *o = options; o->name; o++)
        if (strcmp(o->name, name) == 0)
            return o;
    return NULL;
}

/* Parses text into opt's destination and checks its range; 0 on success,
 * else the exit status of the error printed. */
static int take_value(const char *cmd, const cli_option *opt, const char *text)
{
    const int ranged = opt->max > opt->min;
    int bad = 0;
    switch (opt->kind) {
    case CLI_OPT_FLAG:
        *(int *)opt->dest = 1;
        break;
    case CLI_OPT_STRING:
        *(const char **)opt->dest = text;
        break;
    case CLI_OPT_U32: {
        uint32_t *v = opt->dest;
        bad = cli_parse_u32(opt->name, text, v);
        if (!bad && ranged && (*v < opt->min || *v > opt->max))
            return cli_fail(VKVAE_BAD_INPUT, "%s: %s %s is outside %.0f..%.0f", cmd, opt->name,
                            text, opt->min, opt->max);
        break;
    }
    case CLI_OPT_FLOAT: {
        float *v = opt->dest;
        bad = cli_parse_float(opt->name, text, v);
        if (!bad && ranged && !(*v > opt->min && *v < opt->max))
            return cli_fail(VKVAE_BAD_INPUT, "%s: %s %s is outside (%g, %g)", cmd, opt->name,
                            text, opt->min, opt->max);
        break;
    }
    case CLI_OPT_PRECISION:
        bad = cli_parse_precision(opt->name, text, opt->dest);
        break;
    }
    return bad;
}

int cli_options_parse(const cli_command_line *cl, int argc, char **argv)
{
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            fputs(cl->usage, stdout);
            return 0;
        }
        if (a[0] != '-') {
            if (!*cl->arg) {
                *cl->arg = a;
                continue;
            }
            if (cl->arg2 && !*cl->arg2) {
                *cl->arg2 = a;
                continue;
            }
            if (cl->second_arg)
                return cli_fail(VKVAE_BAD_INPUT, "%s: %s ('%s', '%s')", cl->cmd, cl->second_arg,
                                *cl->arg, a);
            return cli_fail(VKVAE_BAD_INPUT, "%s: unexpected argument '%s'", cl->cmd, a);
        }
        const cli_option *opt = find_option(cl->options, a);
        if (opt && opt->given)
            *opt->given = 1;
        if (opt && opt->kind == CLI_OPT_FLAG) {
            take_value(cl->cmd, opt, NULL);
            continue;
        }
        if (!opt)
            return cli_fail(VKVAE_BAD_INPUT, "%s: unknown option '%s' (see vkvae %s --help)",
                            cl->cmd, a, cl->cmd);
        if (!v)
            return cli_fail(VKVAE_BAD_INPUT, "%s: option %s needs a value", cl->cmd, a);
        i++;
        int bad = take_value(cl->cmd, opt, v);
        if (bad)
            return bad;
    }
    return -1;
}
