/* Text sequence files (suite 'io'): crafted UTF-8 files load as rows of
 * tokens, <eos> and <pad> in characters (multibyte ones included) and in
 * words; the vocabulary is ordered by count whatever the line order, cut by
 * max_vocab and min_count, reused for a test file and saved and restored as
 * one string; long lines are cut, dropped or refused; the hash split is
 * deterministic, disjoint and complete; ids decode back to the text; every
 * malformed file is refused naming its line and column. With Debian's
 * wamerican installed, /usr/share/dict/words loads too.
 *   test_text TMP_PARENT
 */
#include <sys/stat.h>

#include "io/text.h"
#include "io_test.h"

static void write_text(const char *file, const char *text)
{
    write_bytes(tmp_path(file), text, strlen(text));
}

/* Loads file (under the temporary folder) or counts a failure. */
static int load(const char *file, vkvae_text_opts o, const vkvae_vocab *v, vkvae_text *t)
{
    vkvae_error err = {0};
    if (vkvae_text_load(tmp_path(file), &o, v, t, &err) == VKVAE_OK)
        return 1;
    fprintf(stderr, "FAIL loading %s: %s\n", file, err.message);
    failures++;
    return 0;
}

/* Row i of set as text, through vkvae_text_decode. */
static const char *row_text(const vkvae_text *t, const vkvae_text_set *set, uint32_t i)
{
    static char buf[256];
    vkvae_text_decode(&t->vocab, set->ids + (size_t)i * set->max_len, set->max_len, buf,
                      sizeof buf);
    return buf;
}

static int token_is(const vkvae_vocab *v, uint32_t id, const char *want)
{
    size_t len;
    const char *tok = vkvae_vocab_token(v, id, &len);
    return tok && len == strlen(want) && memcmp(tok, want, len) == 0;
}

static void test_chars(void)
{
    vkvae_text t;
    write_text("chars.txt", "h\xC3\xA9llo\n\xE6\xBC\xA2\xE5\xAD\x97 \xF0\x9F\x98\x80\n");
    if (!load("chars.txt", (vkvae_text_opts){0}, NULL, &t))
        return;
    CHECK(t.seqs.count == 2 && t.test.count == 0 && t.lines == 2 && t.tokens == 9);
    CHECK(t.seqs.max_len == 6);   /* the longest line's 5 tokens and the <eos> */
    CHECK(t.seqs.lengths[0] == 6 && t.seqs.lengths[1] == 5);
    CHECK(t.seqs.lines[0] == 1 && t.seqs.lines[1] == 2);
    CHECK(t.vocab.size == 4 + 8 && !t.vocab.words);
    for (uint32_t id = 0; id < 4; id++)
        CHECK(token_is(&t.vocab, id, (const char *[]){"<pad>", "<bos>", "<eos>", "<unk>"}[id]));
    const uint32_t *r0 = t.seqs.ids, *r1 = t.seqs.ids + 6;
    CHECK(token_is(&t.vocab, r0[0], "h") && token_is(&t.vocab, r0[1], "\xC3\xA9"));
    CHECK(r0[2] == r0[3] && token_is(&t.vocab, r0[2], "l") && r0[5] == VKVAE_TEXT_EOS);
    CHECK(token_is(&t.vocab, r1[0], "\xE6\xBC\xA2") && token_is(&t.vocab, r1[2], " "));
    CHECK(token_is(&t.vocab, r1[3], "\xF0\x9F\x98\x80"));
    CHECK(r1[4] == VKVAE_TEXT_EOS && r1[5] == VKVAE_TEXT_PAD);
    CHECK(r0[2] == 4);   /* "l", the most frequent */
    CHECK(vkvae_vocab_find(&t.vocab, "\xF0\x9F\x98\x80", 4) == r1[3]);
    CHECK(vkvae_vocab_find(&t.vocab, "<unk>", 5) == VKVAE_TEXT_UNK);
    CHECK(vkvae_vocab_find(&t.vocab, "x", 1) == VKVAE_VOCAB_NONE);
    CHECK(vkvae_vocab_token(&t.vocab, t.vocab.size, NULL) == NULL);
    CHECK(strcmp(row_text(&t, &t.seqs, 0), "h\xC3\xA9llo") == 0);
    CHECK(strcmp(row_text(&t, &t.seqs, 1), "\xE6\xBC\xA2\xE5\xAD\x97 \xF0\x9F\x98\x80") == 0);
    vkvae_text_destroy(&t);
    CHECK(t.seqs.ids == NULL && t.vocab.bytes == NULL && t.path == NULL);
}

/* Ids by descending count, ties in byte order, the same for any line
 * order; max_vocab and min_count send the rare ones to <unk>. */
static void test_vocab_order(void)
{
    vkvae_text a, b;
    write_text("order1.txt", "cab\nba\nd\n");
    write_text("order2.txt", "d\nba\ncab\n");
    if (!load("order1.txt", (vkvae_text_opts){0}, NULL, &a))
        return;
    if (load("order2.txt", (vkvae_text_opts){0}, NULL, &b)) {
        char *sa = vkvae_vocab_serialize(&a.vocab), *sb = vkvae_vocab_serialize(&b.vocab);
        CHECK(sa && sb && strcmp(sa, sb) == 0);
        free(sa);
        free(sb);
        vkvae_text_destroy(&b);
    }
    CHECK(a.vocab.size == 8);
    CHECK(token_is(&a.vocab, 4, "a") && token_is(&a.vocab, 5, "b"));
    CHECK(token_is(&a.vocab, 6, "c") && token_is(&a.vocab, 7, "d"));
    vkvae_text_destroy(&a);

    if (load("order1.txt", (vkvae_text_opts){.max_vocab = 6}, NULL, &a)) {
        CHECK(a.vocab.size == 6 && a.unknown == 2);   /* c and d */
        CHECK(a.seqs.ids[0] == VKVAE_TEXT_UNK && a.seqs.ids[1] == 4);
        CHECK(strcmp(row_text(&a, &a.seqs, 0), "<unk>ab") == 0);
        vkvae_text_destroy(&a);
    }
    if (load("order1.txt", (vkvae_text_opts){.min_count = 2}, NULL, &a)) {
        CHECK(a.vocab.size == 6 && a.unknown == 2);
        vkvae_text_destroy(&a);
    }
    /* nothing repeats: the specials alone, which still survive the trip */
    if (load("order1.txt", (vkvae_text_opts){.words = 1, .min_count = 2}, NULL, &a)) {
        vkvae_vocab v;
        vkvae_error err = {0};
        char *str = vkvae_vocab_serialize(&a.vocab);
        CHECK(a.vocab.size == 4 && a.unknown == 3);
        CHECK(str && vkvae_vocab_parse(str, &v, &err) == VKVAE_OK && v.size == 4);
        free(str);
        vkvae_vocab_destroy(&v);
        vkvae_text_destroy(&a);
    }
}

static void test_words(void)
{
    vkvae_text t;
    write_text("words.txt", "the  cat\tsat\n \t \nthe cat <unk> <eos>\t\n");
    if (!load("words.txt", (vkvae_text_opts){.words = 1}, NULL, &t))
        return;
    CHECK(t.vocab.words && t.seqs.count == 2 && t.skipped_empty == 1 && t.lines == 3);
    /* the 2, cat 2, sat 1: cat before the in byte order; the specials'
     * names are never tokens */
    CHECK(t.vocab.size == 7 && token_is(&t.vocab, 4, "cat") && token_is(&t.vocab, 5, "the"));
    CHECK(token_is(&t.vocab, 6, "sat") && t.unknown == 2);
    CHECK(t.seqs.max_len == 5 && t.seqs.lengths[0] == 4 && t.seqs.lengths[1] == 5);
    uint32_t want[2][5] = {{5, 4, 6, VKVAE_TEXT_EOS, 0}, {5, 4, 3, 3, VKVAE_TEXT_EOS}};
    CHECK(memcmp(t.seqs.ids, want, sizeof want) == 0);
    CHECK(strcmp(row_text(&t, &t.seqs, 0), "the cat sat") == 0);
    CHECK(strcmp(row_text(&t, &t.seqs, 1), "the cat <unk> <unk>") == 0);
    vkvae_text_destroy(&t);
}

static void test_too_long(void)
{
    vkvae_text t;
    write_text("long.txt", "abcdef\nab\n");
    if (load("long.txt", (vkvae_text_opts){.max_len = 4}, NULL, &t)) {
        CHECK(t.seqs.count == 2 && t.cut == 1 && t.dropped == 0 && t.seqs.max_len == 4);
        CHECK(t.seqs.lengths[0] == 4 && t.seqs.ids[3] == VKVAE_TEXT_EOS);
        CHECK(strcmp(row_text(&t, &t.seqs, 0), "abc") == 0);
        CHECK(t.vocab.size == 7);   /* d, e, f were never stored */
        CHECK(t.tokens == 5);
        vkvae_text_destroy(&t);
    }
    if (load("long.txt", (vkvae_text_opts){.max_len = 4, .too_long = VKVAE_TEXT_DROP}, NULL,
             &t)) {
        CHECK(t.seqs.count == 1 && t.dropped == 1 && t.cut == 0 && t.seqs.lines[0] == 2);
        CHECK(strcmp(row_text(&t, &t.seqs, 0), "ab") == 0);
        vkvae_text_destroy(&t);
    }
    /* exactly max_len - 1 tokens fit */
    if (load("long.txt", (vkvae_text_opts){.max_len = 7, .too_long = VKVAE_TEXT_REFUSE}, NULL,
             &t)) {
        CHECK(t.seqs.lengths[0] == 7 && t.cut == 0);
        vkvae_text_destroy(&t);
    }
}

static void test_line_ends(void)
{
    vkvae_text t;
    /* a byte order mark, CRLF, empty lines (CR alone too), no final "\n" */
    write_text("crlf.txt", "\xEF\xBB\xBFxy\r\n\r\n\n \r\ncd");
    if (!load("crlf.txt", (vkvae_text_opts){0}, NULL, &t))
        return;
    CHECK(t.lines == 5 && t.seqs.count == 3 && t.skipped_empty == 2);
    CHECK(strcmp(row_text(&t, &t.seqs, 0), "xy") == 0 && t.seqs.lengths[0] == 3);
    CHECK(strcmp(row_text(&t, &t.seqs, 1), " ") == 0 && t.seqs.lines[1] == 4);
    CHECK(strcmp(row_text(&t, &t.seqs, 2), "cd") == 0 && t.seqs.lines[2] == 5);
    CHECK(vkvae_vocab_find(&t.vocab, "\r", 1) == VKVAE_VOCAB_NONE);
    vkvae_text_destroy(&t);
}

/* A test file read with the training file's vocabulary. */
static void test_with_vocab(void)
{
    vkvae_text train, test;
    write_text("train.txt", "abc\nba\n");
    write_text("test.txt", "abz\nzzzzzz\n");
    if (!load("train.txt", (vkvae_text_opts){0}, NULL, &train))
        return;
    vkvae_text_opts o = {.max_len = train.seqs.max_len};
    if (load("test.txt", o, &train.vocab, &test)) {
        CHECK(test.vocab.size == train.vocab.size && test.vocab.bytes != train.vocab.bytes);
        CHECK(test.seqs.count == 2 && test.cut == 1 && test.unknown == 4 && test.tokens == 6);
        CHECK(test.seqs.ids[2] == VKVAE_TEXT_UNK && test.seqs.ids[3] == VKVAE_TEXT_EOS);
        CHECK(strcmp(row_text(&test, &test.seqs, 0), "ab<unk>") == 0);
        CHECK(vkvae_vocab_find(&test.vocab, "c", 1) == vkvae_vocab_find(&train.vocab, "c", 1));
        vkvae_text_destroy(&test);
    }
    vkvae_error err = {0};
    o.words = 1;
    expect_error("vocab_kind", vkvae_text_load(tmp_path("test.txt"), &o, &train.vocab, &test,
                                               &err),
                 &err, VKVAE_BAD_INPUT, "the vocabulary is of characters, the options ask for "
                 "words");
    vkvae_text_destroy(&train);
}

static void expect_parse_error(const char *id, const char *text, const char *sub)
{
    vkvae_vocab v;
    vkvae_error err = {0};
    expect_error(id, vkvae_vocab_parse(text, &v, &err), &err, VKVAE_BAD_INPUT, sub);
    CHECK(v.size == 0 && v.bytes == NULL && v.slots == NULL);
}

static void test_serialize(void)
{
    static const char chars[] = "vkvae-vocab 1 chars 9\n<pad>\n<bos>\n<eos>\n<unk>\n \n\\n\n"
                                "\\\\\n\\r\n\xC3\xA9\n";
    vkvae_vocab v;
    vkvae_error err = {0};
    CHECK(vkvae_vocab_parse(chars, &v, &err) == VKVAE_OK);
    CHECK(v.size == 9 && !v.words && vkvae_vocab_find(&v, " ", 1) == 4);
    CHECK(vkvae_vocab_find(&v, "\n", 1) == 5 && vkvae_vocab_find(&v, "\\", 1) == 6);
    CHECK(vkvae_vocab_find(&v, "\r", 1) == 7 && vkvae_vocab_find(&v, "\xC3\xA9", 2) == 8);
    char *s = vkvae_vocab_serialize(&v);
    CHECK(s && strcmp(s, chars) == 0);
    free(s);
    uint32_t ids[] = {VKVAE_TEXT_BOS, 8, 4, 5, 6, VKVAE_TEXT_PAD, 7, 99, VKVAE_TEXT_EOS, 4};
    char buf[32];
    CHECK(vkvae_text_decode(&v, ids, 10, buf, sizeof buf) == 11);
    CHECK(strcmp(buf, "\xC3\xA9 \n\\\r<unk>") == 0);
    /* cut at a token boundary: "é" does not fit in 2 bytes with the NUL */
    CHECK(vkvae_text_decode(&v, ids, 10, buf, 2) == 11 && buf[0] == '\0');
    CHECK(vkvae_text_decode(&v, ids, 10, buf, 4) == 11 && strcmp(buf, "\xC3\xA9 ") == 0);
    CHECK(vkvae_text_decode(&v, ids, 10, NULL, 0) == 11);
    vkvae_vocab_destroy(&v);

    static const char words[] = "vkvae-vocab 1 words 7\n<pad>\n<bos>\n<eos>\n<unk>\na\\\\b\n"
                                "caf\xC3\xA9\nx\\ry\n";
    CHECK(vkvae_vocab_parse(words, &v, &err) == VKVAE_OK);
    CHECK(v.size == 7 && v.words && vkvae_vocab_find(&v, "a\\b", 3) == 4);
    s = vkvae_vocab_serialize(&v);
    CHECK(s && strcmp(s, words) == 0);
    free(s);
    uint32_t w[] = {4, VKVAE_TEXT_PAD, 5, VKVAE_TEXT_UNK, VKVAE_TEXT_EOS, 6};
    CHECK(vkvae_text_decode(&v, w, 6, buf, sizeof buf) == 15);
    CHECK(strcmp(buf, "a\\b caf\xC3\xA9 <unk>") == 0);
    vkvae_vocab_destroy(&v);

    /* a loaded vocabulary survives the trip */
    vkvae_text t;
    write_text("trip.txt", "a b\\c  \xE6\xBC\xA2\ta\n");
    if (load("trip.txt", (vkvae_text_opts){.words = 1}, NULL, &t)) {
        s = vkvae_vocab_serialize(&t.vocab);
        CHECK(s && vkvae_vocab_parse(s, &v, &err) == VKVAE_OK);
        CHECK(v.size == t.vocab.size && v.words);
        for (uint32_t id = 0; id < v.size; id++) {
            size_t len;
            const char *tok = vkvae_vocab_token(&t.vocab, id, &len);
            CHECK(vkvae_vocab_find(&v, tok, len) == id);
        }
        free(s);
        vkvae_vocab_destroy(&v);
        vkvae_text_destroy(&t);
    }

    expect_parse_error("vocab_header", "vkvae-vocab 2 chars 5\n",
                       "vocabulary line 1: expected \"vkvae-vocab 1 chars|words COUNT\", got "
                       "\"vkvae-vocab 2 chars 5\"");
    expect_parse_error("vocab_count", "vkvae-vocab 1 chars 3\n<pad>\n<bos>\n<eos>\n",
                       "vocabulary line 1: 3 tokens (4 to 16777216)");
    expect_parse_error("vocab_huge", "vkvae-vocab 1 chars 99999999999999999999999\n",
                       "tokens (4 to 16777216)");
    expect_parse_error("vocab_short", "vkvae-vocab 1 chars 6\n<pad>\n<bos>\n<eos>\n<unk>\na\n",
                       "vocabulary line 7: the text ends after 5 of the 6 tokens");
    expect_parse_error("vocab_long", "vkvae-vocab 1 chars 5\n<pad>\n<bos>\n<eos>\n<unk>\na\nb\n",
                       "vocabulary line 7: more lines than the 5 tokens");
    expect_parse_error("vocab_specials", "vkvae-vocab 1 chars 5\n<pad>\n<eos>\n<bos>\n<unk>\na\n",
                       "vocabulary line 3: id 1 must be <bos>, got \"<eos>\"");
    expect_parse_error("vocab_dup", "vkvae-vocab 1 chars 6\n<pad>\n<bos>\n<eos>\n<unk>\na\na\n",
                       "vocabulary line 7: \"a\" again (id 4)");
    expect_parse_error("vocab_special_again",
                       "vkvae-vocab 1 words 5\n<pad>\n<bos>\n<eos>\n<unk>\n<pad>\n",
                       "vocabulary line 6: \"<pad>\" again (id 0)");
    expect_parse_error("vocab_escape", "vkvae-vocab 1 chars 5\n<pad>\n<bos>\n<eos>\n<unk>\n\\t\n",
                       "vocabulary line 6: unknown escape \"\\t\"");
    expect_parse_error("vocab_two_chars",
                       "vkvae-vocab 1 chars 5\n<pad>\n<bos>\n<eos>\n<unk>\nab\n",
                       "vocabulary line 6: \"ab\" is 2 characters, not one");
    expect_parse_error("vocab_word_space",
                       "vkvae-vocab 1 words 5\n<pad>\n<bos>\n<eos>\n<unk>\na b\n",
                       "vocabulary line 6: word \"a b\" holds a space");
    expect_parse_error("vocab_word_newline",
                       "vkvae-vocab 1 words 5\n<pad>\n<bos>\n<eos>\n<unk>\nx\\ny\n",
                       "vocabulary line 6: word \"x\\ny\" holds a space, tab or newline");
    expect_parse_error("vocab_empty", "vkvae-vocab 1 words 5\n<pad>\n<bos>\n<eos>\n<unk>\n\n",
                       "vocabulary line 6: an empty token");
    expect_parse_error("vocab_utf8", "vkvae-vocab 1 words 5\n<pad>\n<bos>\n<eos>\n<unk>\na\xFF\n",
                       "vocabulary line 6: invalid UTF-8 (byte 0xFF)");
}

static uint32_t fnv1a32(const char *s)
{
    uint32_t h = 2166136261u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* 20000 distinct words (the hash table grows many times); a tenth or so
 * held out by hash, the same on every load. */
static void test_split(void)
{
    enum { N = 20000 };
    char *text = malloc(N * 8), *p = text;
    for (int i = 0; i < N; i++)
        p += sprintf(p, "w%d\n", i);
    write_bytes(tmp_path("split.txt"), text, (size_t)(p - text));
    free(text);
    vkvae_text a, b;
    vkvae_text_opts o = {.words = 1, .split_test_percent = 10};
    if (!load("split.txt", o, NULL, &a))
        return;
    CHECK(a.seqs.count + a.test.count == N);
    CHECK(a.test.count > N / 20 && a.test.count < N / 5);
    CHECK(a.test.max_len == 2 && a.seqs.max_len == 2);
    /* each line on the side its hash says, each once */
    char *seen = calloc(N + 1, 1);
    for (int part = 0; part < 2; part++) {
        const vkvae_text_set *set = part ? &a.test : &a.seqs;
        for (uint32_t i = 0; i < set->count; i++) {
            uint32_t line = set->lines[i];
            char word[16];
            snprintf(word, sizeof word, "w%u", line - 1);
            CHECK(line >= 1 && line <= N && !seen[line]);
            seen[line] = 1;
            CHECK((fnv1a32(word) % 100 < 10) == part);
            CHECK(i == 0 || line > set->lines[i - 1]);
            /* the vocabulary knows training words only */
            uint32_t id = set->ids[2 * i];
            CHECK(part ? id == VKVAE_TEXT_UNK : token_is(&a.vocab, id, word));
            CHECK(part || vkvae_vocab_find(&a.vocab, word, strlen(word)) == id);
        }
    }
    free(seen);
    CHECK(a.vocab.size == 4 + a.seqs.count && a.unknown == a.test.count);
    if (load("split.txt", o, NULL, &b)) {
        CHECK(b.test.count == a.test.count &&
              memcmp(b.test.lines, a.test.lines, a.test.count * sizeof *a.test.lines) == 0);
        vkvae_text_destroy(&b);
    }
    vkvae_text_destroy(&a);
}

static void expect_load_error(const char *id, const char *file, vkvae_text_opts o,
                              vkvae_status want, const char *sub)
{
    vkvae_text t;
    vkvae_error err = {0};
    vkvae_status st = vkvae_text_load(tmp_path(file), &o, NULL, &t, &err);
    expect_error(id, st, &err, want, sub);
    CHECK(strstr(err.message, file) != NULL);
    CHECK(t.path == NULL && t.seqs.ids == NULL && t.test.ids == NULL && t.vocab.size == 0 &&
          t.vocab.bytes == NULL && t.lines == 0);
}

static void test_bad(void)
{
    static const struct {
        const char *id, *text, *sub;
    } utf8[] = {
        {"overlong_2", "ok\nab\xC0\xAF\n", "bad.txt:2:3: invalid UTF-8 (byte 0xC0): an overlong"},
        {"overlong_3", "\xE0\x80\xAF", "bad.txt:1:1: invalid UTF-8 (byte 0xE0): an overlong"},
        {"overlong_4", "a\xF0\x8F\xBF\xBF", "bad.txt:1:2: invalid UTF-8 (byte 0xF0): an overlong"},
        {"surrogate", "a\n\nxy\xED\xA0\x80", "bad.txt:3:3: invalid UTF-8 (byte 0xED): a surrogate"},
        {"past_10ffff", "\xF4\x90\x80\x80", "bad.txt:1:1: invalid UTF-8 (byte 0xF4): a code point "
                                            "past U+10FFFF"},
        {"f5", "abc\xF5\x80\x80\x80", "bad.txt:1:4: invalid UTF-8 (byte 0xF5)"},
        {"cut_short", "ab\xC3\nc", "bad.txt:1:3: invalid UTF-8 (byte 0xC3): a sequence cut short"},
        {"cut_short_mid", "\xE6\xBC" "a", "bad.txt:1:1: invalid UTF-8 (byte 0xE6): a sequence cut"},
        {"stray", "a b\n\x80", "bad.txt:2:1: invalid UTF-8 (byte 0x80): a continuation byte"},
        {"bom_col", "\xEF\xBB\xBF" "a\xFF", "bad.txt:1:5: invalid UTF-8 (byte 0xFF)"},
    };
    for (size_t i = 0; i < sizeof utf8 / sizeof utf8[0]; i++) {
        write_text("bad.txt", utf8[i].text);
        expect_load_error(utf8[i].id, "bad.txt", (vkvae_text_opts){0}, VKVAE_BAD_INPUT,
                          utf8[i].sub);
        expect_load_error(utf8[i].id, "bad.txt", (vkvae_text_opts){.words = 1}, VKVAE_BAD_INPUT,
                          utf8[i].sub);
    }
    write_bytes(tmp_path("nul.txt"), "ab\ncd\0e\n", 8);
    expect_load_error("nul", "nul.txt", (vkvae_text_opts){0}, VKVAE_BAD_INPUT,
                      "nul.txt:2:3: a NUL byte");
    write_text("empty.txt", "");
    expect_load_error("empty", "empty.txt", (vkvae_text_opts){0}, VKVAE_BAD_INPUT,
                      "empty.txt: no sequences (an empty file?)");
    write_text("blank.txt", "\n\r\n  \t\n");
    expect_load_error("blank_words", "blank.txt", (vkvae_text_opts){.words = 1}, VKVAE_BAD_INPUT,
                      "blank.txt: no sequences");
    write_text("long.txt", "abcdef\nab\n");
    expect_load_error("refuse", "long.txt", (vkvae_text_opts){.max_len = 4,
                                                             .too_long = VKVAE_TEXT_REFUSE},
                      VKVAE_BAD_INPUT, "long.txt:1: a sequence of 6 tokens, longer than the "
                      "limit of 3 (max_len 4 counts the <eos>)");
    expect_load_error("all_dropped", "long.txt", (vkvae_text_opts){.max_len = 2,
                                                                  .too_long = VKVAE_TEXT_DROP},
                      VKVAE_BAD_INPUT, "long.txt: no sequences: all 2 were longer than "
                      "max_len - 1 = 1 tokens");
    expect_load_error("max_len_1", "long.txt", (vkvae_text_opts){.max_len = 1}, VKVAE_BAD_INPUT,
                      "max_len 1 leaves no room");
    expect_load_error("too_long_enum", "long.txt", (vkvae_text_opts){.too_long = 7},
                      VKVAE_BAD_INPUT, "too_long 7 is not CUT, DROP or REFUSE");
    expect_load_error("max_vocab", "long.txt", (vkvae_text_opts){.max_vocab = 4},
                      VKVAE_BAD_INPUT, "max_vocab 4: at least 5");
    expect_load_error("split_100", "long.txt", (vkvae_text_opts){.split_test_percent = 100},
                      VKVAE_BAD_INPUT, "split_test_percent 100: 0 to 99");
    write_text("one.txt", "w0\n");   /* FNV-1a("w0") % 100 is 34 */
    expect_load_error("split_none", "one.txt", (vkvae_text_opts){.words = 1,
                                                                .split_test_percent = 30},
                      VKVAE_BAD_INPUT, "one.txt: split_test_percent 30 holds out none of the 1");
    expect_load_error("split_all", "one.txt", (vkvae_text_opts){.words = 1,
                                                               .split_test_percent = 40},
                      VKVAE_BAD_INPUT, "one.txt: split_test_percent 40 leaves no training");
    expect_load_error("missing", "none.txt", (vkvae_text_opts){0}, VKVAE_IO,
                      "none.txt: cannot open: No such file");
    char dir[8192];
    snprintf(dir, sizeof dir, "%s", tmp_path("dir.txt"));
    if (mkdir(dir, 0700) == 0) {
        expect_load_error("directory", "dir.txt", (vkvae_text_opts){0}, VKVAE_IO,
                          "dir.txt:1: read error");
        rmdir(dir);
    }

    /* the line limit: exactly VKVAE_TEXT_MAX_LINE bytes pass, one more fails */
    size_t max = VKVAE_TEXT_MAX_LINE;
    char *big = malloc(2 * max + 8);
    memset(big, 'a', 2 * max + 8);
    big[0] = 'x', big[1] = '\n';
    big[2 + max] = '\n';
    big[2 + max + 1 + max + 1] = '\n';
    write_bytes(tmp_path("big.txt"), big, 2 + max + 1);
    vkvae_text t;
    if (load("big.txt", (vkvae_text_opts){.words = 1}, NULL, &t)) {
        CHECK(t.seqs.count == 2 && t.seqs.max_len == 2 && t.vocab.size == 6);
        vkvae_text_destroy(&t);
    }
    write_bytes(tmp_path("big.txt"), big, 2 + max + 1 + max + 2);
    expect_load_error("line_limit", "big.txt", (vkvae_text_opts){.words = 1}, VKVAE_BAD_INPUT,
                      "big.txt:3: a line of more than 1048576 bytes");
    write_bytes(tmp_path("big.txt"), big, 2 + max + 1 + max + 1);   /* no final "\n" */
    expect_load_error("line_limit_last", "big.txt", (vkvae_text_opts){.words = 1},
                      VKVAE_BAD_INPUT, "big.txt:3: a line of more than 1048576 bytes");
    free(big);
}

/* Debian's wamerican word list, one word a line, as characters. */
static void test_dict_words(void)
{
    const char *path = "/usr/share/dict/words";
    if (access(path, R_OK) != 0) {
        printf("skip dict_words: no %s\n", path);
        return;
    }
    vkvae_text t;
    vkvae_error err = {0};
    vkvae_text_opts o = {.max_len = 32, .split_test_percent = 10};
    if (vkvae_text_load(path, &o, NULL, &t, &err) != VKVAE_OK) {
        fprintf(stderr, "FAIL %s: %s\n", path, err.message);
        failures++;
        return;
    }
    uint32_t n = t.seqs.count + t.test.count;
    printf("ok dict_words: %u lines, %u + %u sequences, %u ids, %u cut, %llu tokens\n", t.lines,
           t.seqs.count, t.test.count, t.vocab.size, t.cut, (unsigned long long)t.tokens);
    CHECK(n > 1000 && n + t.skipped_empty + t.dropped == t.lines && t.cut < n / 100);
    CHECK(t.test.count > n / 20 && t.test.count < n / 5);
    CHECK(t.vocab.size > 4 + 26 && t.vocab.size < 1000 && t.unknown < t.tokens / 100);
    int lengths_ok = 1;
    for (uint32_t i = 0; i < t.seqs.count; i++)
        lengths_ok &= t.seqs.lengths[i] >= 2 && t.seqs.lengths[i] <= 32 &&
                      t.seqs.ids[(size_t)i * 32 + t.seqs.lengths[i] - 1] == VKVAE_TEXT_EOS;
    CHECK(lengths_ok);
    vkvae_text_destroy(&t);
}

int main(int argc, char **argv)
{
    make_tmpdir(argc, argv, "text");
    test_chars();
    test_vocab_order();
    test_words();
    test_too_long();
    test_line_ends();
    test_with_vocab();
    test_serialize();
    test_split();
    test_bad();
    test_dict_words();
    return finish_tests("test_text");
}
