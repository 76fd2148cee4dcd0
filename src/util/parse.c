#include "util/parse.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static inline char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

static bool equals_nocase(const char *s, size_t len, const char *word)
{
    size_t wl = strlen(word);
    if (wl != len)
        return false;
    for (size_t i = 0; i < len; i++)
        if (lower(s[i]) != word[i])
            return false;
    return true;
}

static void add_digit(cp_num *n, char c, unsigned *ndigits)
{
    if (*ndigits == 0 && c == '0')
        return; /* leading zeros add no precision */
    (*ndigits)++;
    if (*ndigits <= CP_DECIMAL_MAX_PRECISION)
        n->unscaled = n->unscaled * 10 + (c - '0');
}

/* A number as the plain grammar writes it: [+-]digits[SEP digits][e[+-]digits], inf, nan. */
static cp_num_kind scan_plain(const char *s, size_t len, char dsep, cp_num *out)
{
    memset(out, 0, sizeof *out);
    size_t i = 0;
    if (len == 0)
        return CP_NUM_NONE;
    if (s[0] == '+' || s[0] == '-') {
        out->negative = s[0] == '-';
        i = 1;
    }
    const char *rest = s + i;
    size_t rl = len - i;
    if (equals_nocase(rest, rl, "inf") || equals_nocase(rest, rl, "infinity") ||
        equals_nocase(rest, rl, "nan"))
        return out->kind = CP_NUM_DOUBLE;

    unsigned sig = 0; /* significant digits accumulated into unscaled */
    size_t int_start = i;
    while (i < len && is_digit(s[i]))
        add_digit(out, s[i++], &sig);
    size_t int_len = i - int_start;
    if (dsep == ',' && i < len && s[i] == '.' && int_len >= 1 && int_len <= 3 &&
        s[int_start] != '0') {
        /* thousands groups: d{1,3}(.ddd)+ */
        while (i < len && s[i] == '.') {
            if (i + 4 > len || !is_digit(s[i + 1]) || !is_digit(s[i + 2]) || !is_digit(s[i + 3]))
                return CP_NUM_NONE;
            if (i + 4 < len && is_digit(s[i + 4]))
                return CP_NUM_NONE;
            for (size_t k = 1; k <= 3; k++)
                add_digit(out, s[i + k], &sig);
            i += 4;
            int_len += 3;
        }
    }
    out->int_digits = sig;
    bool leading_zero = int_len >= 2 && s[int_start] == '0';
    size_t frac_len = 0;
    if (i < len && s[i] == dsep) {
        i++;
        size_t fs = i;
        while (i < len && is_digit(s[i]))
            add_digit(out, s[i++], &sig);
        frac_len = i - fs;
        if (frac_len == 0)
            return CP_NUM_NONE;
    }
    if (int_len == 0 && frac_len == 0)
        return CP_NUM_NONE;
    out->scale = (unsigned)frac_len;
    cp_num_kind kind = frac_len ? CP_NUM_DECIMAL : CP_NUM_INT;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '+' || s[i] == '-'))
            i++;
        size_t es = i;
        while (i < len && is_digit(s[i]))
            i++;
        if (i == es)
            return CP_NUM_NONE;
        kind = CP_NUM_DOUBLE;
    }
    if (i != len)
        return CP_NUM_NONE;
    if (kind != CP_NUM_DOUBLE) {
        unsigned total = out->int_digits + out->scale;
        out->exact = total <= CP_DECIMAL_MAX_PRECISION;
        if (out->negative)
            out->unscaled = -out->unscaled;
    }
    if (leading_zero)
        kind = CP_NUM_LEADING_ZERO;
    return out->kind = kind;
}

/* Numbered from 1; a symbol that ends another one ("$", "R$") is matched longest first. */
static const struct currency {
    const char *sym;
    unsigned char len;
} currencies[] = {
    {"$", 1},
    {"R$", 2},
    {"US$", 3},
    {"\xe2\x82\xac", 3}, /* € */
    {"\xc2\xa3", 2},     /* £ */
    {"\xc2\xa5", 2},     /* ¥ */
    {"\xe2\x82\xb9", 3}, /* ₹ */
    {"C$", 2},
    {"A$", 2},
    {"CHF", 3},
    {"kr", 2},
    {"z\xc5\x82", 3},    /* zł */
    {"\xe2\x82\xbd", 3}, /* ₽ */
    {"\xe2\x82\xa9", 3}, /* ₩ */
    {"USD", 3},
    {"EUR", 3},
    {"GBP", 3},
    {"BRL", 3},
};
#define NCURRENCIES (sizeof currencies / sizeof currencies[0])

const char *cp_currency_symbol(unsigned index)
{
    return index >= 1 && index <= NCURRENCIES ? currencies[index - 1].sym : NULL;
}

/* The bytes of a space at s[i] (' ', tab, no-break, narrow no-break or thin space), or 0. */
static inline size_t space_at(const char *s, size_t i, size_t e)
{
    const unsigned char *u = (const unsigned char *)s;
    if (i >= e)
        return 0;
    if (u[i] == ' ' || u[i] == '\t')
        return 1;
    if (u[i] == 0xC2 && i + 1 < e && u[i + 1] == 0xA0)
        return 2;
    if (u[i] == 0xE2 && i + 2 < e && u[i + 1] == 0x80 && (u[i + 2] == 0xAF || u[i + 2] == 0x89))
        return 3;
    return 0;
}

/* The bytes of a space that ends at s[e-1], or 0. */
static inline size_t space_before(const char *s, size_t b, size_t e)
{
    if (e > b && space_at(s, e - 1, e) == 1)
        return 1;
    if (e >= b + 2 && space_at(s, e - 2, e) == 2)
        return 2;
    if (e >= b + 3 && space_at(s, e - 3, e) == 3)
        return 3;
    return 0;
}

static void trim(const char *s, size_t *b, size_t *e)
{
    size_t k;
    while ((k = space_at(s, *b, *e)) != 0)
        *b += k;
    while ((k = space_before(s, *b, *e)) != 0)
        *e -= k;
}

static inline bool ascii_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* A symbol at s[b..): one that ends in a letter (USD, kr) needs a space after it. */
static size_t symbol_prefix(const char *s, size_t b, size_t e, unsigned index)
{
    const struct currency *c = &currencies[index - 1];
    const size_t n = c->len;
    if (e - b < n || s[b] != c->sym[0] || memcmp(s + b, c->sym, n) != 0)
        return 0;
    return ascii_letter(c->sym[n - 1]) && !space_at(s, b + n, e) ? 0 : n;
}

/* A symbol ending at s[e-1]: one that starts with a letter needs a space before it. */
static size_t symbol_suffix(const char *s, size_t b, size_t e, unsigned index)
{
    const struct currency *c = &currencies[index - 1];
    const size_t n = c->len;
    if (e - b < n || s[e - 1] != c->sym[n - 1] || memcmp(s + e - n, c->sym, n) != 0)
        return 0;
    return ascii_letter(c->sym[0]) && !space_before(s, b, e - n) ? 0 : n;
}

/* The longest currency symbol at the start (at_end false) or the end of s[b..e). */
static unsigned find_symbol(const char *s, size_t b, size_t e, bool at_end, size_t *n)
{
    unsigned best = 0;
    *n = 0;
    if (b == e || is_digit(s[at_end ? e - 1 : b]))
        return 0;
    for (unsigned k = 1; k <= NCURRENCIES; k++) {
        size_t m = at_end ? symbol_suffix(s, b, e, k) : symbol_prefix(s, b, e, k);
        if (m > *n) {
            *n = m;
            best = k;
        }
    }
    return best;
}

/* The bytes of a thousands separator at s[i] for numbers with decimal separator dsep, or 0. */
static inline size_t group_at(const char *s, size_t i, size_t e, char dsep)
{
    if (i >= e)
        return 0;
    if ((dsep == '.' && (s[i] == ',' || s[i] == '\'')) || (dsep == ',' && s[i] == '.'))
        return 1;
    return space_at(s, i, e);
}

/* The parts around a number that money adds: spaces, parentheses, signs, a symbol. */
typedef struct money_frame {
    size_t b, e;     /* the digits and separators */
    bool negative;   /* a minus sign or parentheses */
    bool paren;      /* parentheses */
    unsigned symbol; /* the currency symbol found (0: none) */
} money_frame;

/*
 * Takes spaces, parentheses, signs and a currency symbol off s[0..len). With want > 0 only
 * that symbol is accepted; with want == 0 any symbol is. False when what is left cannot
 * be a number (a sign inside parentheses, two signs, nothing left).
 */
static bool money_strip(const char *s, size_t len, unsigned want, bool any, money_frame *f)
{
    size_t b = 0, e = len, k;
    memset(f, 0, sizeof *f);
    trim(s, &b, &e);
    if (e - b >= 2 && s[b] == '(' && s[e - 1] == ')') {
        f->paren = f->negative = true;
        b++, e--;
        trim(s, &b, &e);
    }
    bool sign = false;
    if (b < e && (s[b] == '-' || s[b] == '+')) {
        sign = true;
        f->negative |= s[b] == '-';
        b++;
        while ((k = space_at(s, b, e)) != 0)
            b += k;
    }
    if (any || want) {
        unsigned sym = want;
        k = any ? 0 : symbol_prefix(s, b, e, want);
        if (any)
            sym = find_symbol(s, b, e, false, &k);
        if (k) {
            f->symbol = sym;
            b += k;
            while ((k = space_at(s, b, e)) != 0)
                b += k;
            if (!sign && b < e && (s[b] == '-' || s[b] == '+')) {
                sign = true;
                f->negative |= s[b] == '-';
                b++;
            }
        } else {
            k = any ? 0 : symbol_suffix(s, b, e, want);
            if (any)
                sym = find_symbol(s, b, e, true, &k);
            if (k) {
                f->symbol = sym;
                e -= k;
                while ((k = space_before(s, b, e)) != 0)
                    e -= k;
            }
        }
    }
    if (f->paren && sign)
        return false;
    f->b = b;
    f->e = e;
    return b < e;
}

/*
 * Rewrites a number as people write money into the plain form "[-]digits[.digits]" (an
 * exponent is kept for a number with no money parts). False when s is not such a number.
 */
static bool money_canonical(const char *s, size_t len, const cp_locale *loc, char *buf, size_t cap,
                            size_t *blen)
{
    const char dsep = loc->decimal_sep ? loc->decimal_sep : '.';
    money_frame f;
    if (!money_strip(s, len, loc->currency, false, &f))
        return false;
    size_t i = f.b, e = f.e, o = 0;
    if (e - i + 2 > cap)
        return false;
    if (f.negative)
        buf[o++] = '-';
    size_t run = 0;
    while (i < e && is_digit(s[i]))
        buf[o++] = s[i++], run++;
    bool grouped = false;
    size_t gpos = 0, glen = 0;
    if (run >= 1 && run <= 3 && s[f.b] != '0') {
        size_t g;
        while ((g = group_at(s, i, e, dsep)) != 0) {
            if (grouped && (g != glen || memcmp(s + i, s + gpos, g) != 0))
                return false; /* one grouping character per number */
            if (i + g + 3 > e || !is_digit(s[i + g]) || !is_digit(s[i + g + 1]) ||
                !is_digit(s[i + g + 2]) || (i + g + 3 < e && is_digit(s[i + g + 3])))
                return false;
            gpos = i, glen = g;
            memcpy(buf + o, s + i + g, 3);
            o += 3;
            i += g + 3;
            grouped = true;
        }
    }
    bool fraction = false;
    if (i < e && s[i] == dsep) {
        buf[o++] = '.';
        i++;
        while (i < e && is_digit(s[i]))
            buf[o++] = s[i++], fraction = true;
        if (!fraction)
            return false;
    }
    if (run == 0 && !fraction)
        return false;
    if (i < e && (s[i] == 'e' || s[i] == 'E') && !f.paren && !f.symbol && !grouped) {
        while (i < e && o < cap &&
               (is_digit(s[i]) || s[i] == 'e' || s[i] == 'E' || s[i] == '+' || s[i] == '-'))
            buf[o++] = s[i++];
    }
    if (i != e || (f.paren && !(f.symbol || grouped || fraction)))
        return false;
    *blen = o;
    return true;
}

/* Whether s may be a number in a money frame: what it starts and ends with. */
static inline bool money_ends(const char *s, size_t len, const cp_locale *loc)
{
    const unsigned char first = (unsigned char)s[0], last = (unsigned char)s[len - 1];
    const char *sym = loc->currency ? currencies[loc->currency - 1].sym : NULL;
    const bool starts = is_digit((char)first) || first == ' ' || first == '\t' || first == '-' ||
                        first == '+' || first == '(' || first == '.' || first == ',' ||
                        first == 0xC2 || first == 0xE2 || (sym && first == (unsigned char)sym[0]);
    const bool ends = is_digit((char)last) || last == ' ' || last == '\t' || last == ')' ||
                      last == 0xA0 || last == 0xAF || last == 0x89 ||
                      (sym && last == (unsigned char)sym[currencies[loc->currency - 1].len - 1]);
    if (!starts || !ends)
        return false;
    if (is_digit((char)first)) {
        /* after the first digits: a separator, a space, an exponent or the symbol; not the
           '-', '/' or ':' of a date or a time */
        size_t i = 1;
        while (i < len && is_digit(s[i]))
            i++;
        const unsigned char c = i < len ? (unsigned char)s[i] : 0;
        if (c == '-' || c == '/' || c == ':')
            return false;
    }
    return true;
}

cp_num_kind cp_scan_number(const char *s, size_t len, const cp_locale *loc, cp_num *out)
{
    const char dsep = loc->decimal_sep ? loc->decimal_sep : '.';
    cp_num_kind k = scan_plain(s, len, dsep, out);
    if (k != CP_NUM_NONE || len == 0 || !money_ends(s, len, loc))
        return k;
    char buf[128];
    size_t n;
    if (!money_canonical(s, len, loc, buf, sizeof buf, &n))
        return CP_NUM_NONE;
    return scan_plain(buf, n, '.', out);
}

/* True when s[b..e) is d{1,3}(c ddd)+ with no leading zero. */
static bool valid_groups(const char *s, size_t b, size_t e, char c)
{
    size_t i = b;
    while (i < e && is_digit(s[i]))
        i++;
    if (i - b < 1 || i - b > 3 || s[b] == '0' || i == e)
        return false;
    while (i < e) {
        if (s[i] != c || i + 4 > e || !is_digit(s[i + 1]) || !is_digit(s[i + 2]) ||
            !is_digit(s[i + 3]))
            return false;
        i += 4;
    }
    return true;
}

/* The bytes a number in a money frame can start and end with: spaces, signs, parentheses
   and the first and last bytes of the currency symbols (strchr also finds the NUL, which
   no field starts or ends with). */
#define MONEY_FIRST "0123456789 \t-+(.,$RUCAkzEGB\xc2\xe2"
#define MONEY_LAST                                                                                 \
    "0123456789 \t)%$\xa0\xaf\x89\xac\xa3\xa5\xb9\x82\xbd\xa9"                                     \
    "FrDRPL"

cp_decimal_hint cp_decimal_evidence(const char *s, size_t len, unsigned *currency)
{
    *currency = 0;
    money_frame f;
    if (len > 0 && (is_digit(s[0]) || s[0] == '-') && is_digit(s[len - 1])) {
        memset(&f, 0, sizeof f); /* the common case: nothing around the number */
        f.b = s[0] == '-';
        f.e = len;
    } else {
        if (len == 0 || !strchr(MONEY_FIRST, s[0]) || !strchr(MONEY_LAST, s[len - 1]))
            return CP_DECIMAL_HINT_NONE; /* most text stops here */
        size_t digit = 0;
        while (digit < len && !is_digit(s[digit]))
            digit++;
        if (digit == len || !money_strip(s, len, 0, true, &f))
            return CP_DECIMAL_HINT_NONE;
    }
    size_t b = f.b, e = f.e, npoint = 0, ncomma = 0, last = 0;
    if (!f.symbol && !f.paren && e - b >= 2 && s[e - 1] == '%')
        e--; /* a percentage says how its file writes decimals too */
    for (size_t i = b; i < e; i++) {
        if (s[i] == '.' || s[i] == ',') {
            npoint += s[i] == '.';
            ncomma += s[i] == ',';
            last = i;
        } else if (!is_digit(s[i])) {
            return CP_DECIMAL_HINT_NONE;
        }
    }
    if (!is_digit(s[b]) && !(s[b] == '.' || s[b] == ','))
        return CP_DECIMAL_HINT_NONE;
    if (last + 1 == e && (npoint || ncomma))
        return CP_DECIMAL_HINT_NONE; /* "1." */
    *currency = f.symbol;
    if (npoint + ncomma == 0)
        return CP_DECIMAL_HINT_NONE;
    const char d = s[last], g = d == '.' ? ',' : '.';
    const cp_decimal_hint sure = d == '.' ? CP_DECIMAL_HINT_POINT : CP_DECIMAL_HINT_COMMA;
    const size_t nd = d == '.' ? npoint : ncomma, ng = d == '.' ? ncomma : npoint;
    if (ng > 0) {
        /* both: the last one is the decimal separator, the other groups thousands */
        if (nd != 1 || !valid_groups(s, b, last, g))
            *currency = 0;
        return nd == 1 && valid_groups(s, b, last, g) ? sure : CP_DECIMAL_HINT_NONE;
    }
    if (nd >= 2) {
        /* one separator, again and again: thousands groups, so the other one is decimal */
        if (!valid_groups(s, b, e, d)) {
            *currency = 0;
            return CP_DECIMAL_HINT_NONE;
        }
        return d == '.' ? CP_DECIMAL_HINT_COMMA : CP_DECIMAL_HINT_POINT;
    }
    size_t before = last - b, after = e - last - 1;
    if (after != 3 || before == 0 || before > 3 || s[b] == '0')
        return sure;
    if (f.symbol)
        return d == '.' ? CP_DECIMAL_HINT_COMMA : CP_DECIMAL_HINT_POINT; /* $2,200: money */
    return d == '.' ? CP_DECIMAL_HINT_POINT_OR_3 : CP_DECIMAL_HINT_COMMA_OR_3;
}

/* Everything but plain digits; out of line so the fast paths stay small. */
static __attribute__((noinline)) bool parse_int64_slow(const char *s, size_t len,
                                                       const cp_locale *loc, int64_t *out)
{
    cp_num n;
    if (cp_scan_number(s, len, loc, &n) != CP_NUM_INT || !n.exact)
        return false;
    if (n.unscaled > INT64_MAX || n.unscaled < INT64_MIN)
        return false;
    *out = (int64_t)n.unscaled;
    return true;
}

static __attribute__((noinline)) bool parse_decimal_slow(const char *s, size_t len,
                                                         const cp_locale *loc, unsigned precision,
                                                         unsigned scale, cp_i128 *out)
{
    cp_num n;
    cp_num_kind k = cp_scan_number(s, len, loc, &n);
    if ((k != CP_NUM_INT && k != CP_NUM_DECIMAL) || !n.exact)
        return false;
    if (n.scale > scale || n.int_digits > precision - scale)
        return false;
    cp_i128 v = n.unscaled;
    for (unsigned f = n.scale; f < scale; f++)
        v *= 10;
    *out = v;
    return true;
}

bool cp_parse_int64(const char *s, size_t len, const cp_locale *loc, int64_t *out)
{
    /* fast path: [-]digits without a leading zero, at most 18 digits (cannot overflow) */
    size_t i = len > 0 && s[0] == '-';
    if (len > i && len - i <= 18 && (s[i] != '0' || len - i == 1)) {
        uint64_t v = 0;
        size_t k = i;
        while (k < len && is_digit(s[k]))
            v = v * 10 + (uint64_t)(s[k++] - '0');
        if (k == len) {
            *out = i ? -(int64_t)v : (int64_t)v;
            return true;
        }
    }
    return parse_int64_slow(s, len, loc, out);
}

bool cp_parse_decimal(const char *s, size_t len, const cp_locale *loc, unsigned precision,
                      unsigned scale, cp_i128 *out)
{
    /* fast path: [-]digits[SEP digits], no leading zero, at most 18 digits in all */
    const char dsep = loc->decimal_sep ? loc->decimal_sep : '.';
    size_t i = len > 0 && s[0] == '-';
    if (len > i && len - i <= 19 && is_digit(s[i])) {
        uint64_t v = 0;
        size_t k = i, int_digits = 0, frac = 0;
        while (k < len && is_digit(s[k]))
            v = v * 10 + (uint64_t)(s[k++] - '0'), int_digits++;
        bool ok = !(int_digits > 1 && s[i] == '0');
        if (ok && k < len && s[k] == dsep) {
            k++;
            while (k < len && is_digit(s[k]))
                v = v * 10 + (uint64_t)(s[k++] - '0'), frac++;
            ok = frac > 0;
        }
        unsigned sig = (unsigned)(int_digits == 1 && s[i] == '0' ? 0 : int_digits);
        if (ok && k == len && frac <= scale && sig <= precision - scale) {
            cp_i128 r = (cp_i128)v;
            for (size_t f = frac; f < scale; f++)
                r *= 10;
            *out = i ? -r : r;
            return true;
        }
    }
    return parse_decimal_slow(s, len, loc, precision, scale, out);
}

bool cp_parse_double(const char *s, size_t len, const cp_locale *loc, double *out)
{
    cp_num n;
    char dsep = loc->decimal_sep ? loc->decimal_sep : '.';
    cp_num_kind k = scan_plain(s, len, dsep, &n);
    char canon[128];
    if (k == CP_NUM_NONE && len > 0) {
        size_t cl;
        if (!money_canonical(s, len, loc, canon, sizeof canon, &cl))
            return false;
        k = scan_plain(canon, cl, '.', &n);
        s = canon;
        len = cl;
        dsep = '.';
    }
    if (k != CP_NUM_INT && k != CP_NUM_DECIMAL && k != CP_NUM_DOUBLE)
        return false;
    char small[128];
    char *tmp = len < sizeof small ? small : malloc(len + 1);
    if (!tmp)
        return false;
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (dsep == ',' && c == '.')
            continue; /* a thousands separator */
        tmp[o++] = c == dsep ? '.' : c;
    }
    tmp[o] = '\0';
    char *end;
    double v = strtod(tmp, &end);
    bool ok = *end == '\0';
    if (tmp != small)
        free(tmp);
    if (ok)
        *out = v;
    return ok;
}

bool cp_parse_bool(const char *s, size_t len, bool *out)
{
    static const char *const yes[] = {"true", "t", "yes", "y", "sim"};
    static const char *const no[] = {"false", "f", "no", "n", "nao"};
    static const size_t yes_len[] = {4, 1, 3, 1, 3}, no_len[] = {5, 1, 2, 1, 3};
    if (len == 0 || len > 5)
        return false;
    char w[8];
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == 0xC3 && i + 1 < len &&
            ((unsigned char)s[i + 1] == 0xA3 || (unsigned char)s[i + 1] == 0x83)) {
            w[o++] = 'a'; /* ã or Ã, as in não */
            i++;
        } else if (c < 0x80) {
            w[o++] = lower((char)c);
        } else {
            return false;
        }
    }
    w[o] = '\0';
    /* "nao" without the tilde is not one of the words. */
    if (o == 3 && memcmp(w, "nao", 3) == 0 && memchr(s, 0xC3, len) == NULL)
        return false;
    for (size_t i = 0; i < 5; i++) {
        if (yes_len[i] == o && memcmp(w, yes[i], o) == 0) {
            *out = true;
            return true;
        }
        if (no_len[i] == o && memcmp(w, no[i], o) == 0) {
            *out = false;
            return true;
        }
    }
    return false;
}

/* Howard Hinnant's days_from_civil, proleptic Gregorian. */
int32_t cp_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? (unsigned)-3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return (int32_t)(era * 146097 + (int64_t)doe - 719468);
}

void cp_civil_from_days(int32_t days, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t z = (int64_t)days + 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static bool valid_ymd(int y, int m, int d)
{
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (y < 1 || y > 9999 || m < 1 || m > 12 || d < 1)
        return false;
    int md = mdays[m - 1];
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        md = 29;
    return d <= md;
}

/* Reads 1..maxd digits at *p; returns the count (0 = none), value in *v. */
static size_t read_digits(const char *s, size_t len, size_t *p, size_t maxd, int *v)
{
    size_t start = *p;
    int acc = 0;
    while (*p < len && is_digit(s[*p]) && *p - start < maxd)
        acc = acc * 10 + (s[(*p)++] - '0');
    *v = acc;
    return *p - start;
}

static bool parse_time(const char *s, size_t len, size_t *p, int64_t *micros)
{
    int h, mi, sec = 0, frac = 0;
    size_t nh = read_digits(s, len, p, 2, &h);
    if (nh == 0 || *p >= len || s[*p] != ':')
        return false;
    (*p)++;
    if (read_digits(s, len, p, 2, &mi) != 2)
        return false;
    if (*p < len && s[*p] == ':') {
        (*p)++;
        if (read_digits(s, len, p, 2, &sec) != 2)
            return false;
        if (*p < len && (s[*p] == '.' || s[*p] == ',')) {
            (*p)++;
            size_t nf = read_digits(s, len, p, 6, &frac);
            if (nf == 0 || (*p < len && is_digit(s[*p])))
                return false; /* more than microseconds would not be exact */
            for (size_t k = nf; k < 6; k++)
                frac *= 10;
        }
    }
    /* 12-hour clock */
    size_t q = *p;
    if (q < len && s[q] == ' ')
        q++;
    if (q + 2 <= len && (lower(s[q]) == 'a' || lower(s[q]) == 'p') && lower(s[q + 1]) == 'm' &&
        (q + 2 == len ||
         !((s[q + 2] >= 'a' && s[q + 2] <= 'z') || (s[q + 2] >= 'A' && s[q + 2] <= 'Z')))) {
        if (h < 1 || h > 12)
            return false;
        bool pm = lower(s[q]) == 'p';
        h = h % 12 + (pm ? 12 : 0);
        *p = q + 2;
    }
    if (h > 23 || mi > 59 || sec > 59)
        return false;
    *micros = ((int64_t)h * 3600 + mi * 60 + sec) * 1000000 + frac;
    return true;
}

/* Parses an optional offset at *p; *seconds east of UTC. Returns -1 on error, 0 none, 1 found. */
static int parse_offset(const char *s, size_t len, size_t *p, int *seconds)
{
    size_t q = *p;
    if (q < len && s[q] == ' ')
        q++;
    if (q == len)
        return 0;
    if (s[q] == 'Z' || s[q] == 'z') {
        *seconds = 0;
        *p = q + 1;
        return 1;
    }
    if (q + 3 <= len && equals_nocase(s + q, 3, "utc")) {
        *seconds = 0;
        *p = q + 3;
        return 1;
    }
    if (s[q] != '+' && s[q] != '-')
        return -1;
    int sign = s[q] == '-' ? -1 : 1;
    q++;
    int oh, om = 0;
    if (read_digits(s, len, &q, 2, &oh) != 2)
        return -1;
    if (q < len && s[q] == ':') {
        q++;
        if (read_digits(s, len, &q, 2, &om) != 2)
            return -1; /* "+05:" needs its minutes */
    } else if (q < len && read_digits(s, len, &q, 2, &om) != 2) {
        return -1;
    }
    if (oh > 18 || om > 59)
        return -1;
    *seconds = sign * (oh * 3600 + om * 60);
    *p = q;
    return 1;
}

static inline bool digits_at(const char *s, size_t at, size_t n, int *v)
{
    int acc = 0;
    for (size_t k = at; k < at + n; k++) {
        if (!is_digit(s[k]))
            return false;
        acc = acc * 10 + (s[k] - '0');
    }
    *v = acc;
    return true;
}

/*
 * v1/v2/y read as dd/mm or mm/dd: *orders gets the readings that are valid dates; day-first
 * wins when order allows both. False when no allowed reading is a valid date.
 */
static bool day_and_month(int y, int v1, int v2, cp_date_order order, unsigned *orders, int *m,
                          int *d)
{
    *orders = (valid_ymd(y, v2, v1) ? CP_ORDER_OK_DMY : 0u) |
              (valid_ymd(y, v1, v2) ? CP_ORDER_OK_MDY : 0u);
    const bool dmy = (*orders & CP_ORDER_OK_DMY) &&
                     (order == CP_DATE_ORDER_DMY || order == CP_DATE_ORDER_UNKNOWN);
    const bool mdy = (*orders & CP_ORDER_OK_MDY) &&
                     (order == CP_DATE_ORDER_MDY ||
                      (order == CP_DATE_ORDER_UNKNOWN && !(*orders & CP_ORDER_OK_DMY)));
    if (dmy)
        *d = v1, *m = v2;
    else if (mdy)
        *m = v1, *d = v2;
    return dmy || mdy;
}

/*
 * The commonest forms read at fixed places: yyyy-mm-dd and dd/mm/yyyy or mm/dd/yyyy (with
 * '/', '-' or '.'), each alone or followed by ' ' or 'T' and hh:mm:ss. False sends every
 * other text, and every text these reject, to the general parser.
 */
static bool parse_fixed(const char *s, size_t len, cp_date_order order, cp_temporal *out)
{
    int y, m, d, v1, v2, h = 0, mi = 0, sec = 0;
    if (len != 10 && len != 19)
        return false;
    if (s[4] == '-' && s[7] == '-') {
        if (!digits_at(s, 0, 4, &y) || !digits_at(s, 5, 2, &m) || !digits_at(s, 8, 2, &d) ||
            !valid_ymd(y, m, d))
            return false;
        out->orders = CP_ORDER_OK_DMY | CP_ORDER_OK_MDY;
    } else {
        const char sep = s[2];
        if ((sep != '/' && sep != '-' && sep != '.') || s[5] != sep || !digits_at(s, 0, 2, &v1) ||
            !digits_at(s, 3, 2, &v2) || !digits_at(s, 6, 4, &y))
            return false;
        if (!day_and_month(y, v1, v2, order, &out->orders, &m, &d))
            return false;
    }
    if (len == 19 && ((s[10] != ' ' && s[10] != 'T') || s[13] != ':' || s[16] != ':' ||
                      !digits_at(s, 11, 2, &h) || !digits_at(s, 14, 2, &mi) ||
                      !digits_at(s, 17, 2, &sec) || h > 23 || mi > 59 || sec > 59))
        return false;
    out->days = cp_days_from_civil(y, (unsigned)m, (unsigned)d);
    out->micros = (int64_t)out->days * 86400 * 1000000;
    out->kind = CP_TEMPORAL_DATE;
    if (len == 10)
        return true;
    out->micros += ((int64_t)h * 3600 + mi * 60 + sec) * 1000000;
    out->kind = CP_TEMPORAL_TIMESTAMP;
    return true;
}

cp_temporal_kind cp_parse_temporal(const char *s, size_t len, cp_date_order order, cp_temporal *out)
{
    memset(out, 0, sizeof *out);
    if (parse_fixed(s, len, order, out))
        return out->kind;
    memset(out, 0, sizeof *out);
    size_t p = 0;
    int v1, v2, v3;
    size_t n1 = read_digits(s, len, &p, 4, &v1);
    if (p >= len || (n1 != 4 && n1 != 1 && n1 != 2))
        return CP_TEMPORAL_NONE;
    char sep = s[p];
    if (sep != '-' && sep != '/' && sep != '.')
        return CP_TEMPORAL_NONE;
    p++;
    size_t n2 = read_digits(s, len, &p, 2, &v2);
    if (n2 == 0 || p >= len || s[p] != sep)
        return CP_TEMPORAL_NONE;
    p++;
    int y, m, d;
    if (n1 == 4) {
        if (read_digits(s, len, &p, 2, &v3) == 0)
            return CP_TEMPORAL_NONE;
        y = v1, m = v2, d = v3;
        if (!valid_ymd(y, m, d))
            return CP_TEMPORAL_NONE;
        out->orders = CP_ORDER_OK_DMY | CP_ORDER_OK_MDY;
    } else {
        if (read_digits(s, len, &p, 4, &v3) != 4)
            return CP_TEMPORAL_NONE;
        y = v3;
        if (!day_and_month(y, v1, v2, order, &out->orders, &m, &d))
            return CP_TEMPORAL_NONE;
    }
    if (p < len && is_digit(s[p]))
        return CP_TEMPORAL_NONE;
    out->days = cp_days_from_civil(y, (unsigned)m, (unsigned)d);
    out->micros = (int64_t)out->days * 86400 * 1000000;
    if (p == len)
        return out->kind = CP_TEMPORAL_DATE;
    if (s[p] != 'T' && s[p] != ' ')
        return CP_TEMPORAL_NONE;
    p++;
    int64_t tod;
    if (!parse_time(s, len, &p, &tod))
        return CP_TEMPORAL_NONE;
    out->micros += tod;
    int off;
    int r = parse_offset(s, len, &p, &off);
    if (r < 0 || p != len)
        return CP_TEMPORAL_NONE;
    if (r == 1) {
        out->micros -= (int64_t)off * 1000000;
        return out->kind = CP_TEMPORAL_TIMESTAMPTZ;
    }
    return out->kind = CP_TEMPORAL_TIMESTAMP;
}

/* "00".."99": two digits per lookup halves the divisions of every decimal form. */
static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

/* clang-format off */
static const uint64_t pow10_u64[20] = {
    1ULL, 10ULL, 100ULL, 1000ULL, 10000ULL, 100000ULL, 1000000ULL, 10000000ULL,
    100000000ULL, 1000000000ULL, 10000000000ULL, 100000000000ULL, 1000000000000ULL,
    10000000000000ULL, 100000000000000ULL, 1000000000000000ULL, 10000000000000000ULL,
    100000000000000000ULL, 1000000000000000000ULL, 10000000000000000000ULL};
/* clang-format on */

static inline void put2(char *o, unsigned v)
{
    memcpy(o, digit_pairs + 2 * v, 2);
}

/* The number of decimal digits of v (1 for 0). */
static inline unsigned count_digits(uint64_t v)
{
    /* floor(log10(v)) from the bit length, corrected by one comparison */
    unsigned t = ((unsigned)(64 - __builtin_clzll(v | 1)) * 1233) >> 12;
    return t + ((v | 1) >= pow10_u64[t]);
}

/* Writes v as exactly n digits (zero-padded; n at least the digits of v) at out. */
static inline void put_digits(uint64_t v, unsigned n, char *out)
{
    char *p = out + n;
    while (v > UINT32_MAX) {
        p -= 2;
        put2(p, (unsigned)(v % 100));
        v /= 100;
    }
    uint32_t x = (uint32_t)v; /* the rest in cheaper 32-bit arithmetic */
    while (p - out >= 2) {
        p -= 2;
        put2(p, x % 100);
        x /= 100;
    }
    if (p > out)
        p[-1] = (char)('0' + x);
}

/* Writes v in decimal; returns the length. */
static inline size_t put_u64(uint64_t v, char *out)
{
    unsigned n = count_digits(v);
    put_digits(v, n, out);
    return n;
}

size_t cp_format_uint64(uint64_t v, char *out)
{
    size_t n = put_u64(v, out);
    out[n] = '\0';
    return n;
}

size_t cp_format_int64(int64_t v, char *out)
{
    size_t o = 0;
    uint64_t u = (uint64_t)v;
    if (v < 0) {
        out[o++] = '-';
        u = 0 - u;
    }
    o += put_u64(u, out + o);
    out[o] = '\0';
    return o;
}

size_t cp_format_decimal(cp_i128 unscaled, unsigned scale, char *out)
{
    bool neg = unscaled < 0;
    unsigned __int128 u =
        neg ? (unsigned __int128)(-(unscaled + 1)) + 1 : (unsigned __int128)unscaled;
    size_t o = 0;
    if (neg)
        out[o++] = '-';
    if (u <= UINT64_MAX && scale < 20) {
        /* the common case: integer part and fraction digits in 64-bit arithmetic */
        uint64_t w = (uint64_t)u;
        if (scale == 0) {
            o += put_u64(w, out + o);
        } else {
            uint64_t p = pow10_u64[scale];
            o += put_u64(w / p, out + o);
            out[o++] = '.';
            put_digits(w % p, scale, out + o);
            o += scale;
        }
        out[o] = '\0';
        return o;
    }
    char digits[48];
    size_t n = 0;
    /* 128-bit division is slow: peel 19-digit chunks, then divide in 64 bits */
    while (u > UINT64_MAX) {
        uint64_t chunk = (uint64_t)(u % 10000000000000000000ULL);
        u /= 10000000000000000000ULL;
        for (int k = 0; k < 19; k++) {
            digits[n++] = (char)('0' + chunk % 10);
            chunk /= 10;
        }
    }
    uint64_t w = (uint64_t)u;
    do {
        digits[n++] = (char)('0' + w % 10);
        w /= 10;
    } while (w);
    while (n <= scale)
        digits[n++] = '0';
    for (size_t i = n; i-- > 0;) {
        out[o++] = digits[i];
        if (i == scale && scale > 0)
            out[o++] = '.';
    }
    out[o] = '\0';
    return o;
}

size_t cp_format_double(double v, char *out)
{
    if (isnan(v))
        return (size_t)snprintf(out, 32, "nan");
    if (isinf(v))
        return (size_t)snprintf(out, 32, v < 0 ? "-inf" : "inf");
    /* 15 digits always round-trip a normal double; a subnormal has fewer significant
     * digits and may need fewer (5e-324), so it starts from 1 for the shortest form. */
    const int first = (v != 0 && fabs(v) < DBL_MIN) ? 1 : 15;
    for (int prec = first; prec <= 17; prec++) {
        int n = snprintf(out, 32, "%.*g", prec, v);
        if (prec == 17 || strtod(out, NULL) == v)
            return (size_t)n;
    }
    return strlen(out);
}

/* 0000-03-01 and 9999-12-31: the days the fast date form covers. */
#define FAST_DAYS_MIN (-719468)
#define FAST_DAYS_MAX 2932896

/*
 * YYYY-MM-DD for days in [FAST_DAYS_MIN, FAST_DAYS_MAX]: Neri and Schneider's
 * civil-from-days ("Euclidean affine functions and their application to calendar
 * algorithms", 2022) in 32-bit multiplications and shifts. Days count from 0000-03-01 so
 * that a computational year starts in March; N_Y >= 306 (January and February) moves the
 * date into the next calendar year.
 */
static inline void put_date_fast(int32_t days, char *out)
{
    const uint32_t z = (uint32_t)(days + 719468);
    const uint32_t n1 = 4 * z + 3;
    const uint32_t century = n1 / 146097;
    const uint32_t n2 = (n1 % 146097) | 3; /* 4 * (day of the century) + 3 */
    const uint64_t p2 = (uint64_t)2939745 * n2;
    const uint32_t year_of_century = (uint32_t)(p2 >> 32);
    const uint32_t day_of_year = (uint32_t)p2 / 2939745 / 4;
    const uint32_t n3 = 2141 * day_of_year + 197913;
    const uint32_t jan_feb = day_of_year >= 306;
    const uint32_t year = 100 * century + year_of_century + jan_feb;
    const uint32_t month = (n3 >> 16) - 12 * jan_feb;
    const uint32_t day = (n3 & 0xFFFF) / 2141 + 1;
    put2(out, year / 100);
    put2(out + 2, year % 100);
    out[4] = '-';
    put2(out + 5, month);
    out[7] = '-';
    put2(out + 8, day);
}

size_t cp_format_date(int32_t days, char *out)
{
    if (days >= FAST_DAYS_MIN && days <= FAST_DAYS_MAX) {
        put_date_fast(days, out);
        out[10] = '\0';
        return 10;
    }
    int64_t y;
    unsigned m, d;
    cp_civil_from_days(days, &y, &m, &d);
    return (size_t)snprintf(out, 16, "%04lld-%02u-%02u", (long long)y, m, d);
}

size_t cp_format_timestamp(int64_t micros, bool utc, char *out)
{
    int64_t days = micros / 86400000000LL;
    int64_t rem = micros % 86400000000LL;
    if (rem < 0) {
        rem += 86400000000LL;
        days--;
    }
    size_t n = cp_format_date((int32_t)days, out);
    uint64_t r = (uint64_t)rem;
    unsigned secs = (unsigned)(r / 1000000), frac = (unsigned)(r % 1000000);
    out[n] = 'T';
    put2(out + n + 1, secs / 3600);
    out[n + 3] = ':';
    put2(out + n + 4, secs / 60 % 60);
    out[n + 6] = ':';
    put2(out + n + 7, secs % 60);
    n += 9;
    if (frac) {
        out[n++] = '.';
        put_digits(frac, 6, out + n);
        n += 6;
    }
    if (utc)
        out[n++] = 'Z';
    out[n] = '\0';
    return n;
}
