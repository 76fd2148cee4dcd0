#include "table/schema.h"
#include "util/json_escape.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

cp_status cp_schema_init(cp_schema *s, size_t ncolumns)
{
    s->ncolumns = 0;
    s->columns = NULL;
    if (ncolumns == 0)
        return CP_OK;
    s->columns = calloc(ncolumns, sizeof *s->columns);
    if (!s->columns)
        return CP_NOMEM;
    s->ncolumns = ncolumns;
    for (size_t i = 0; i < ncolumns; i++) {
        s->columns[i].name = strdup("");
        s->columns[i].source_name = strdup("");
        if (!s->columns[i].name || !s->columns[i].source_name) {
            cp_schema_release(s);
            return CP_NOMEM;
        }
    }
    return CP_OK;
}

void cp_schema_release(cp_schema *s)
{
    for (size_t i = 0; i < s->ncolumns; i++) {
        free(s->columns[i].name);
        free(s->columns[i].source_name);
    }
    free(s->columns);
    s->columns = NULL;
    s->ncolumns = 0;
}

cp_status cp_schema_copy(cp_schema *dst, const cp_schema *src)
{
    CP_RETURN_IF_ERROR(cp_schema_init(dst, src->ncolumns));
    for (size_t i = 0; i < src->ncolumns; i++) {
        cp_column *d = &dst->columns[i];
        free(d->name);
        free(d->source_name);
        d->name = strdup(src->columns[i].name);
        d->source_name = strdup(src->columns[i].source_name);
        d->type = src->columns[i].type;
        d->forced = src->columns[i].forced;
        if (!d->name || !d->source_name) {
            cp_schema_release(dst);
            return CP_NOMEM;
        }
    }
    return CP_OK;
}

/* ASCII spelling of U+00C0..U+00FF (Latin-1 Supplement letters); "" for symbols. */
static const char *const latin1_ascii[64] = {
    "A", "A", "A", "A", "A", "A", "AE", "C", "E", "E", "E", "E", "I", "I", "I",  "I",
    "D", "N", "O", "O", "O", "O", "O",  "",  "O", "U", "U", "U", "U", "Y", "TH", "ss",
    "a", "a", "a", "a", "a", "a", "ae", "c", "e", "e", "e", "e", "i", "i", "i",  "i",
    "d", "n", "o", "o", "o", "o", "o",  "",  "o", "u", "u", "u", "u", "y", "th", "y",
};

/* Decodes one UTF-8 sequence at s (len > 0); returns its length, *cp the code point. */
static size_t utf8_next(const unsigned char *s, size_t len, unsigned *cp)
{
    unsigned c = s[0];
    size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    if (c >= 0x80 && c < 0xC0)
        n = 1;
    if (n > len)
        n = 1;
    if (n == 1) {
        *cp = c;
        return 1;
    }
    unsigned v = c & (0x7F >> n);
    for (size_t i = 1; i < n; i++)
        v = (v << 6) | (s[i] & 0x3F);
    *cp = v;
    return n;
}

/* ASCII spelling of U+0100..U+017F (Latin Extended-A). */
static const char *const latin_ext_a_ascii[128] = {
    "A", "a", "A",  "a",  "A", "a", "C", "c", "C", "c", "C", "c", "C", "c", "D", "d",
    "D", "d", "E",  "e",  "E", "e", "E", "e", "E", "e", "E", "e", "G", "g", "G", "g",
    "G", "g", "G",  "g",  "H", "h", "H", "h", "I", "i", "I", "i", "I", "i", "I", "i",
    "I", "i", "IJ", "ij", "J", "j", "K", "k", "k", "L", "l", "L", "l", "L", "l", "L",
    "l", "L", "l",  "N",  "n", "N", "n", "N", "n", "n", "N", "n", "O", "o", "O", "o",
    "O", "o", "OE", "oe", "R", "r", "R", "r", "R", "r", "S", "s", "S", "s", "S", "s",
    "S", "s", "T",  "t",  "T", "t", "T", "t", "U", "u", "U", "u", "U", "u", "U", "u",
    "U", "u", "U",  "u",  "W", "w", "Y", "y", "Y", "Z", "z", "Z", "z", "Z", "z", "s",
};

static const char *transliterate(unsigned cp)
{
    if (cp >= 0xC0 && cp <= 0xFF)
        return latin1_ascii[cp - 0xC0];
    if (cp >= 0x100 && cp <= 0x17F)
        return latin_ext_a_ascii[cp - 0x100];
    if (cp == 0xAA)
        return "a";
    if (cp == 0xBA)
        return "o";
    return "";
}

void cp_name_normalize(const char *header, size_t len, char *out)
{
    const unsigned char *s = (const unsigned char *)header;
    size_t o = 0, i = 0;
    int pending_sep = 0;
    while (i < len && o < CP_NAME_MAX) {
        unsigned cp;
        size_t n = utf8_next(s + i, len - i, &cp);
        i += n;
        const char *repl;
        char one[2] = {0, 0};
        if (cp < 0x80) {
            if ((cp >= 'a' && cp <= 'z') || (cp >= '0' && cp <= '9')) {
                one[0] = (char)cp;
            } else if (cp >= 'A' && cp <= 'Z') {
                one[0] = (char)(cp - 'A' + 'a');
            }
            repl = one;
        } else {
            repl = transliterate(cp);
        }
        if (cp == '_' && o == 0) {
            out[o++] = '_';
            continue;
        }
        if (!*repl) {
            pending_sep = o > 0;
            continue;
        }
        if (pending_sep && o < CP_NAME_MAX) {
            out[o++] = '_';
            pending_sep = 0;
        }
        if (o == 0 && repl[0] >= '0' && repl[0] <= '9')
            out[o++] = '_';
        for (const char *r = repl; *r && o < CP_NAME_MAX; r++)
            out[o++] = (*r >= 'A' && *r <= 'Z') ? (char)(*r - 'A' + 'a') : *r;
    }
    while (o > 0 && out[o - 1] == '_')
        o--;
    out[o] = '\0';
}

static bool name_taken(const cp_schema *s, size_t upto, const char *name,
                       const char *const *reserved)
{
    for (size_t i = 0; i < upto; i++)
        if (strcmp(s->columns[i].name, name) == 0)
            return true;
    for (const char *const *r = reserved; r && *r; r++)
        if (strcmp(*r, name) == 0)
            return true;
    return false;
}

cp_status cp_schema_set_names(cp_schema *s, const char *const *headers, const size_t *lengths,
                              const char *const *reserved)
{
    char base[CP_NAME_MAX + 1];
    char name[CP_NAME_MAX + 1];
    for (size_t i = 0; i < s->ncolumns; i++) {
        cp_column *c = &s->columns[i];
        const char *h = headers ? headers[i] : "";
        size_t hl = headers ? lengths[i] : 0;
        char *src = strndup(h, hl);
        if (!src)
            return CP_NOMEM;
        free(c->source_name);
        c->source_name = src;

        cp_name_normalize(h, hl, base);
        if (!base[0])
            snprintf(base, sizeof base, "column_%zu", i + 1);
        snprintf(name, sizeof name, "%s", base);
        for (unsigned k = 2; name_taken(s, i, name, reserved); k++) {
            char suffix[16];
            int sl = snprintf(suffix, sizeof suffix, "_%u", k);
            size_t keep = strlen(base);
            if (keep + (size_t)sl > CP_NAME_MAX)
                keep = CP_NAME_MAX - (size_t)sl;
            memcpy(name, base, keep);
            memcpy(name + keep, suffix, (size_t)sl + 1);
        }
        char *dup = strdup(name);
        if (!dup)
            return CP_NOMEM;
        free(c->name);
        c->name = dup;
    }
    return CP_OK;
}

cp_status cp_schema_to_json(const cp_schema *s, cp_buf *out)
{
    CP_RETURN_IF_ERROR(cp_buf_append_char(out, '['));
    for (size_t i = 0; i < s->ncolumns; i++) {
        const cp_column *c = &s->columns[i];
        char tname[32];
        if (i)
            CP_RETURN_IF_ERROR(cp_buf_append_char(out, ','));
        CP_RETURN_IF_ERROR(cp_buf_append_str(out, "{\"name\":"));
        CP_RETURN_IF_ERROR(cp_json_append_string(out, c->name, strlen(c->name)));
        CP_RETURN_IF_ERROR(cp_buf_append_str(out, ",\"source_name\":"));
        CP_RETURN_IF_ERROR(cp_json_append_string(out, c->source_name, strlen(c->source_name)));
        CP_RETURN_IF_ERROR(
            cp_buf_printf(out, ",\"type\":\"%s\"}", cp_type_format(c->type, tname, sizeof tname)));
    }
    return cp_buf_append_char(out, ']');
}
