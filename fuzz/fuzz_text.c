/* libFuzzer target: text sequence files and vocabularies
 * (runtime/io/text.c). Every input is loaded five ways: as characters and
 * as words with the defaults, as characters again with the vocabulary the
 * first load built, and twice with limits (max_len, too_long, max_vocab,
 * min_count, a split). Each load must either fail with a status and a
 * message that names the file, leaving *out zeroed, or hold rows that keep
 * their contract: the tokens (valid ids, no special but <unk>), <eos> at
 * lengths - 1, <pad> after it; lines in order, on one side of the split
 * only, and every line of the file stored, skipped or dropped. Without
 * limits, each row must decode to its line (the line as is for characters,
 * its words joined by single spaces for words), and reloading with the
 * built vocabulary must give the same ids. Every vocabulary must survive
 * serialize and parse; decoding into a short buffer must give a prefix of
 * the whole text. The input is also parsed as a serialized vocabulary. The
 * line limit is lowered to 256 bytes (fuzz/meson.build) so it is reached. */
#include "fuzz_file.h"
#include "io/text.h"

typedef struct line {
    const char *at;
    size_t len;
} line;

static const char *const specials[4] = {"<pad>", "<bos>", "<eos>", "<unk>"};

/* The input's lines as the loader sees them: "\r" and a byte order mark
 * stripped; NULL with *n 0 for an empty input. */
static line *split_lines(const uint8_t *data, size_t size, size_t *n)
{
    line *lines = malloc((size + 1) * sizeof *lines);
    FUZZ_CHECK(lines != NULL);
    *n = 0;
    for (size_t i = 0; i < size;) {
        const uint8_t *nl = memchr(data + i, '\n', size - i);
        size_t end = nl ? (size_t)(nl - data) : size;
        line l = {(const char *)data + i, end - i};
        if (*n == 0 && l.len >= 3 && memcmp(l.at, "\xEF\xBB\xBF", 3) == 0)
            l.at += 3, l.len -= 3;
        if (l.len && l.at[l.len - 1] == '\r')
            l.len--;
        lines[(*n)++] = l;
        i = end + 1;
    }
    return lines;
}

/* The line's words joined by single spaces, specials' names read as <unk>. */
static size_t joined_words(line l, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < l.len;) {
        while (i < l.len && (l.at[i] == ' ' || l.at[i] == '\t'))
            i++;
        size_t start = i;
        while (i < l.len && l.at[i] != ' ' && l.at[i] != '\t')
            i++;
        if (i == start)
            break;
        const char *w = l.at + start;
        size_t len = i - start;
        for (int s = 0; s < 4; s++)
            if (len == 5 && memcmp(w, specials[s], 5) == 0)
                w = specials[3];
        if (n)
            out[n++] = ' ';
        memcpy(out + n, w, len);
        n += len;
    }
    return n;
}

static void check_vocab(const vkvae_vocab *v)
{
    FUZZ_CHECK(v->size >= 4 && v->size <= VKVAE_TEXT_MAX_VOCAB);
    for (uint32_t id = 0; id < v->size; id++) {
        size_t len;
        const char *tok = vkvae_vocab_token(v, id, &len);
        FUZZ_CHECK(tok && len > 0 && tok[len] == '\0');
        FUZZ_CHECK(vkvae_vocab_find(v, tok, len) == id);
        FUZZ_CHECK(id >= 4 || strcmp(tok, specials[id]) == 0);
    }
    char *s = vkvae_vocab_serialize(v);
    FUZZ_CHECK(s != NULL);
    vkvae_vocab back;
    vkvae_error err = {0};
    if (vkvae_vocab_parse(s, &back, &err) != VKVAE_OK)
        fprintf(stderr, "parse of a serialized vocabulary failed: %s\n", err.message);
    FUZZ_CHECK(err.status == VKVAE_OK && back.size == v->size && back.words == v->words);
    char *again = vkvae_vocab_serialize(&back);
    FUZZ_CHECK(again && strcmp(s, again) == 0);
    free(again);
    free(s);
    vkvae_vocab_destroy(&back);
}

/* Decoding into every shorter buffer gives a prefix of the whole text. */
static void check_decode_prefixes(const vkvae_vocab *v, const uint32_t *row, uint32_t n)
{
    char whole[4096], part[4096];
    size_t len = vkvae_text_decode(v, row, n, whole, sizeof whole);
    if (len >= sizeof whole)
        return;
    for (size_t size = 0; size <= len + 1; size += 1 + size / 4) {
        FUZZ_CHECK(vkvae_text_decode(v, row, n, part, size) == len);
        if (size)
            FUZZ_CHECK(strlen(part) < size && memcmp(part, whole, strlen(part)) == 0);
    }
}

static void check_set(const vkvae_text *t, const vkvae_text_set *set, char *stored,
                      uint64_t *tokens, uint64_t *unknown)
{
    FUZZ_CHECK((set->count == 0) == (set->ids == NULL));
    for (uint32_t i = 0; i < set->count; i++) {
        const uint32_t *row = set->ids + (size_t)i * set->max_len;
        uint32_t len = set->lengths[i];
        FUZZ_CHECK(len >= 2 && len <= set->max_len && row[len - 1] == VKVAE_TEXT_EOS);
        for (uint32_t j = 0; j + 1 < len; j++) {
            FUZZ_CHECK(row[j] >= VKVAE_TEXT_UNK && row[j] < t->vocab.size);
            *unknown += row[j] == VKVAE_TEXT_UNK;
        }
        for (uint32_t j = len; j < set->max_len; j++)
            FUZZ_CHECK(row[j] == VKVAE_TEXT_PAD);
        *tokens += len - 1;
        uint32_t l = set->lines[i];
        FUZZ_CHECK(l >= 1 && l <= t->lines && !stored[l]);
        FUZZ_CHECK(i == 0 || l > set->lines[i - 1]);
        stored[l] = 1;
        if (i < 8)
            check_decode_prefixes(&t->vocab, row, set->max_len);
    }
}

/* One load; on success the contract is checked and *t kept for the caller. */
static vkvae_status load(vkvae_text *t, const char *path, vkvae_text_opts o,
                         const vkvae_vocab *given, size_t nlines)
{
    vkvae_error err = {0};
    vkvae_status st = vkvae_text_load(path, &o, given, t, &err);
    if (st != VKVAE_OK) {
        FUZZ_CHECK_FAILURE(st, err);
        FUZZ_CHECK(strstr(err.message, path) != NULL);
        FUZZ_CHECK(t->path == NULL && t->seqs.ids == NULL && t->test.ids == NULL &&
                   t->vocab.size == 0 && t->vocab.bytes == NULL && t->lines == 0);
        return st;
    }
    FUZZ_CHECK(t->path && strcmp(t->path, path) == 0);
    FUZZ_CHECK(t->lines == nlines && t->seqs.count > 0);
    FUZZ_CHECK(!o.split_test_percent == !t->test.count);
    FUZZ_CHECK(!o.max_len || t->seqs.max_len == o.max_len);
    FUZZ_CHECK(!t->test.count || t->test.max_len == t->seqs.max_len);
    FUZZ_CHECK(!t->vocab.words == !o.words);
    FUZZ_CHECK(given || !o.max_vocab || t->vocab.size <= o.max_vocab);
    FUZZ_CHECK(!given || t->vocab.size == given->size);
    FUZZ_CHECK(o.too_long == VKVAE_TEXT_CUT || t->cut == 0);
    FUZZ_CHECK(o.too_long == VKVAE_TEXT_DROP || t->dropped == 0);
    check_vocab(&t->vocab);
    char *stored = calloc(nlines + 1, 1);
    FUZZ_CHECK(stored != NULL);
    uint64_t tokens = 0, unknown = 0;
    check_set(t, &t->seqs, stored, &tokens, &unknown);
    check_set(t, &t->test, stored, &tokens, &unknown);
    free(stored);
    FUZZ_CHECK(tokens == t->tokens && unknown == t->unknown);
    FUZZ_CHECK((uint64_t)t->seqs.count + t->test.count + t->skipped_empty + t->dropped ==
               t->lines);
    return st;
}

/* Without limits, each row decodes to its line. */
static void check_rows_are_lines(const vkvae_text *t, const line *lines)
{
    static char got[4 * VKVAE_TEXT_MAX_LINE + 16], want[VKVAE_TEXT_MAX_LINE + 16];
    for (uint32_t i = 0; i < t->seqs.count; i++) {
        line l = lines[t->seqs.lines[i] - 1];
        size_t n = vkvae_text_decode(&t->vocab, t->seqs.ids + (size_t)i * t->seqs.max_len,
                                     t->seqs.max_len, got, sizeof got);
        size_t w = l.len;
        if (t->vocab.words)
            w = joined_words(l, want);
        else
            memcpy(want, l.at, l.len);
        FUZZ_CHECK(n == w && memcmp(got, want, n) == 0);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *path = fuzz_write_input(data, size);
    size_t nlines;
    line *lines = split_lines(data, size, &nlines);

    vkvae_text chars, again, t;
    if (load(&chars, path, (vkvae_text_opts){0}, NULL, nlines) == VKVAE_OK) {
        FUZZ_CHECK(chars.unknown == 0 && chars.cut == 0 && chars.dropped == 0);
        check_rows_are_lines(&chars, lines);
        FUZZ_CHECK(load(&again, path, (vkvae_text_opts){0}, &chars.vocab, nlines) == VKVAE_OK);
        FUZZ_CHECK(again.seqs.count == chars.seqs.count &&
                   again.seqs.max_len == chars.seqs.max_len && again.unknown == 0);
        FUZZ_CHECK(memcmp(again.seqs.ids, chars.seqs.ids, (size_t)chars.seqs.count *
                          chars.seqs.max_len * sizeof *chars.seqs.ids) == 0);
        vkvae_text_destroy(&again);
        vkvae_text_destroy(&chars);
    }
    if (load(&t, path, (vkvae_text_opts){.words = 1}, NULL, nlines) == VKVAE_OK) {
        check_rows_are_lines(&t, lines);
        vkvae_text_destroy(&t);
    }
    vkvae_text_opts limited[2] = {
        {.max_len = 4, .too_long = VKVAE_TEXT_DROP, .max_vocab = 6, .split_test_percent = 50},
        {.words = 1, .max_len = 3, .min_count = 2, .too_long = VKVAE_TEXT_CUT},
    };
    for (int i = 0; i < 2; i++)
        if (load(&t, path, limited[i], NULL, nlines) == VKVAE_OK)
            vkvae_text_destroy(&t);
    free(lines);

    /* the input as a serialized vocabulary */
    char *text = malloc(size + 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    vkvae_vocab v;
    vkvae_error err = {0};
    vkvae_status st = vkvae_vocab_parse(text, &v, &err);
    if (st == VKVAE_OK) {
        check_vocab(&v);
        vkvae_vocab_destroy(&v);
    } else {
        FUZZ_CHECK_FAILURE(st, err);
        FUZZ_CHECK(v.size == 0 && v.bytes == NULL && v.slots == NULL);
    }
    free(text);
    return 0;
}
