/* output.c — prints results as an aligned table (for people), CSV (RFC 4180, for pipes) or
 * JSON (an array of objects, one per line). Every format writes NULL distinctly: "NULL" in a
 * table, an empty unquoted field in CSV (an empty string is ""), null in JSON. Blobs are
 * written as \x hex digits. Aligned formats pad by display columns (CJK takes two, combining
 * marks none). */
#include "rh.h"
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CELL_MAX_CHARS 60 /* table mode cuts longer cells with "..." so rows stay readable */
#define CELL_BUF (CELL_MAX_CHARS * 4 + 16)

/* --- the grid of a rhei_result ---------------------------------------------------------- */

static const char *res_name(rh_grid *g, size_t col)
{
    return rhei_result_column_name(g->src, col);
}

static const char *res_text(rh_grid *g, size_t row, size_t col, size_t *len)
{
    const rhei_result *r = g->src;
    *len = 0;
    if (rhei_result_is_null(r, row, col))
        return NULL;
    /* reals come in the shortest form that reads back exactly (rhei_result_text) */
    return rhei_result_text(r, row, col, len);
}

static rh_kind res_kind(rh_grid *g, size_t row, size_t col)
{
    switch (rhei_result_value(g->src, row, col).type) {
    case RHEI_TYPE_INTEGER:
    case RHEI_TYPE_REAL:
    case RHEI_TYPE_DECIMAL: return RH_K_NUMBER;
    case RHEI_TYPE_BOOLEAN: return RH_K_BOOL;
    case RHEI_TYPE_BLOB: return RH_K_BLOB;
    default: return RH_K_TEXT;
    }
}

void rh_grid_of_result(rh_grid *g, const rhei_result *r)
{
    memset(g, 0, sizeof *g);
    g->ncols = rhei_result_column_count(r);
    g->nrows = rhei_result_row_count(r);
    g->src = r;
    g->name = res_name;
    g->text = res_text;
    g->kind = res_kind;
}

static const char *const format_names[] = {"table", "csv",      "json",  "line",
                                           "box",   "markdown", "column"};
#define NFORMATS (sizeof format_names / sizeof *format_names)

int rh_parse_format(const char *s, rh_format *out)
{
    for (size_t i = 0; i < NFORMATS; i++)
        if (strcmp(s, format_names[i]) == 0) {
            *out = (rh_format)i;
            return 0;
        }
    return -1;
}

const char *rh_format_name(rh_format f)
{
    return (size_t)f < NFORMATS ? format_names[f] : "table";
}

static void put_hex(FILE *out, const char *p, size_t n)
{
    fputs("\\x", out);
    for (size_t i = 0; i < n; i++)
        fprintf(out, "%02x", (unsigned char)p[i]);
}

/* --- table ------------------------------------------------------------------------------ */

/* Terminal columns of a code point: 2 for East Asian Wide and Fullwidth characters (CJK,
 * Hangul, kana, fullwidth forms, common emoji), 0 for combining marks and zero-width
 * characters, else 1. A table of the common ranges instead of wcwidth(), which would need
 * a UTF-8 LC_CTYPE locale set for the whole process and differs between C libraries. */
static const uint32_t wide[][2] = {
    {0x1100, 0x115F},   {0x231A, 0x231B},   {0x2329, 0x232A},   {0x23E9, 0x23EC},
    {0x23F0, 0x23F0},   {0x23F3, 0x23F3},   {0x25FD, 0x25FE},   {0x2614, 0x2615},
    {0x2648, 0x2653},   {0x267F, 0x267F},   {0x2693, 0x2693},   {0x26A1, 0x26A1},
    {0x26AA, 0x26AB},   {0x26BD, 0x26BE},   {0x26C4, 0x26C5},   {0x26CE, 0x26CE},
    {0x26D4, 0x26D4},   {0x26EA, 0x26EA},   {0x26F2, 0x26F3},   {0x26F5, 0x26F5},
    {0x26FA, 0x26FA},   {0x26FD, 0x26FD},   {0x2705, 0x2705},   {0x270A, 0x270B},
    {0x2728, 0x2728},   {0x274C, 0x274C},   {0x274E, 0x274E},   {0x2753, 0x2755},
    {0x2757, 0x2757},   {0x2795, 0x2797},   {0x27B0, 0x27B0},   {0x27BF, 0x27BF},
    {0x2B1B, 0x2B1C},   {0x2B50, 0x2B50},   {0x2B55, 0x2B55},   {0x2E80, 0x303E},
    {0x3041, 0x33FF},   {0x3400, 0x4DBF},   {0x4E00, 0x9FFF},   {0xA000, 0xA4CF},
    {0xA960, 0xA97F},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},   {0xFE10, 0xFE19},
    {0xFE30, 0xFE6F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x16FE0, 0x18AFF},
    {0x1B000, 0x1B2FF}, {0x1F004, 0x1F004}, {0x1F0CF, 0x1F0CF}, {0x1F18E, 0x1F18E},
    {0x1F191, 0x1F19A}, {0x1F200, 0x1F251}, {0x1F300, 0x1F64F}, {0x1F680, 0x1F6FF},
    {0x1F7E0, 0x1F7EB}, {0x1F900, 0x1F9FF}, {0x1FA70, 0x1FAFF}, {0x20000, 0x3FFFD},
};
static const uint32_t zero[][2] = {
    {0x0300, 0x036F},   {0x0483, 0x0489}, {0x0591, 0x05BD}, {0x05BF, 0x05BF}, {0x05C1, 0x05C2},
    {0x05C4, 0x05C5},   {0x05C7, 0x05C7}, {0x0610, 0x061A}, {0x064B, 0x065F}, {0x0670, 0x0670},
    {0x06D6, 0x06DC},   {0x06DF, 0x06E4}, {0x06E7, 0x06E8}, {0x06EA, 0x06ED}, {0x0900, 0x0902},
    {0x093A, 0x093A},   {0x093C, 0x093C}, {0x0941, 0x0948}, {0x094D, 0x094D}, {0x0951, 0x0957},
    {0x0E31, 0x0E31},   {0x0E34, 0x0E3A}, {0x0E47, 0x0E4E}, {0x1AB0, 0x1AFF}, {0x1DC0, 0x1DFF},
    {0x200B, 0x200F},   {0x2028, 0x202E}, {0x2060, 0x2064}, {0x20D0, 0x20FF}, {0x302A, 0x302D},
    {0x3099, 0x309A},   {0xFE00, 0xFE0F}, {0xFE20, 0xFE2F}, {0xFEFF, 0xFEFF}, {0x1F3FB, 0x1F3FF},
    {0xE0000, 0xE01EF},
};

static int in_ranges(uint32_t cp, const uint32_t (*r)[2], size_t n)
{
    size_t lo = 0, hi = n; /* sorted, disjoint: binary search */
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp < r[mid][0])
            hi = mid;
        else if (cp > r[mid][1])
            lo = mid + 1;
        else
            return 1;
    }
    return 0;
}

static size_t cp_width(uint32_t cp)
{
    if (in_ranges(cp, zero, sizeof zero / sizeof *zero))
        return 0;
    return in_ranges(cp, wide, sizeof wide / sizeof *wide) ? 2 : 1;
}

/* Length of the valid UTF-8 sequence at s (n bytes left) and its code point; 0 if the byte
 * does not start one (then it is shown alone, one column). */
static size_t utf8_seq(const unsigned char *s, size_t n, uint32_t *cp)
{
    size_t len = s[0] >= 0xF0 && s[0] <= 0xF4 ? 4 : s[0] >= 0xE0 ? 3 : s[0] >= 0xC2 ? 2 : 0;
    if (!len || len > n || s[0] >= 0xF5)
        return 0;
    uint32_t v = s[0] & (0x7F >> len);
    for (size_t k = 1; k < len; k++) {
        if ((s[k] & 0xC0) != 0x80)
            return 0;
        v = v << 6 | (s[k] & 0x3F);
    }
    *cp = v;
    return len;
}

/* Appends one display character (bytes of one UTF-8 sequence) if it fits; returns 0 if not. */
static int put_char(char *buf, size_t *j, const char *s, size_t n)
{
    if (*j + n + 4 >= CELL_BUF)
        return 0;
    memcpy(buf + *j, s, n);
    *j += n;
    return 1;
}

/* Renders a cell for table mode into buf (CELL_BUF bytes); returns its display width. */
static size_t render(rh_grid *g, size_t row, size_t col, char *buf)
{
    size_t len = 0, j = 0, width = 0;
    const char *s = row == (size_t)-1 ? g->name(g, col) : g->text(g, row, col, &len);
    if (row == (size_t)-1)
        len = strlen(s);
    if (!s)
        return (size_t)snprintf(buf, CELL_BUF, "NULL");
    int blob = row != (size_t)-1 && g->kind(g, row, col) == RH_K_BLOB;
    if (blob)
        put_char(buf, &j, "\\x", 2), width = 2;
    for (size_t i = 0; i < len && width < CELL_MAX_CHARS; i++) {
        unsigned char c = (unsigned char)s[i];
        char hex[3];
        int ok;
        if (blob) {
            snprintf(hex, sizeof hex, "%02x", c);
            ok = put_char(buf, &j, hex, 2), width += 2;
        } else if (c == '\n' || c == '\t' || c == '\r') {
            ok = put_char(buf, &j, c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r", 2), width += 2;
        } else if (c < 0x20 || c == 0x7f) {
            ok = put_char(buf, &j, "?", 1), width++;
        } else {
            uint32_t cp = c;
            size_t n = c < 0x80 ? 1 : utf8_seq((const unsigned char *)s + i, len - i, &cp);
            ok = put_char(buf, &j, s + i, n ? n : 1);
            width += n ? cp_width(cp) : 1; /* display columns, not code points */
            i += n ? n - 1 : 0;
        }
        if (!ok || (width >= CELL_MAX_CHARS && i + 1 < len)) {
            memcpy(buf + j, "...", 3), j += 3, width += 3;
            break;
        }
    }
    buf[j] = '\0';
    return width;
}

static void pad(FILE *out, size_t n)
{
    while (n--)
        fputc(' ', out);
}

static void table_row(FILE *out, rh_grid *g, size_t row, const size_t *w)
{
    char buf[CELL_BUF];
    for (size_t c = 0; c < g->ncols; c++) {
        size_t width = render(g, row, c, buf);
        int right = row != (size_t)-1 && g->kind(g, row, c) == RH_K_NUMBER &&
                    g->text(g, row, c, &(size_t){0}) != NULL;
        fputs(c ? " | " : " ", out);
        if (right)
            pad(out, w[c] - width);
        fputs(buf, out);
        if (!right && c + 1 < g->ncols)
            pad(out, w[c] - width);
    }
    fputc('\n', out);
}

static void print_table(FILE *out, rh_grid *g, const rh_print_opts *po)
{
    char buf[CELL_BUF];
    size_t *w = calloc(g->ncols ? g->ncols : 1, sizeof *w);
    if (!w)
        return;
    for (size_t c = 0; c < g->ncols; c++) {
        w[c] = render(g, (size_t)-1, c, buf);
        for (size_t r = 0; r < g->nrows; r++) {
            size_t n = render(g, r, c, buf);
            w[c] = n > w[c] ? n : w[c];
        }
    }
    if (g->ncols && !po->no_headers) {
        table_row(out, g, (size_t)-1, w);
        for (size_t c = 0; c < g->ncols; c++) {
            fputs(c ? "-+-" : "-", out);
            for (size_t i = 0; i < w[c]; i++)
                fputc('-', out);
        }
        fputs("-\n", out);
    }
    for (size_t r = 0; r < g->nrows; r++)
        table_row(out, g, r, w);
    free(w);
    fprintf(out, "(%zu row%s", g->nrows, g->nrows == 1 ? "" : "s");
    if (po->side)
        fprintf(out, "; served by %s: %s", po->side, po->reason ? po->reason : "");
    if (po->timer)
        fprintf(out, "; %.3f ms", po->elapsed_ms);
    fputs(")\n", out);
}

/* --- csv and json ------------------------------------------------------------------------ */

static void csv_field(FILE *out, const char *s, size_t n)
{
    int quote = n == 0 || s[0] == ' ' || s[n - 1] == ' ';
    for (size_t i = 0; i < n && !quote; i++)
        quote = s[i] == ',' || s[i] == '"' || s[i] == '\n' || s[i] == '\r';
    if (!quote) {
        fwrite(s, 1, n, out);
        return;
    }
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '"')
            fputc('"', out);
        fputc(s[i], out);
    }
    fputc('"', out);
}

static void print_csv(FILE *out, rh_grid *g, int headers)
{
    for (size_t c = 0; headers && c < g->ncols; c++) {
        const char *name = g->name(g, c);
        if (c)
            fputc(',', out);
        csv_field(out, name, strlen(name));
    }
    if (headers)
        fputc('\n', out);
    for (size_t r = 0; r < g->nrows; r++) {
        for (size_t c = 0; c < g->ncols; c++) {
            size_t n = 0;
            const char *s = g->text(g, r, c, &n);
            if (c)
                fputc(',', out);
            if (s && g->kind(g, r, c) == RH_K_BLOB)
                put_hex(out, s, n);
            else if (s)
                csv_field(out, s, n);
        }
        fputc('\n', out);
    }
}

static void json_string(FILE *out, const char *s, size_t n)
{
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c == '\n')
            fputs("\\n", out);
        else if (c == '\t')
            fputs("\\t", out);
        else if (c < 0x20 || c == 0x7f)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
}

static void json_value(FILE *out, rh_grid *g, size_t r, size_t c)
{
    size_t n = 0;
    const char *s = g->text(g, r, c, &n);
    rh_kind k = s ? g->kind(g, r, c) : RH_K_TEXT;
    if (!s) {
        fputs("null", out);
    } else if (k == RH_K_NUMBER || k == RH_K_BOOL) {
        double d = k == RH_K_NUMBER ? strtod(s, NULL) : 0;
        if (!isfinite(d)) /* JSON has no inf or nan */
            fputs("null", out);
        else
            fwrite(s, 1, n, out);
    } else if (k == RH_K_BLOB) {
        fputs("\"\\", out); /* the \x prefix, its backslash escaped for JSON */
        put_hex(out, s, n);
        fputs("\"", out);
    } else {
        json_string(out, s, n);
    }
}

static void print_json(FILE *out, rh_grid *g)
{
    fputs("[", out);
    for (size_t r = 0; r < g->nrows; r++) {
        fputs(r ? ",\n{" : "\n{", out);
        for (size_t c = 0; c < g->ncols; c++) {
            const char *name = g->name(g, c);
            if (c)
                fputc(',', out);
            json_string(out, name, strlen(name));
            fputc(':', out);
            json_value(out, g, r, c);
        }
        fputc('}', out);
    }
    fputs(g->nrows ? "\n]\n" : "]\n", out);
}

/* --- sqlite3's modes: line, box, markdown, column -------------------------------------- */

/* "name = value" per cell, names right-aligned, a blank line between rows. */
static void print_line(FILE *out, rh_grid *g)
{
    char buf[CELL_BUF];
    size_t wn = 0;
    for (size_t c = 0; c < g->ncols; c++) {
        size_t n = render(g, (size_t)-1, c, buf);
        wn = n > wn ? n : wn;
    }
    for (size_t r = 0; r < g->nrows; r++) {
        if (r)
            fputc('\n', out);
        for (size_t c = 0; c < g->ncols; c++) {
            size_t n = render(g, (size_t)-1, c, buf);
            pad(out, wn - n);
            fprintf(out, "%s = ", buf);
            render(g, r, c, buf);
            fprintf(out, "%s\n", buf);
        }
    }
}

typedef struct frame {
    const char *left, *mid, *right, *fill; /* one horizontal rule */
} frame;

static void rule(FILE *out, const rh_grid *g, const size_t *w, const frame *f)
{
    fputs(f->left, out);
    for (size_t c = 0; c < g->ncols; c++) {
        for (size_t i = 0; i < w[c] + 2; i++)
            fputs(f->fill, out);
        fputs(c + 1 < g->ncols ? f->mid : f->right, out);
    }
    fputc('\n', out);
}

/* One row between separators sep (box: "│", markdown: "|", column: "" with two spaces). */
static void framed_row(FILE *out, rh_grid *g, size_t row, const size_t *w, const char *sep)
{
    char buf[CELL_BUF];
    int column = !*sep;
    if (!column)
        fputs(sep, out);
    for (size_t c = 0; c < g->ncols; c++) {
        size_t width = render(g, row, c, buf);
        int right = row != (size_t)-1 && g->kind(g, row, c) == RH_K_NUMBER;
        int last = c + 1 == g->ncols;
        fputs(column ? "" : " ", out);
        if (right)
            pad(out, w[c] - width);
        fputs(buf, out);
        if (!right && !(column && last))
            pad(out, w[c] - width);
        fputs(column ? (last ? "" : "  ") : " ", out);
        if (!column)
            fputs(sep, out);
    }
    fputc('\n', out);
}

static void print_framed(FILE *out, rh_grid *g, rh_format f, int headers)
{
    static const frame box_top = {"┌", "┬", "┐", "─"}, box_mid = {"├", "┼", "┤", "─"},
                       box_bot = {"└", "┴", "┘", "─"}, md_mid = {"|", "|", "|", "-"};
    char buf[CELL_BUF];
    size_t *w = calloc(g->ncols ? g->ncols : 1, sizeof *w);
    if (!w || !g->ncols) {
        free(w);
        return;
    }
    for (size_t c = 0; c < g->ncols; c++) {
        w[c] = headers ? render(g, (size_t)-1, c, buf) : 1;
        for (size_t r = 0; r < g->nrows; r++) {
            size_t n = render(g, r, c, buf);
            w[c] = n > w[c] ? n : w[c];
        }
    }
    const char *sep = f == RH_FMT_BOX ? "│" : f == RH_FMT_MARKDOWN ? "|" : "";
    if (f == RH_FMT_BOX)
        rule(out, g, w, &box_top);
    if (headers) {
        framed_row(out, g, (size_t)-1, w, sep);
        if (f == RH_FMT_BOX)
            rule(out, g, w, &box_mid);
        else if (f == RH_FMT_MARKDOWN)
            rule(out, g, w, &md_mid);
        else
            for (size_t c = 0; c < g->ncols; c++) {
                for (size_t i = 0; i < w[c]; i++)
                    fputc('-', out);
                fputs(c + 1 < g->ncols ? "  " : "\n", out);
            }
    }
    for (size_t r = 0; r < g->nrows; r++)
        framed_row(out, g, r, w, sep);
    if (f == RH_FMT_BOX)
        rule(out, g, w, &box_bot);
    free(w);
}

void rh_print_grid(FILE *out, rh_grid *g, const rh_print_opts *po)
{
    if (po->format == RH_FMT_TABLE) {
        print_table(out, g, po);
        return;
    }
    if (po->format == RH_FMT_CSV)
        print_csv(out, g, !po->no_headers);
    else if (po->format == RH_FMT_JSON)
        print_json(out, g);
    else if (po->format == RH_FMT_LINE)
        print_line(out, g);
    else
        print_framed(out, g, po->format, !po->no_headers);
    /* machine formats keep stdout pure data: the side and the timing go to stderr */
    if (po->explain && po->side)
        fprintf(stderr, "served by %s: %s\n", po->side, po->reason ? po->reason : "");
    if (po->timer)
        fprintf(stderr, "time: %.3f ms\n", po->elapsed_ms);
}

void rh_print_result(FILE *out, const rhei_result *r, const rh_print_opts *po)
{
    rh_grid g;
    rh_grid_of_result(&g, r);
    rh_print_grid(out, &g, po);
}
