/* A 5x7 bitmap font for chart text: digits, the signs numbers need
 * (. - + e), and the few letters of axis labels and legends. Glyphs sit in
 * 6-pixel cells (one blank column) and scale by whole pixels. */
#ifndef VKVAE_CLI_FONT_H
#define VKVAE_CLI_FONT_H

#include <stdint.h>

enum { FONT_W = 5, FONT_H = 7, FONT_ADVANCE = 6 };

/* The glyph of c: FONT_H rows, top first, bit 4 the leftmost pixel. A
 * character without a glyph gets a hollow box, so a missing letter shows
 * in the picture instead of vanishing. */
const uint8_t *font_glyph(char c);

/* Pixels from the first glyph's left edge to the last one's right edge. */
uint32_t font_text_width(const char *text, uint32_t scale);

#endif
