/* Text files as sequence data sets (text.h). The file is read once, line by
 * line through a buffer that never holds more than one line past the limit,
 * so a file without newlines costs VKVAE_TEXT_MAX_LINE bytes, not its size.
 * Each line is checked to be UTF-8 (the column of the first bad byte goes in
 * the message) and cut into tokens; the tokens a line stores go into one
 * flat array of ids. When the vocabulary is built here, those ids are
 * provisional: every distinct token gets the next id as it is met and its
 * count in the training part is kept, since the final order (by count) is
 * known only at the end. The specials take provisional ids 0 to 3 too, so a
 * word spelt "<unk>" finds one of them and never becomes a token of its own.
 * At the end the vocabulary is sorted, cut by max_vocab and min_count, and
 * the provisional ids are mapped to final ones while the rows are filled.
 * A vocabulary is a hash table (open addressing, linear probing, FNV-1a) over
 * one array of NUL-terminated token bytes; the split uses FNV-1a too, of the
 * line's bytes, so it is stable across runs and machines.
 */
#include "io/text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const special_names[VKVAE_TEXT_SPECIALS] = {"<pad>", "<bos>", "<eos>",
                                                               "<unk>"};

/* p grown to hold need elements of elem bytes (its capacity *cap doubled),
 * or NULL when out of memory (p is then left as it was). need >= 1. */
static void *grow(void *p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return p;
    size_t c = *cap ? *cap : 16;
    while (c < need) {
        if (c > SIZE_MAX / 2 / elem)
            return NULL;
        c *= 2;
    }
    void *q = realloc(p, c * elem);
    if (q)
        *cap = c;
    return q;
}

static uint64_t fnv1a64(const char *p, size_t n)
{
    uint64_t h = 14695981039346656037u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211u;
    return h;
}

static uint32_t fnv1a32(const char *p, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 16777619u;
    return h;
}

/* The length of the UTF-8 sequence at p (n bytes left, n >= 1), or 0 with
 * *why the reason it is invalid. The second byte's range rules out overlong
 * three- and four-byte forms, surrogates and code points past U+10FFFF. */
static size_t utf8_len(const unsigned char *p, size_t n, const char **why)
{
    unsigned c = p[0];
    if (c < 0x80)
        return 1;
    if (c < 0xC0) {
        *why = "a continuation byte with no lead byte";
        return 0;
    }
    if (c < 0xC2) {
        *why = "an overlong form";
        return 0;
    }
    if (c > 0xF4) {
        *why = c < 0xF8 ? "a code point past U+10FFFF" : "not a UTF-8 byte";
        return 0;
    }
    size_t len = c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    unsigned lo = 0x80, hi = 0xBF;
    if (c == 0xE0)
        lo = 0xA0;
    else if (c == 0xED)
        hi = 0x9F;
    else if (c == 0xF0)
        lo = 0x90;
    else if (c == 0xF4)
        hi = 0x8F;
    for (size_t i = 1; i < len; i++) {
        if (i >= n || (p[i] & 0xC0) != 0x80) {
            *why = "a sequence cut short";
            return 0;
        }
    }
    if (p[1] < lo || p[1] > hi) {
        *why = c == 0xED ? "a surrogate" : c == 0xF4 ? "a code point past U+10FFFF"
                                                     : "an overlong form";
        return 0;
    }
    return len;
}

/* ---- vocabularies ---- */

/* The slot holding token, or the empty slot where it would go. */
static uint32_t *vocab_slot(const vkvae_vocab *v, const char *tok, size_t len)
{
    uint32_t mask = v->slot_count - 1;
    for (uint32_t i = (uint32_t)fnv1a64(tok, len) & mask;; i = (i + 1) & mask) {
        uint32_t id1 = v->slots[i];
        if (!id1)
            return &v->slots[i];
        size_t at = v->offset[id1 - 1];
        if (v->offset[id1] - at - 1 == len && memcmp(v->bytes + at, tok, len) == 0)
            return &v->slots[i];
    }
}

static int vocab_rehash(vkvae_vocab *v, uint32_t count)
{
    uint32_t *slots = calloc(count, sizeof *slots);
    if (!slots)
        return 0;
    free(v->slots);
    v->slots = slots;
    v->slot_count = count;
    for (uint32_t id = 0; id < v->size; id++) {
        size_t at = v->offset[id];
        *vocab_slot(v, v->bytes + at, v->offset[id + 1] - at - 1) = id + 1;
    }
    return 1;
}

/* The id of token, added as the next id if new (*added set then);
 * VKVAE_VOCAB_NONE when out of memory. The caller bounds the size. */
static uint32_t vocab_add(vkvae_vocab *v, const char *tok, size_t len, int *added)
{
    *added = 0;
    if ((uint64_t)v->size * 2 + 2 > v->slot_count &&
        !vocab_rehash(v, v->slot_count ? v->slot_count * 2 : 64))
        return VKVAE_VOCAB_NONE;
    uint32_t *slot = vocab_slot(v, tok, len);
    if (*slot)
        return *slot - 1;
    size_t *offset = grow(v->offset, &v->offset_cap, (size_t)v->size + 2, sizeof *offset);
    if (!offset)
        return VKVAE_VOCAB_NONE;
    v->offset = offset;
    if (v->size == 0)
        offset[0] = 0;
    size_t at = offset[v->size];
    char *bytes = grow(v->bytes, &v->bytes_cap, at + len + 1, 1);
    if (!bytes)
        return VKVAE_VOCAB_NONE;
    v->bytes = bytes;
    memcpy(bytes + at, tok, len);
    bytes[at + len] = '\0';
    offset[v->size + 1] = at + len + 1;
    *slot = ++v->size;
    *added = 1;
    return v->size - 1;
}

static int vocab_add_specials(vkvae_vocab *v)
{
    int added;
    for (uint32_t id = 0; id < VKVAE_TEXT_SPECIALS; id++)
        if (vocab_add(v, special_names[id], strlen(special_names[id]), &added) != id)
            return 0;
    return 1;
}

uint32_t vkvae_vocab_find(const vkvae_vocab *v, const char *token, size_t len)
{
    if (!v->slot_count)
        return VKVAE_VOCAB_NONE;
    uint32_t id1 = *vocab_slot(v, token, len);
    return id1 ? id1 - 1 : VKVAE_VOCAB_NONE;
}

const char *vkvae_vocab_token(const vkvae_vocab *v, uint32_t id, size_t *len)
{
    if (id >= v->size)
        return NULL;
    if (len)
        *len = v->offset[id + 1] - v->offset[id] - 1;
    return v->bytes + v->offset[id];
}

void vkvae_vocab_destroy(vkvae_vocab *v)
{
    free(v->bytes);
    free(v->offset);
    free(v->slots);
    *v = (vkvae_vocab){0};
}

static int vocab_copy(vkvae_vocab *dst, const vkvae_vocab *src)
{
    *dst = (vkvae_vocab){.size = src->size, .words = src->words,
                         .slot_count = src->slot_count};
    size_t nbytes = src->size ? src->offset[src->size] : 0;
    dst->bytes = malloc(nbytes ? nbytes : 1);
    dst->offset = malloc(((size_t)src->size + 1) * sizeof *dst->offset);
    dst->slots = malloc((src->slot_count ? src->slot_count : 1) * sizeof *dst->slots);
    if (!dst->bytes || !dst->offset || !dst->slots) {
        vkvae_vocab_destroy(dst);
        return 0;
    }
    dst->bytes_cap = nbytes;
    dst->offset_cap = (size_t)src->size + 1;
    if (nbytes)
        memcpy(dst->bytes, src->bytes, nbytes);
    if (src->size)
        memcpy(dst->offset, src->offset, ((size_t)src->size + 1) * sizeof *dst->offset);
    else
        dst->offset[0] = 0;
    if (src->slot_count)
        memcpy(dst->slots, src->slots, src->slot_count * sizeof *dst->slots);
    return 1;
}

char *vkvae_vocab_serialize(const vkvae_vocab *v)
{
    size_t nbytes = v->size ? v->offset[v->size] : 0;
    if (nbytes > (SIZE_MAX - 64) / 2)
        return NULL;
    char *s = malloc(64 + 2 * nbytes);   /* every byte escaped, at worst */
    if (!s)
        return NULL;
    char *p = s + sprintf(s, "vkvae-vocab 1 %s %u\n", v->words ? "words" : "chars", v->size);
    for (uint32_t id = 0; id < v->size; id++) {
        size_t len = 0;
        const char *t = vkvae_vocab_token(v, id, &len);
        for (size_t i = 0; i < len; i++) {
            char c = t[i];
            if (c == '\\' || c == '\n' || c == '\r') {
                *p++ = '\\';
                c = c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
            }
            *p++ = c;
        }
        *p++ = '\n';
    }
    *p = '\0';
    return s;
}

/* Checks one unescaped token of a serialized vocabulary (line 'line'). */
static vkvae_status check_token(const char *t, size_t len, int words, unsigned line,
                                const char *src, int src_len, vkvae_error *err)
{
    if (len == 0)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "vocabulary line %u: an empty token", line);
    size_t points = 0;
    for (size_t i = 0; i < len; points++) {
        const char *why = "";
        size_t k = utf8_len((const unsigned char *)t + i, len - i, &why);
        if (!k)
            return vkvae_fail(err, VKVAE_BAD_INPUT, "vocabulary line %u: invalid UTF-8 (byte "
                              "0x%02X): %s", line, (unsigned char)t[i], why);
        if (words && (t[i] == ' ' || t[i] == '\t' || t[i] == '\n'))
            return vkvae_fail(err, VKVAE_BAD_INPUT, "vocabulary line %u: word \"%.*s\" holds "
                              "a space, tab or newline", line, src_len, src);
        i += k;
    }
    if (!words && points != 1)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "vocabulary line %u: \"%.*s\" is %zu characters, "
                          "not one", line, src_len, src, points);
    return VKVAE_OK;
}

vkvae_status vkvae_vocab_parse(const char *text, vkvae_vocab *out, vkvae_error *err)
{
    *out = (vkvae_vocab){0};
    static const char magic[] = "vkvae-vocab 1 ";
    const char *nl = strchr(text, '\n'), *p = text + sizeof magic - 1;
    int words = -1;
    if (nl && strncmp(text, magic, sizeof magic - 1) == 0) {
        if (strncmp(p, "chars ", 6) == 0)
            words = 0;
        else if (strncmp(p, "words ", 6) == 0)
            words = 1;
        p += 6;
    }
    unsigned long long size = 0;
    const char *digits = p;
    for (; words >= 0 && p < nl && *p >= '0' && *p <= '9'; p++)
        if (size <= VKVAE_TEXT_MAX_VOCAB)   /* past it, only the digits are read */
            size = size * 10 + (unsigned)(*p - '0');
    if (words < 0 || p == digits || p != nl) {
        size_t head = strcspn(text, "\n");
        return vkvae_fail(err, VKVAE_BAD_INPUT, "vocabulary line 1: expected \"vkvae-vocab 1 "
                          "chars|words COUNT\", got \"%.*s\"", head > 40 ? 40 : (int)head, text);
    }
    if (size < VKVAE_TEXT_SPECIALS || size > VKVAE_TEXT_MAX_VOCAB)
        return vkvae_fail(err, VKVAE_BAD_INPUT, "vocabulary line 1: %llu tokens (%u to %u)", size,
                          VKVAE_TEXT_SPECIALS, VKVAE_TEXT_MAX_VOCAB);
    out->words = words;
    vkvae_status s = VKVAE_OK;
    char *tok = NULL;
    size_t tok_cap = 0;
    unsigned line = 1;
    p = nl + 1;
    for (uint32_t id = 0; !s && id < size; id++) {
        line++;
        nl = strchr(p, '\n');
        if (!nl) {
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "vocabulary line %u: the text ends after %u "
                           "of the %llu tokens the header declares", line, id, size);
            break;
        }
        int src_len = nl - p > 40 ? 40 : (int)(nl - p);
        char *t = grow(tok, &tok_cap, (size_t)(nl - p) + 1, 1);
        if (!t) {
            s = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "vocabulary: out of memory");
            break;
        }
        tok = t;
        size_t len = 0;
        for (const char *q = p; !s && q < nl; q++) {
            if (*q != '\\') {
                t[len++] = *q;
                continue;
            }
            q++;
            if (q < nl && (*q == 'n' || *q == 'r' || *q == '\\'))
                t[len++] = *q == 'n' ? '\n' : *q == 'r' ? '\r' : '\\';
            else
                s = vkvae_fail(err, VKVAE_BAD_INPUT, "vocabulary line %u: unknown escape "
                               "\"\\%.1s\" (\\\\, \\n or \\r)", line, q < nl ? q : "");
        }
        if (!s && id < VKVAE_TEXT_SPECIALS &&
            (len != strlen(special_names[id]) || memcmp(t, special_names[id], len) != 0))
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "vocabulary line %u: id %u must be %s, got "
                           "\"%.*s\"", line, id, special_names[id], src_len, p);
        else if (!s && id >= VKVAE_TEXT_SPECIALS)
            s = check_token(t, len, words, line, p, src_len, err);
        int added = 0;
        uint32_t got = s ? 0 : vocab_add(out, t, len, &added);
        if (!s && got == VKVAE_VOCAB_NONE)
            s = vkvae_fail(err, VKVAE_OUT_OF_MEMORY, "vocabulary: out of memory");
        else if (!s && !added)
            s = vkvae_fail(err, VKVAE_BAD_INPUT, "vocabulary line %u: \"%.*s\" again (id %u)",
                           line, src_len, p, got);
        p = nl + 1;
    }
    if (!s && *p)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "vocabulary line %u: more lines than the %llu "
                       "tokens the header declares", line + 1, size);
    free(tok);
    if (s)
        vkvae_vocab_destroy(out);
    return s;
}

/* ---- reading lines ---- */

typedef struct line_reader {
    FILE *f;
    char *buf;
    size_t cap, start, end;
    size_t scanned;   /* bytes after start known to hold no "\n" */
    int eof;
} line_reader;

enum { LINE_OK = 1, LINE_END = 0, LINE_READ_ERROR = -1, LINE_TOO_LONG = -2, LINE_NO_MEMORY = -3 };

/* The next line, without its "\n", in *line and *len. */
static int next_line(line_reader *r, char **line, size_t *len)
{
    for (;;) {
        char *nl = NULL;
        if (r->end > r->start + r->scanned)   /* so never an offset from a NULL buf */
            nl = memchr(r->buf + r->start + r->scanned, '\n', r->end - r->start - r->scanned);
        size_t pending = (nl ? (size_t)(nl - r->buf) : r->end) - r->start;
        if (pending > VKVAE_TEXT_MAX_LINE)
            return LINE_TOO_LONG;
        if (nl || (r->eof && pending)) {
            *line = r->buf + r->start;
            *len = pending;
            r->start += pending + (nl != NULL);
            r->scanned = 0;
            return LINE_OK;
        }
        if (r->eof)
            return LINE_END;
        r->scanned = pending;
        if (r->start) {
            memmove(r->buf, r->buf + r->start, pending);
            r->start = 0;
            r->end = pending;
        }
        if (r->end == r->cap) {
            char *b = grow(r->buf, &r->cap, r->cap ? r->cap * 2 : 1 << 16, 1);
            if (!b)
                return LINE_NO_MEMORY;
            r->buf = b;
        }
        size_t got = fread(r->buf + r->end, 1, r->cap - r->end, r->f);
        r->end += got;
        if (got == 0) {
            if (ferror(r->f))
                return LINE_READ_ERROR;
            r->eof = 1;
        }
    }
}

/* ---- loading ---- */

typedef struct line_rec {
    size_t first;      /* its first id in loader.ids */
    uint32_t tokens;
    uint32_t line;
    int test;
} line_rec;

typedef struct loader {
    const char *path;
    const char *text;         /* the lines in memory (vkvae_text_load_text), or NULL: path's */
    size_t text_size;
    vkvae_text_opts o;
    const vkvae_vocab *given;
    vkvae_vocab seen;         /* without a given vocabulary: every token met, provisional ids */
    uint64_t *counts;         /* per provisional id, in the training part */
    size_t counts_cap;
    uint32_t *ids;            /* the ids the lines store, one line after the other */
    size_t nids, ids_cap;
    line_rec *recs;
    size_t nrecs, recs_cap;
    size_t *spans;            /* the current line's tokens: start, length pairs */
    size_t spans_cap;
    uint32_t longest;         /* tokens stored of the longest line */
    uint32_t lines, skipped_empty, cut, dropped;
    vkvae_error *err;
} loader;

static vkvae_status out_of_memory(loader *ld)
{
    return vkvae_fail(ld->err, VKVAE_OUT_OF_MEMORY, "%s: out of memory", ld->path);
}

/* Checks, tokenizes and stores line number lineno (len bytes, no "\n");
 * col0 is the byte column of line[0] less one (3 after a byte order mark). */
static vkvae_status add_line(loader *ld, const char *line, size_t len, uint32_t lineno,
                             size_t col0)
{
    const unsigned char *u = (const unsigned char *)line;
    if (len && line[len - 1] == '\r')
        len--;
    size_t ntok = 0;
    int in_word = 0;
    for (size_t i = 0; i < len;) {
        const char *why = "";
        size_t k = u[i] ? utf8_len(u + i, len - i, &why) : 1;
        if (u[i] == 0)
            return vkvae_fail(ld->err, VKVAE_BAD_INPUT, "%s:%u:%zu: a NUL byte (a UTF-16 or "
                              "binary file?)", ld->path, lineno, col0 + i + 1);
        if (!k)
            return vkvae_fail(ld->err, VKVAE_BAD_INPUT, "%s:%u:%zu: invalid UTF-8 (byte 0x%02X): "
                              "%s", ld->path, lineno, col0 + i + 1, u[i], why);
        /* characters: each code point a token; words: a blank ends one */
        int blank = u[i] == ' ' || u[i] == '\t';
        if (!ld->o.words || (!blank && !in_word)) {
            size_t *sp = grow(ld->spans, &ld->spans_cap, 2 * ntok + 2, sizeof *sp);
            if (!sp)
                return out_of_memory(ld);
            ld->spans = sp;
            sp[2 * ntok++] = i;
        }
        if (!ld->o.words || !blank)
            ld->spans[2 * ntok - 1] = i + k - ld->spans[2 * ntok - 2];
        in_word = !blank;
        i += k;
    }
    if (ntok == 0) {
        ld->skipped_empty++;
        return VKVAE_OK;
    }
    uint32_t limit = ld->o.max_len ? ld->o.max_len - 1 : UINT32_MAX;
    if (ntok > limit) {
        if (ld->o.too_long == VKVAE_TEXT_REFUSE)
            return vkvae_fail(ld->err, VKVAE_BAD_INPUT, "%s:%u: a sequence of %zu tokens, longer "
                              "than the limit of %u (max_len %u counts the <eos>)", ld->path,
                              lineno, ntok, limit, ld->o.max_len);
        if (ld->o.too_long == VKVAE_TEXT_DROP) {
            ld->dropped++;
            return VKVAE_OK;
        }
        ld->cut++;
        ntok = limit;
    }
    if (ld->nrecs == VKVAE_TEXT_MAX_SEQUENCES)
        return vkvae_fail(ld->err, VKVAE_BAD_INPUT, "%s:%u: more than %u sequences", ld->path,
                          lineno, VKVAE_TEXT_MAX_SEQUENCES);
    int test = ld->o.split_test_percent && fnv1a32(line, len) % 100 < ld->o.split_test_percent;
    uint32_t *ids = grow(ld->ids, &ld->ids_cap, ld->nids + ntok, sizeof *ids);
    line_rec *recs = ids ? grow(ld->recs, &ld->recs_cap, ld->nrecs + 1, sizeof *recs) : NULL;
    if (ids)
        ld->ids = ids;
    if (!recs)
        return out_of_memory(ld);
    ld->recs = recs;
    for (size_t t = 0; t < ntok; t++) {
        const char *tok = line + ld->spans[2 * t];
        size_t tok_len = ld->spans[2 * t + 1];
        uint32_t id;
        if (ld->given) {
            id = vkvae_vocab_find(ld->given, tok, tok_len);
            if (id == VKVAE_VOCAB_NONE || id < VKVAE_TEXT_SPECIALS)
                id = VKVAE_TEXT_UNK;
        } else {
            int added;
            id = vocab_add(&ld->seen, tok, tok_len, &added);
            uint64_t *counts = id == VKVAE_VOCAB_NONE ? NULL :
                               grow(ld->counts, &ld->counts_cap, ld->seen.size, sizeof *counts);
            if (!counts)
                return out_of_memory(ld);
            ld->counts = counts;
            if (added)
                counts[id] = 0;
            if (ld->seen.size > VKVAE_TEXT_MAX_VOCAB)
                return vkvae_fail(ld->err, VKVAE_BAD_INPUT, "%s:%u: more than %u distinct tokens",
                                  ld->path, lineno, VKVAE_TEXT_MAX_VOCAB - VKVAE_TEXT_SPECIALS);
            counts[id] += !test;
        }
        ld->ids[ld->nids + t] = id;
    }
    recs[ld->nrecs++] = (line_rec){.first = ld->nids, .tokens = (uint32_t)ntok, .line = lineno,
                                   .test = test};
    ld->nids += ntok;
    if (ntok > ld->longest)
        ld->longest = (uint32_t)ntok;
    return VKVAE_OK;
}

typedef struct candidate {
    uint64_t count;
    const char *bytes;
    size_t len;
    uint32_t id;
} candidate;

/* By descending count, then byte order (a prefix first). */
static int by_count(const void *pa, const void *pb)
{
    const candidate *a = pa, *b = pb;
    if (a->count != b->count)
        return a->count > b->count ? -1 : 1;
    int c = memcmp(a->bytes, b->bytes, a->len < b->len ? a->len : b->len);
    return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* The final vocabulary from ld->seen and its counts, and the ids stored
 * rewritten from provisional to final. */
static vkvae_status build_vocab(loader *ld, vkvae_vocab *v)
{
    uint32_t n = ld->seen.size;
    candidate *c = malloc((size_t)n * sizeof *c);
    uint32_t *remap = malloc((size_t)n * sizeof *remap);
    vkvae_status s = VKVAE_OK;
    if (!c || !remap || !vocab_add_specials(v))
        s = out_of_memory(ld);
    uint64_t min_count = ld->o.min_count > 1 ? ld->o.min_count : 1;
    uint32_t kept = 0;
    for (uint32_t id = 0; !s && id < n; id++) {
        remap[id] = VKVAE_TEXT_UNK;
        if (id >= VKVAE_TEXT_SPECIALS && ld->counts[id] >= min_count) {
            size_t len = 0;
            const char *bytes = vkvae_vocab_token(&ld->seen, id, &len);
            c[kept++] = (candidate){.count = ld->counts[id], .bytes = bytes, .len = len, .id = id};
        }
    }
    if (!s && kept)
        qsort(c, kept, sizeof *c, by_count);
    if (ld->o.max_vocab && kept > ld->o.max_vocab - VKVAE_TEXT_SPECIALS)
        kept = ld->o.max_vocab - VKVAE_TEXT_SPECIALS;
    for (uint32_t i = 0; !s && i < kept; i++) {
        int added;
        remap[c[i].id] = vocab_add(v, c[i].bytes, c[i].len, &added);
        if (remap[c[i].id] == VKVAE_VOCAB_NONE)
            s = out_of_memory(ld);
    }
    for (size_t i = 0; !s && i < ld->nids; i++)
        ld->ids[i] = remap[ld->ids[i]];
    free(c);
    free(remap);
    return s;
}

static vkvae_status check_opts(const loader *ld)
{
    const vkvae_text_opts *o = &ld->o;
    if (o->max_len == 1)
        return vkvae_fail(ld->err, VKVAE_BAD_INPUT, "%s: max_len 1 leaves no room for a token "
                          "(at least 2: a token and the <eos>)", ld->path);
    if ((unsigned)o->too_long > VKVAE_TEXT_REFUSE)
        return vkvae_fail(ld->err, VKVAE_BAD_INPUT, "%s: too_long %d is not CUT, DROP or REFUSE",
                          ld->path, (int)o->too_long);
    if (!ld->given && o->max_vocab && o->max_vocab <= VKVAE_TEXT_SPECIALS)
        return vkvae_fail(ld->err, VKVAE_BAD_INPUT, "%s: max_vocab %u: at least %u (the %u "
                          "specials and a token)", ld->path, o->max_vocab,
                          VKVAE_TEXT_SPECIALS + 1, VKVAE_TEXT_SPECIALS);
    if (o->split_test_percent > 99)
        return vkvae_fail(ld->err, VKVAE_BAD_INPUT, "%s: split_test_percent %u: 0 to 99",
                          ld->path, o->split_test_percent);
    if (ld->given && ld->given->size < VKVAE_TEXT_SPECIALS)
        return vkvae_fail(ld->err, VKVAE_BAD_INPUT, "%s: the vocabulary given is empty",
                          ld->path);
    if (ld->given && !ld->given->words != !o->words)
        return vkvae_fail(ld->err, VKVAE_BAD_INPUT, "%s: the vocabulary is of %s, the options "
                          "ask for %s", ld->path, ld->given->words ? "words" : "characters",
                          o->words ? "words" : "characters");
    return VKVAE_OK;
}

/* Reads every line of the file into ld. */
static vkvae_status read_lines(loader *ld)
{
    FILE *f = ld->text ? fmemopen((void *)ld->text, ld->text_size, "rb") : fopen(ld->path, "rb");
    if (!f && ld->text && ld->text_size == 0) /* (fmemopen refuses an empty buffer) */
        return VKVAE_OK;
    if (!f)
        return vkvae_fail(ld->err, VKVAE_IO, "%s: cannot open: %s", ld->path, strerror(errno));
    line_reader r = {.f = f};
    vkvae_status s = VKVAE_OK;
    char *line = NULL;
    size_t len = 0;
    int got;
    while (!s && (got = next_line(&r, &line, &len)) != LINE_END) {
        if (ld->lines == UINT32_MAX) {
            s = vkvae_fail(ld->err, VKVAE_BAD_INPUT, "%s: more than %u lines", ld->path,
                           UINT32_MAX - 1);
            break;
        }
        uint32_t lineno = ++ld->lines;
        if (got == LINE_TOO_LONG)
            s = vkvae_fail(ld->err, VKVAE_BAD_INPUT, "%s:%u: a line of more than %u bytes",
                           ld->path, lineno, (unsigned)VKVAE_TEXT_MAX_LINE);
        else if (got == LINE_READ_ERROR)
            s = vkvae_fail(ld->err, VKVAE_IO, "%s:%u: read error: %s", ld->path, lineno,
                           strerror(errno));
        else if (got == LINE_NO_MEMORY)
            s = out_of_memory(ld);
        else if (lineno == 1 && len >= 3 && memcmp(line, "\xEF\xBB\xBF", 3) == 0)
            s = add_line(ld, line + 3, len - 3, lineno, 3);   /* a byte order mark */
        else
            s = add_line(ld, line, len, lineno, 0);
    }
    free(r.buf);
    fclose(f);
    return s;
}

/* Rows for the sequences of one part (test 0 or 1) of the file. */
static vkvae_status fill_set(loader *ld, int test, uint32_t count, uint32_t max_len,
                             vkvae_text_set *set, uint64_t *tokens, uint64_t *unknown)
{
    if (count == 0)
        return VKVAE_OK;
    if ((uint64_t)count * max_len > UINT32_MAX)
        return vkvae_fail(ld->err, VKVAE_OUT_OF_MEMORY, "%s: %u sequences of max_len %u are "
                          "%llu ids, past the limit of 2^32: lower max_len", ld->path, count,
                          max_len, (unsigned long long)count * max_len);
    set->ids = calloc((size_t)count * max_len, sizeof *set->ids);
    set->lengths = malloc((size_t)count * sizeof *set->lengths);
    set->lines = malloc((size_t)count * sizeof *set->lines);
    if (!set->ids || !set->lengths || !set->lines)
        return vkvae_fail(ld->err, VKVAE_OUT_OF_MEMORY, "%s: out of memory for %u sequences of "
                          "max_len %u", ld->path, count, max_len);
    set->count = count;
    set->max_len = max_len;
    uint32_t row = 0;
    for (size_t i = 0; i < ld->nrecs; i++) {
        const line_rec *r = &ld->recs[i];
        if (r->test != test)
            continue;
        uint32_t *dst = set->ids + (size_t)row * max_len;
        for (uint32_t t = 0; t < r->tokens; t++)
            *unknown += (dst[t] = ld->ids[r->first + t]) == VKVAE_TEXT_UNK;
        dst[r->tokens] = VKVAE_TEXT_EOS;
        *tokens += r->tokens;
        set->lengths[row] = r->tokens + 1;
        set->lines[row++] = r->line;
    }
    return VKVAE_OK;
}

static void set_destroy(vkvae_text_set *set)
{
    free(set->ids);
    free(set->lengths);
    free(set->lines);
    *set = (vkvae_text_set){0};
}

void vkvae_text_destroy(vkvae_text *t)
{
    free(t->path);
    vkvae_vocab_destroy(&t->vocab);
    set_destroy(&t->seqs);
    set_destroy(&t->test);
    *t = (vkvae_text){0};
}

static vkvae_status load(loader ld, const vkvae_text_opts *opts, const vkvae_vocab *vocab,
                         vkvae_text *out, vkvae_error *err)
{
    const char *path = ld.path;
    *out = (vkvae_text){0};
    if (opts)
        ld.o = *opts;
    vkvae_status s = check_opts(&ld);
    if (!s && !vocab && !vocab_add_specials(&ld.seen))
        s = out_of_memory(&ld);
    if (!s && !vocab) {
        ld.counts = calloc(VKVAE_TEXT_SPECIALS, sizeof *ld.counts);
        ld.counts_cap = VKVAE_TEXT_SPECIALS;
        if (!ld.counts)
            s = out_of_memory(&ld);
    }
    if (!s)
        s = read_lines(&ld);
    uint32_t ntest = 0;
    for (size_t i = 0; !s && i < ld.nrecs; i++)
        ntest += (uint32_t)ld.recs[i].test;
    uint32_t ntrain = (uint32_t)ld.nrecs - ntest;
    if (!s && ld.nrecs == 0 && ld.dropped)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: no sequences: all %u were longer than "
                       "max_len - 1 = %u tokens and dropped", path, ld.dropped,
                       ld.o.max_len - 1);
    else if (!s && ld.nrecs == 0)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: no sequences (an empty file?)", path);
    else if (!s && ld.o.split_test_percent && ntest == 0)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: split_test_percent %u holds out none of the "
                       "%u sequences", path, ld.o.split_test_percent, ntrain);
    else if (!s && ld.o.split_test_percent && ntrain == 0)
        s = vkvae_fail(err, VKVAE_BAD_INPUT, "%s: split_test_percent %u leaves no training "
                       "sequences (all %u held out)", path, ld.o.split_test_percent, ntest);
    if (!s && vocab && !vocab_copy(&out->vocab, vocab))
        s = out_of_memory(&ld);
    if (!s && !vocab) {
        out->vocab.words = ld.o.words != 0;
        s = build_vocab(&ld, &out->vocab);
    }
    uint32_t max_len = ld.o.max_len ? ld.o.max_len : ld.longest + 1;
    if (!s)
        s = fill_set(&ld, 0, ntrain, max_len, &out->seqs, &out->tokens, &out->unknown);
    if (!s)
        s = fill_set(&ld, 1, ntest, max_len, &out->test, &out->tokens, &out->unknown);
    if (!s && !(out->path = strdup(path)))
        s = out_of_memory(&ld);
    out->lines = ld.lines;
    out->skipped_empty = ld.skipped_empty;
    out->cut = ld.cut;
    out->dropped = ld.dropped;
    vkvae_vocab_destroy(&ld.seen);
    free(ld.counts);
    free(ld.ids);
    free(ld.recs);
    free(ld.spans);
    if (s)
        vkvae_text_destroy(out);
    return s;
}

vkvae_status vkvae_text_load(const char *path, const vkvae_text_opts *opts,
                             const vkvae_vocab *vocab, vkvae_text *out, vkvae_error *err)
{
    return load((loader){.path = path, .given = vocab, .err = err}, opts, vocab, out, err);
}

vkvae_status vkvae_text_load_text(const char *name, const char *text, size_t size,
                                  const vkvae_text_opts *opts, const vkvae_vocab *vocab,
                                  vkvae_text *out, vkvae_error *err)
{
    return load((loader){.path = name, .text = text, .text_size = size, .given = vocab,
                         .err = err}, opts, vocab, out, err);
}

size_t vkvae_text_decode(const vkvae_vocab *v, const uint32_t *ids, uint32_t n, char *buf,
                         size_t size)
{
    size_t total = 0, written = 0;
    int full = 0;
    for (uint32_t i = 0; i < n && ids[i] != VKVAE_TEXT_EOS; i++) {
        if (ids[i] == VKVAE_TEXT_PAD || ids[i] == VKVAE_TEXT_BOS)
            continue;
        size_t len = 0;
        const char *tok = vkvae_vocab_token(v, ids[i], &len);
        if (!tok || ids[i] == VKVAE_TEXT_UNK)
            tok = special_names[VKVAE_TEXT_UNK], len = strlen(tok);
        size_t sep = v->words && total > 0;
        /* whole tokens only, so a cut never splits a character */
        if (!full && written + sep + len < size) {
            memcpy(buf + written, " ", sep);
            memcpy(buf + written + sep, tok, len);
            written += sep + len;
        } else {
            full = 1;
        }
        total += sep + len;
    }
    if (size)
        buf[written] = '\0';
    return total;
}
