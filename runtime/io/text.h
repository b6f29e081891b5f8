/* Text data sets for sequence models: a UTF-8 file of one sequence per line,
 * tokenized into characters or words, mapped to ids by a vocabulary and laid
 * out as a [count, max_len] matrix of ids, each row the tokens, <eos>, then
 * <pad>. The vocabulary is built from a training file, saved as one string
 * (for checkpoint metadata) and reused for test files and for decoding.
 *
 * Held-out data: either a separate test file loaded with the training
 * vocabulary, or split_test_percent, which sends every line whose FNV-1a
 * hash (of its bytes, a trailing "\r" excluded) modulo 100 is below the
 * percentage to the test set. The split depends on the line alone: the same
 * on every load and machine, whatever the line order, and duplicate lines
 * fall on the same side, so a test line is never also a training line. The
 * vocabulary is built from the training part only, as it would be from a
 * separate training file. */
#ifndef VKVAE_IO_TEXT_H
#define VKVAE_IO_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* The special ids, the first four of every vocabulary; their tokens are
 * the strings "<pad>", "<bos>", "<eos>" and "<unk>". */
enum {
    VKVAE_TEXT_PAD = 0,   /* fills a row after its <eos> */
    VKVAE_TEXT_BOS = 1,   /* not stored: the model prepends it to the decoder's input */
    VKVAE_TEXT_EOS = 2,   /* ends every row */
    VKVAE_TEXT_UNK = 3,   /* a token out of the vocabulary */
    VKVAE_TEXT_SPECIALS = 4
};

/* Hard limits: a longer line, more sequences or more distinct tokens are
 * refused (BAD_INPUT). The line limit may be lowered at build time (fuzzing). */
#ifndef VKVAE_TEXT_MAX_LINE
#define VKVAE_TEXT_MAX_LINE 1048576u   /* bytes before the "\n" */
#endif
#define VKVAE_TEXT_MAX_SEQUENCES 2147483648u   /* 2^31 */
#define VKVAE_TEXT_MAX_VOCAB 16777216u         /* 2^24 ids */
#define VKVAE_VOCAB_NONE UINT32_MAX            /* vkvae_vocab_find: not there */

/* Token strings and their ids, with a hash table for lookups. Token id is
 * the bytes at bytes + offset[id], offset[id + 1] - offset[id] - 1 long and
 * followed by a NUL (tokens hold no NUL byte). */
typedef struct vkvae_vocab {
    uint32_t size;       /* ids, the 4 specials included */
    int words;           /* 1: tokens are words (decoding joins them with spaces);
                            0: characters, one Unicode code point each */
    char *bytes;
    size_t *offset;      /* size + 1 entries */
    uint32_t *slots;     /* the hash table: id + 1 per slot, 0 empty */
    uint32_t slot_count; /* a power of two, at least twice size */
    size_t bytes_cap, offset_cap;   /* allocated, for growth while built */
} vkvae_vocab;

/* The id of the token of len bytes at token, or VKVAE_VOCAB_NONE. The
 * specials are found by their names ("<unk>" gives VKVAE_TEXT_UNK). */
uint32_t vkvae_vocab_find(const vkvae_vocab *v, const char *token, size_t len);

/* Token id's bytes, NUL-terminated, and *len its length (len may be NULL);
 * NULL when id >= v->size. */
const char *vkvae_vocab_token(const vkvae_vocab *v, uint32_t id, size_t *len);

/* The vocabulary as one malloc'ed, NUL-terminated string, NULL when out of
 * memory: a line "vkvae-vocab 1 chars N" (or "words"), then N lines, token
 * id on line id + 2, each ended by "\n", with "\\", "\n" and "\r" in a
 * token written as the escapes \\, \n and \r. Anything else, spaces and
 * tabs included, is written as is. */
char *vkvae_vocab_serialize(const vkvae_vocab *v);

/* Reads what vkvae_vocab_serialize wrote. BAD_INPUT, naming the line, for
 * another header, a count that differs from the lines present, the specials
 * missing from ids 0 to 3 or present again later, an empty, duplicate or
 * invalid UTF-8 token, a character token of more than one code point, a
 * word holding a space, tab or newline, or an unknown escape. On failure
 * *out is zeroed. Free with vkvae_vocab_destroy. */
vkvae_status vkvae_vocab_parse(const char *text, vkvae_vocab *out, vkvae_error *err);

void vkvae_vocab_destroy(vkvae_vocab *v);

/* What a long line becomes: one of more than max_len - 1 tokens. */
typedef enum vkvae_text_too_long {
    VKVAE_TEXT_CUT = 0,   /* keep its first max_len - 1 tokens (counted in cut) */
    VKVAE_TEXT_DROP,      /* skip it (counted in dropped) */
    VKVAE_TEXT_REFUSE     /* fail with BAD_INPUT naming the line */
} vkvae_text_too_long;

/* Loader options; zero means the default given after each field. */
typedef struct vkvae_text_opts {
    int words;                 /* 0: characters (Unicode code points); 1: words, the
                                  runs of bytes between spaces and tabs */
    uint32_t max_len;          /* ids per row, the <eos> included (so at most max_len - 1
                                  tokens); 0: the longest line's tokens + 1. Load a test
                                  file with the training file's max_len. At least 2. */
    vkvae_text_too_long too_long;   /* VKVAE_TEXT_CUT */
    uint32_t max_vocab;        /* ids in all, the 4 specials included: the most frequent
                                  tokens are kept, the rest read as <unk>; 0: no limit.
                                  At least 5 when set. Ignored when a vocabulary is given. */
    uint32_t min_count;        /* tokens seen fewer times read as <unk>; 0 or 1: keep all.
                                  Ignored when a vocabulary is given. */
    uint32_t split_test_percent;   /* 0 to 99: the share of lines (by hash, see above)
                                      held out as the test set; 0: none */
} vkvae_text_opts;

/* Sequences of one part of the file. */
typedef struct vkvae_text_set {
    uint32_t count;      /* sequences (rows) */
    uint32_t max_len;    /* ids per row */
    uint32_t *ids;       /* count x max_len, row-major: the tokens, <eos>, then <pad> (0) */
    uint32_t *lengths;   /* count: tokens + 1 (the <eos>), 2 to max_len */
    uint32_t *lines;     /* count: the 1-based line of the file each came from */
} vkvae_text_set;

typedef struct vkvae_text {
    char *path;              /* the file it came from, for messages */
    vkvae_vocab vocab;       /* built from seqs, or a copy of the vocabulary given */
    vkvae_text_set seqs;     /* the sequences, in file order: with a split, the training part */
    vkvae_text_set test;     /* the held-out part with split_test_percent; else empty (count
                                0, NULL arrays) */
    uint32_t lines;          /* lines in the file */
    uint32_t skipped_empty;  /* lines skipped for holding no token */
    uint32_t cut, dropped;   /* lines too long, cut or dropped (opts.too_long) */
    uint64_t tokens;         /* tokens stored (after cutting), both parts */
    uint64_t unknown;        /* of those, the ones stored as <unk> */
} vkvae_text;

/* Loads the UTF-8 text file at path: one sequence per line, lines ended by
 * "\n" (a "\r" before it is dropped, so CRLF files read the same; the last
 * line needs no "\n"); a UTF-8 byte order mark at the start is skipped;
 * lines without a token are skipped (counted in skipped_empty). With
 * vocab NULL the vocabulary is built from the tokens stored in the
 * training part: the specials, then the tokens by descending count, ties in
 * byte order (so it does not depend on the line order), cut by max_vocab
 * and min_count. With a vocabulary (of the same kind, characters or words)
 * tokens missing from it are stored as <unk>. A word spelt like a special
 * ("<unk>" in Penn Treebank files) is stored as <unk> and never enters a
 * vocabulary.
 *
 * Errors, each naming the file and the line (and the byte column where one
 * byte is at fault): IO when the file cannot be opened or read; BAD_INPUT
 * for invalid UTF-8 (overlong forms, surrogates, code points past U+10FFFF,
 * cut-short sequences, stray continuation bytes), a NUL byte, a line of more
 * than VKVAE_TEXT_MAX_LINE bytes, a line too long under VKVAE_TEXT_REFUSE,
 * no sequences at all, a split that leaves either part empty, more than
 * VKVAE_TEXT_MAX_SEQUENCES sequences or VKVAE_TEXT_MAX_VOCAB distinct
 * tokens, and options out of range; OUT_OF_MEMORY when the matrix cannot be
 * allocated (or past 2^32 ids). On failure *out is zeroed. Free with
 * vkvae_text_destroy. */
vkvae_status vkvae_text_load(const char *path, const vkvae_text_opts *opts,
                             const vkvae_vocab *vocab, vkvae_text *out, vkvae_error *err);

/* The same for size bytes of lines at text (a command line's words),
 * named name in messages. */
vkvae_status vkvae_text_load_text(const char *name, const char *text, size_t size,
                                  const vkvae_text_opts *opts, const vkvae_vocab *vocab,
                                  vkvae_text *out, vkvae_error *err);

void vkvae_text_destroy(vkvae_text *t);

/* Turns n ids back into text in buf (size bytes, NUL-terminated when size
 * > 0): characters joined as they are, words by single spaces; <pad> and
 * <bos> are skipped, the first <eos> ends the text, <unk> (and an id past
 * the vocabulary) reads "<unk>". The text is cut at a token boundary when
 * buf is too small. Returns the length of the whole text, as snprintf does,
 * so a result >= size means it was cut. */
size_t vkvae_text_decode(const vkvae_vocab *v, const uint32_t *ids, uint32_t n, char *buf,
                         size_t size);

#endif
