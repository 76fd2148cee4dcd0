/*
 * gen_sales - writes a deterministic sales CSV to standard output, for the shipped
 * example, the tests and the benchmarks. The same arguments always give the same bytes.
 *
 *   gen_sales [--rows N | --bytes N] [--style utf8|regional] [--seed S] [--wide N]
 *
 * Ten columns: id, date, timestamp, a customer name (accents, commas, quotes), a
 * low-cardinality category, a unit price with two decimals, a quantity, a paid flag, a
 * sparse nullable discount and a sparse free-text note with quoted line breaks.
 * utf8: UTF-8, ',' delimiter, '.' decimals, ISO dates, true/false.
 * regional: Windows-1252, ';' delimiter, ',' decimals, dd/mm/yyyy dates, sim/não, CRLF.
 * --wide N: N columns instead, cycling the ten kinds above, named ID_1 ... Observação_1,
 * ID_2 ... (the benchmarks' 200-column file). Without it the output is unchanged.
 */
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t rng_state;

static uint64_t next_u64(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static unsigned pick(unsigned n)
{
    return (unsigned)(next_u64() % n);
}

/* Text is written in UTF-8 here and converted for the regional style. */
static const char *const first_names[] = {
    "João",    "Maria", "José",    "Ana",       "Antônio", "Francisca", "Luís",  "Júlia", "Márcio",
    "Cecília", "André", "Beatriz", "Conceição", "Gonçalo", "Inês",      "Renée", "Zoë",   "Łukasz",
};
static const char *const last_names[] = {
    "Silva",  "Santos", "Oliveira",  "Souza",   "Conceição", "Pereira", "Gonçalves",
    "Müller", "Araújo", "Fernandes", "Brandão", "Assunção",  "D'Ávila", "Magalhães",
};
static const char *const categories[] = {
    "Eletrônicos", "Livros", "Papelaria", "Alimentação", "Vestuário", "Informática", "Casa",
};
static const char *const notes[] = {
    "Entregar após as 18h",
    "Cliente pediu nota fiscal; CNPJ no cadastro",
    "Embalagem para presente, com cartão:\n\"Feliz aniversário!\"",
    "Troca solicitada, ver e-mail de 12/03",
    "Pagamento em 3x, sem juros",
    "Endereço novo:\nRua das Flores, 123\nSão Paulo",
};

/* UTF-8 to Windows-1252 for the characters used above (all in Latin-1 or cp1252). */
static void put_text(FILE *out, const char *s, bool cp1252)
{
    if (!cp1252) {
        fputs(s, out);
        return;
    }
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp = *p;
        size_t n = 1;
        if (cp >= 0xC0 && cp < 0xE0) {
            cp = ((cp & 0x1F) << 6) | (p[1] & 0x3F);
            n = 2;
        }
        if (cp < 0x100)
            fputc((int)cp, out);
        else if (cp == 0x141)
            fputc('L', out); /* Ł is not in Windows-1252 */
        else
            fputc('?', out);
        p += n;
    }
}

static void put_quoted(FILE *out, const char *s, char delim, bool cp1252)
{
    bool quote = strpbrk(s, "\"\n\r") != NULL || strchr(s, delim) != NULL;
    if (!quote) {
        put_text(out, s, cp1252);
        return;
    }
    char buf[512];
    size_t o = 0;
    buf[o++] = '"';
    for (const char *p = s; *p && o < sizeof buf - 3; p++) {
        if (*p == '"')
            buf[o++] = '"';
        buf[o++] = *p;
    }
    buf[o++] = '"';
    buf[o] = '\0';
    put_text(out, buf, cp1252);
}

static void civil(int64_t days, int *y, unsigned *m, unsigned *d)
{
    int64_t z = days + 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

/* One field of column kind 0..9 (the order of the header below) for row r. The random
 * draws happen in column order, so ten columns draw exactly what the ten-column file always
 * drew; *day carries the date of the last date column to the timestamp column after it. */
static void put_field(FILE *out, unsigned kind, uint64_t r, int64_t *day, char delim, bool regional)
{
    const int64_t base_day = 19358; /* 2023-01-01 */
    char dec = regional ? ',' : '.';
    switch (kind) {
    case 0:
        fprintf(out, "%" PRIu64, r);
        break;
    case 1: {
        int y;
        unsigned m, d;
        *day = base_day + pick(730);
        civil(*day, &y, &m, &d);
        if (regional)
            fprintf(out, "%02u/%02u/%04d", d, m, y);
        else
            fprintf(out, "%04d-%02u-%02u", y, m, d);
        break;
    }
    case 2: {
        int64_t tday = *day + pick(3);
        int ty;
        unsigned tm, td;
        civil(tday, &ty, &tm, &td);
        unsigned hh = pick(24), mi = pick(60), ss = pick(60);
        if (regional)
            fprintf(out, "%02u/%02u/%04d %02u:%02u:%02u", td, tm, ty, hh, mi, ss);
        else
            fprintf(out, "%04d-%02u-%02u %02u:%02u:%02u", ty, tm, td, hh, mi, ss);
        break;
    }
    case 3: {
        char name[128];
        unsigned shape = pick(10);
        const char *fn = first_names[pick(sizeof first_names / sizeof *first_names)];
        const char *ln = last_names[pick(sizeof last_names / sizeof *last_names)];
        if (shape == 0)
            snprintf(name, sizeof name, "%s, %s", ln, fn);
        else if (shape == 1)
            snprintf(name, sizeof name, "%s \"%s\" %s", fn, "Nino", ln);
        else
            snprintf(name, sizeof name, "%s %s", fn, ln);
        put_quoted(out, name, delim, regional);
        break;
    }
    case 4:
        put_text(out, categories[pick(sizeof categories / sizeof *categories)], regional);
        break;
    case 5: {
        unsigned price_cents = 99 + pick(500000);
        fprintf(out, "%u%c%02u", price_cents / 100, dec, price_cents % 100);
        break;
    }
    case 6:
        fprintf(out, "%u", 1 + pick(20));
        break;
    case 7: {
        bool paid = pick(4) != 0;
        put_text(out, regional ? (paid ? "sim" : "não") : (paid ? "true" : "false"), regional);
        break;
    }
    case 8: {
        bool has_discount = pick(10) == 0;
        unsigned disc_cents = pick(5000);
        if (has_discount)
            fprintf(out, "%u%c%02u", disc_cents / 100, dec, disc_cents % 100);
        break;
    }
    default: {
        bool has_note = pick(20) == 0;
        const char *note = notes[pick(sizeof notes / sizeof *notes)];
        if (has_note)
            put_quoted(out, note, delim, regional);
        break;
    }
    }
}

int main(int argc, char **argv)
{
    uint64_t rows = 1000, bytes = 0, seed = 1;
    unsigned long columns = 10;
    bool regional = false, wide = false;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
            rows = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--bytes") == 0 && i + 1 < argc)
            bytes = strtoull(argv[++i], NULL, 10), rows = UINT64_MAX;
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            seed = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--wide") == 0 && i + 1 < argc) {
            char *end;
            columns = strtoul(argv[++i], &end, 10);
            if (*end || columns < 1 || columns > 100000) {
                fprintf(stderr, "gen_sales: --wide takes 1 to 100000 columns\n");
                return 2;
            }
            wide = true;
        } else if (strcmp(argv[i], "--style") == 0 && i + 1 < argc) {
            const char *s = argv[++i];
            if (strcmp(s, "regional") == 0)
                regional = true;
            else if (strcmp(s, "utf8") != 0) {
                fprintf(stderr, "gen_sales: unknown style %s\n", s);
                return 2;
            }
        } else {
            fprintf(stderr, "usage: gen_sales [--rows N | --bytes N] [--style utf8|regional] "
                            "[--seed S] [--wide COLUMNS]\n");
            return 2;
        }
    }
    rng_state = seed;
    FILE *out = stdout;
    static char obuf[1 << 16];
    setvbuf(out, obuf, _IOFBF, sizeof obuf);
    const char delim = regional ? ';' : ',';
    const char *eol = regional ? "\r\n" : "\n";
    const char *header[] = {"ID",        "Data",           "Data/Hora Registro", "Cliente",
                            "Categoria", "Preço Unitário", "Quantidade",         "Pago",
                            "Desconto",  "Observação"};
    for (unsigned long c = 0; c < columns; c++) {
        if (c)
            fputc(delim, out);
        put_text(out, header[c % 10], regional);
        if (wide)
            fprintf(out, "_%lu", c / 10 + 1);
    }
    fputs(eol, out);
    uint64_t written = 0, size = 0;
    for (uint64_t r = 1; r <= rows; r++) {
        if (bytes && size >= bytes)
            break;
        int64_t day = 19358;
        for (unsigned long c = 0; c < columns; c++) {
            if (c)
                fputc(delim, out);
            put_field(out, (unsigned)(c % 10), r, &day, delim, regional);
        }
        fputs(eol, out);
        written++;
        if (bytes)
            size = (uint64_t)ftello(out);
    }
    if (fflush(out) != 0)
        return 1;
    if (bytes)
        fprintf(stderr, "gen_sales: %" PRIu64 " rows\n", written);
    return 0;
}
