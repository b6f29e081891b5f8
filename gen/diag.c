/* Diagnostics. Every error goes out at once, in the order found, as
 *
 *   path:line:col: error: message
 *     the offending source line
 *     ^~~~ under the column (and the token's length)
 *
 * so editors can jump to it and tests can compare the first line verbatim.
 * They print on d->out, the caller's stream: stderr in vkvae-gen, any FILE
 * (open_memstream, say) where a library caller wants the text. Nothing is
 * buffered and nothing stops: callers keep going where they can recover
 * and fail when d->errors > 0. After GEN_MAX_ERRORS a binary or badly
 * broken file would only bury the first errors, so the next one prints
 * "FILE: error: too many errors, stopping" instead, sets d->gave_up, and
 * later ones are only counted; the stages run on to their end and return,
 * since nothing here exits. No state but *d: diagnostics of two compiles
 * never mix. Control bytes and bytes that are not UTF-8 print as '?' in the
 * echoed line, so a fuzzed spec can neither drive the terminal nor break a
 * reader expecting text.
 */
#include <stdarg.h>
#include <string.h>

#include "gen.h"

/* Writes n bytes of text: whole UTF-8 sequences as they are, tabs, and
 * printable ASCII; any other byte (a control byte, a stray byte >= 0x80)
 * as '?'. */
static void put_text(FILE *out, const char *t, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)t[i];
        size_t len = c >= 0xF0 && c < 0xF5 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 && c < 0xE0 ? 2 : 1;
        int whole = c >= 0x80 && len > 1 && i + len <= n;
        for (size_t k = 1; whole && k < len; k++)
            whole = ((unsigned char)t[i + k] & 0xC0) == 0x80;
        if (whole) {
            fwrite(t + i, 1, len, out);
            i += len - 1;
        } else {
            fputc(c == '\t' || (c >= 0x20 && c < 0x7f) ? c : '?', out);
        }
    }
}

static void echo_line(const gen_diag *d, gen_loc at)
{
    const gen_source *s = d->src;
    if (!s || at.line < 1 || at.line > s->n_lines)
        return;
    size_t b = s->line_start[at.line - 1], e = b;
    while (e < s->size && s->text[e] != '\n' && s->text[e] != '\r')
        e++;
    fputs("  ", d->out);
    put_text(d->out, s->text + b, e - b);
    fputs("\n  ", d->out);
    /* tabs stay tabs so the caret lines up whatever the tab width */
    for (size_t i = b; i < e && (int)(i - b) < at.col - 1; i++)
        fputc(s->text[i] == '\t' ? '\t' : ' ', d->out);
    fputc('^', d->out);
    for (int i = 1; i < at.len && i < 200; i++)
        fputc('~', d->out);
    fputc('\n', d->out);
}

void diag_error(gen_diag *d, gen_loc at, const char *fmt, ...)
{
    va_list ap;
    if (d->silenced) /* the error that silenced them is counted: the compile fails */
        return;
    if (d->errors++ >= GEN_MAX_ERRORS) {
        if (!d->gave_up)
            fprintf(d->out, "%s: error: too many errors, stopping\n", at.file ? at.file : "?");
        d->gave_up = true;
        return;
    }
    fprintf(d->out, "%s:%d:%d: error: ", at.file ? at.file : "?", at.line, at.col);
    /* The message may quote the spec's words: they print as text too. */
    char message[1024];
    va_start(ap, fmt);
    int n = vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    put_text(d->out, message, n < 0 ? 0 : (size_t)n < sizeof message ? (size_t)n : sizeof message - 1);
    fputc('\n', d->out);
    echo_line(d, at);
}

/* Levenshtein distance with one rolling row; words are short keywords. */
static size_t edit_distance(const char *a, size_t la, const char *b)
{
    size_t lb = strlen(b);
    if (la > 64 || lb > 64)
        return (size_t)-1;
    size_t row[65];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
            size_t best = diag + cost;
            if (row[j] + 1 < best)
                best = row[j] + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *diag_nearest(const char *word, size_t len, const char *const *cands)
{
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (size_t i = 0; cands[i]; i++) {
        size_t dist = edit_distance(word, len, cands[i]);
        if (dist < best_d) {
            best_d = dist;
            best = cands[i];
        }
    }
    /* close enough to be a typo: 1 edit for short words, 2 for longer */
    size_t limit = len <= 3 ? 1 : 2;
    return best_d <= limit ? best : NULL;
}

const char *diag_thousands(char *buf, uint64_t v)
{
    char tmp[32];
    int n = snprintf(tmp, sizeof tmp, "%llu", (unsigned long long)v);
    int o = 0;
    for (int i = 0; i < n; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = tmp[i];
    }
    buf[o] = 0;
    return buf;
}
