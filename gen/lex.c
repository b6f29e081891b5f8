/* The lexer: source bytes to tokens. The spec language is line-oriented, so
 * a token is simply a run of non-blank bytes, classified as an identifier,
 * a number or a "word" (anything else: 1x28x28, 0..1, or garbage the parser
 * will name in its error). '#' starts a comment to the end of the line,
 * also right after a token. Every line ends in TK_EOL and the file in
 * TK_EOF, so the parser can recover line by line. Tokens point into the
 * source and carry file, line and column for diagnostics.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"

bool source_text(gen_source *src, const char *path, const char *text, size_t size,
                 gen_diag *d)
{
    memset(src, 0, sizeof *src);
    src->path = path;
    if (size > GEN_MAX_SOURCE) {
        fprintf(d->out, "%s: error: spec is larger than %d bytes\n", path, GEN_MAX_SOURCE);
        d->errors++;
        return false;
    }
    char *buf = xmalloc(size + 1); /* the lexer reads up to a terminating NUL */
    memcpy(buf, text, size);
    buf[size] = 0;
    src->text = buf;
    src->size = size;
    size_t cap = 0;
    GROW(src->line_start, cap, 1);
    src->line_start[src->n_lines++] = 0;
    for (size_t i = 0; i < size; i++) {
        bool nl = buf[i] == '\n' || (buf[i] == '\r' && (i + 1 >= size || buf[i + 1] != '\n'));
        if (nl && i + 1 < size) {
            GROW(src->line_start, cap, (size_t)src->n_lines + 1);
            src->line_start[src->n_lines++] = i + 1;
        }
    }
    return true;
}

bool source_load(gen_source *src, const char *path, gen_diag *d)
{
    memset(src, 0, sizeof *src);
    src->path = path;
    /* allocated first: running out of memory jumps out (mem.c), past an fclose */
    char *buf = xmalloc(GEN_MAX_SOURCE + 1);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(d->out, "%s: error: cannot open: %s\n", path, strerror(errno));
        d->errors++;
        return false;
    }
    size_t n = fread(buf, 1, GEN_MAX_SOURCE + 1, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad) {
        fprintf(d->out, "%s: error: cannot read\n", path);
        d->errors++;
        return false;
    }
    bool ok = source_text(src, path, buf, n, d);
    xfree(buf);
    return ok;
}

bool tok_is(const gen_token *t, const char *word)
{
    return t->kind == TK_IDENT && strlen(word) == (size_t)t->len &&
           memcmp(t->text, word, (size_t)t->len) == 0;
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f'; }

static gen_tok_kind classify(const char *s, int len, double *num)
{
    if (isalpha((unsigned char)s[0]) || s[0] == '_') {
        for (int i = 1; i < len; i++)
            if (!isalnum((unsigned char)s[i]) && s[i] != '_')
                return TK_WORD;
        return TK_IDENT;
    }
    /* decimal numbers only: no hex, inf or nan, which strtod would take */
    bool digit = false;
    for (int i = 0; i < len; i++) {
        char c = s[i];
        if (isdigit((unsigned char)c))
            digit = true;
        else if (c != '.' && c != 'e' && c != 'E' && c != '+' && c != '-')
            return TK_WORD;
    }
    if (!digit || len > 64)
        return TK_WORD;
    char tmp[65];
    memcpy(tmp, s, (size_t)len);
    tmp[len] = 0;
    char *end;
    errno = 0;
    double v = strtod(tmp, &end);
    if (end != tmp + len || !isfinite(v) || errno == ERANGE)
        return TK_WORD;
    *num = v;
    return TK_NUM;
}

gen_token *lex_source(const gen_source *src, gen_diag *d, size_t *count)
{
    gen_token *toks = NULL;
    size_t n = 0, cap = 0;
    const char *s = src->text;
    size_t i = 0;
    int line = 1;
    size_t bol = 0;
    /* A NUL byte: an image or an archive given as a spec. One line says so
     * instead of a screenful of stray bytes. */
    const char *nul = memchr(s, '\0', src->size);
    if (nul) {
        size_t at = (size_t)(nul - s), b = at;
        while (b > 0 && s[b - 1] != '\n')
            b--;
        int at_line = 1;
        for (size_t k = 0; k < b; k++)
            at_line += s[k] == '\n';
        diag_error(d, (gen_loc){ src->path, at_line, (int)(at - b) + 1, 1 },
                   "a binary file, not a spec (a NUL byte): a spec is text");
        d->silenced = true;
    }
    while (i < src->size) {
        char c = s[i];
        if (c == '\n' || c == '\r') {
            GROW(toks, cap, n + 1);
            toks[n++] = (gen_token){ .kind = TK_EOL, .text = s + i,
                .loc = { src->path, line, (int)(i - bol) + 1, 0 } };
            i += (c == '\r' && i + 1 < src->size && s[i + 1] == '\n') ? 2 : 1;
            line++;
            bol = i;
            continue;
        }
        if (is_blank(c)) {
            i++;
            continue;
        }
        if (c == '#') {
            while (i < src->size && s[i] != '\n' && s[i] != '\r')
                i++;
            continue;
        }
        if ((unsigned char)c < 0x20 || c == 0x7f) {
            diag_error(d, (gen_loc){ src->path, line, (int)(i - bol) + 1, 1 },
                       "stray control byte 0x%02x", (unsigned)(unsigned char)c);
            i++;
            continue;
        }
        size_t b = i;
        while (i < src->size && !is_blank(s[i]) && s[i] != '#' &&
               (unsigned char)s[i] >= 0x20 && s[i] != 0x7f)
            i++;
        gen_token t = { .text = s + b, .len = (int)(i - b),
            .loc = { src->path, line, (int)(b - bol) + 1, (int)(i - b) } };
        t.kind = classify(t.text, t.len, &t.num);
        GROW(toks, cap, n + 1);
        toks[n++] = t;
    }
    GROW(toks, cap, n + 2);
    toks[n++] = (gen_token){ .kind = TK_EOL, .text = s + i,
        .loc = { src->path, line, (int)(i - bol) + 1, 0 } };
    toks[n++] = (gen_token){ .kind = TK_EOF, .text = s + i,
        .loc = { src->path, line, (int)(i - bol) + 1, 0 } };
    *count = n;
    return toks;
}
