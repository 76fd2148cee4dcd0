/* Unit tests for csv/sniff: dialect, header, locale, names and schema from a sample. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "csv/sniff.h"

#include <stdio.h>
#include <string.h>

typedef struct sniff_out {
    cp_status st;
    cp_sniff_result r;
    cp_error err;
} sniff_out;

static sniff_out sniff_opts(const char *text, size_t len, const cp_csv_options *o)
{
    sniff_out s;
    cp_source *src = cp_source_open_memory(text, len, "t.csv");
    assert_non_null(src);
    cp_error_clear(&s.err);
    s.st = cp_sniff(src, o, &s.r, &s.err);
    cp_source_free(src);
    return s;
}

static sniff_out sniff(const char *text)
{
    sniff_out s = sniff_opts(text, strlen(text), NULL);
    if (s.st != CP_OK)
        fail_msg("sniff failed on \"%s\": %s", text, s.err.message);
    return s;
}

static void done(sniff_out *s)
{
    if (s->st == CP_OK)
        cp_sniff_result_release(&s->r);
}

/* "name:TYPE,name:TYPE,..." */
static void expect_schema(const cp_sniff_result *r, const char *want)
{
    char got[1024] = "";
    size_t o = 0;
    for (size_t i = 0; i < r->schema.ncolumns; i++) {
        char t[32];
        o += (size_t)snprintf(got + o, sizeof got - o, "%s%s:%s", i ? "," : "",
                              r->schema.columns[i].name,
                              cp_type_format(r->schema.columns[i].type, t, sizeof t));
    }
    if (strcmp(got, want) != 0)
        fail_msg("schema\n  %s\nexpected\n  %s", got, want);
}

static void test_delimiters(void **state)
{
    (void)state;
    static const struct {
        const char *text;
        char delim;
    } cases[] = {
        {"a,b,c\n1,2,3\n4,5,6\n", ','},
        {"a;b;c\n1;2;3\n4;5;6\n", ';'},
        {"a\tb\tc\n1\t2\t3\n4\t5\t6\n", '\t'},
        {"a|b|c\n1|2|3\n4|5|6\n", '|'},
        /* a delimiter inside quotes does not count */
        {"a;b\n\"x,y,z\";1\n\"p,q,r\";2\n", ';'},
        {"a,b\n\"x;y;z\",1\n\"p;q;r\",2\n", ','},
        /* ',' also splits every row into 3 fields, but they are decimal commas */
        {"1,5;2,5\n3,5;4,5\n6,25;7,75\n", ';'},
        {"preco;qtd\n9,90;1\n19,90;2\n", ';'},
        /* commas inside text, tabs between fields */
        {"name\tnote\nann\tyes, fine\nbob\tno, thanks\n", '\t'},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sniff_out s = sniff(cases[i].text);
        if (s.r.dialect.delimiter != cases[i].delim)
            fail_msg("\"%s\": delimiter '%c', expected '%c'", cases[i].text, s.r.dialect.delimiter,
                     cases[i].delim);
        done(&s);
    }
    /* a forced delimiter wins */
    cp_csv_options o;
    cp_csv_options_default(&o);
    o.delimiter = '|';
    const char *t = "a,b\n1,2\n";
    sniff_out s = sniff_opts(t, strlen(t), &o);
    assert_int_equal(s.st, CP_OK);
    assert_int_equal(s.r.dialect.delimiter, '|');
    assert_int_equal(s.r.schema.ncolumns, 1);
    done(&s);
}

static void test_header(void **state)
{
    (void)state;
    sniff_out s = sniff("a,b\n1,2\n3,4\n");
    assert_true(s.r.dialect.header);
    assert_int_equal(s.r.sample_rows, 2);
    expect_schema(&s.r, "a:INT64,b:INT64");
    assert_string_equal(s.r.schema.columns[0].source_name, "a");
    done(&s);
    /* numeric data: no header, names column_N */
    s = sniff("1,2\n3,4\n5,6\n");
    assert_false(s.r.dialect.header);
    assert_int_equal(s.r.sample_rows, 3);
    expect_schema(&s.r, "column_1:INT64,column_2:INT64");
    assert_string_equal(s.r.schema.columns[0].source_name, "");
    done(&s);
    /* dates and booleans below a text row */
    s = sniff("when;ok\n2024-01-15;sim\n2024-01-16;n\xc3\xa3o\n");
    assert_true(s.r.dialect.header);
    expect_schema(&s.r, "when:DATE,ok:BOOLEAN");
    done(&s);
    /* all text: distinct non-empty values that do not recur below are a header */
    s = sniff("name,city\nana,rio\nbia,sp\n");
    assert_true(s.r.dialect.header);
    expect_schema(&s.r, "name:STRING,city:STRING");
    done(&s);
    /* all text with an empty first-row value: data */
    s = sniff("ana,\nbia,sp\ncai,rj\n");
    assert_false(s.r.dialect.header);
    assert_int_equal(s.r.sample_rows, 3);
    done(&s);
    /* all text where the first row repeats below: data */
    s = sniff("x,y\nx,z\nw,y\n");
    assert_false(s.r.dialect.header);
    done(&s);
    /* a header only */
    s = sniff("id,name,price\n");
    assert_true(s.r.dialect.header);
    assert_int_equal(s.r.sample_rows, 0);
    expect_schema(&s.r, "id:STRING,name:STRING,price:STRING");
    done(&s);
    /* forced */
    cp_csv_options o;
    cp_csv_options_default(&o);
    o.header = 0;
    const char *t = "a,b\n1,2\n";
    s = sniff_opts(t, strlen(t), &o);
    assert_false(s.r.dialect.header);
    expect_schema(&s.r, "column_1:STRING,column_2:STRING");
    done(&s);
}

static void test_quote(void **state)
{
    (void)state;
    sniff_out s = sniff("'a,b',c\n'd,e',f\n'g,h',i\n");
    assert_int_equal(s.r.dialect.quote, '\'');
    assert_int_equal(s.r.dialect.delimiter, ',');
    assert_int_equal(s.r.schema.ncolumns, 2);
    done(&s);
    /* apostrophes in text are not quotes */
    s = sniff("name,note\nann,it's fine\nbob,don't\n");
    assert_int_equal(s.r.dialect.quote, '"');
    assert_int_equal(s.r.schema.ncolumns, 2);
    done(&s);
    /* double quotes present: always '"' */
    s = sniff("\"a\",'b'\n\"c\",'d'\n");
    assert_int_equal(s.r.dialect.quote, '"');
    done(&s);
}

static void test_locale(void **state)
{
    (void)state;
    sniff_out s = sniff("preco;total\n9,90;100,00\n19,90;1.234,50\n");
    assert_int_equal(s.r.dialect.values.locale.decimal_sep, ',');
    expect_schema(&s.r, "preco:DECIMAL(18,2),total:DECIMAL(18,2)");
    done(&s);
    s = sniff("price,total\n9.90,100.00\n19.90,1234.50\n");
    assert_int_equal(s.r.dialect.values.locale.decimal_sep, '.');
    expect_schema(&s.r, "price:DECIMAL(18,2),total:DECIMAL(18,2)");
    done(&s);
    /* integers only: no evidence, '.' */
    s = sniff("a;b\n1;2\n");
    assert_int_equal(s.r.dialect.values.locale.decimal_sep, '.');
    done(&s);
    /* date order */
    s = sniff("d,x\n31/01/2024,a\n01/02/2024,b\n");
    assert_int_equal(s.r.dialect.values.locale.date_order, CP_DATE_ORDER_DMY);
    expect_schema(&s.r, "d:DATE,x:STRING");
    done(&s);
    s = sniff("d,x\n01/31/2024,a\n02/01/2024,b\n");
    assert_int_equal(s.r.dialect.values.locale.date_order, CP_DATE_ORDER_MDY);
    expect_schema(&s.r, "d:DATE,x:STRING");
    done(&s);
    /* forced */
    cp_csv_options o;
    cp_csv_options_default(&o);
    o.decimal_sep = ',';
    o.date_order = CP_DATE_ORDER_MDY;
    const char *t = "d,x\n01/31/2024,\"1,5\"\n";
    s = sniff_opts(t, strlen(t), &o);
    assert_int_equal(s.st, CP_OK);
    assert_int_equal(s.r.dialect.values.locale.decimal_sep, ',');
    assert_int_equal(s.r.dialect.values.locale.date_order, CP_DATE_ORDER_MDY);
    expect_schema(&s.r, "d:DATE,x:DECIMAL(18,1)");
    done(&s);
}

static void test_sample_and_empty(void **state)
{
    (void)state;
    sniff_out s = sniff("a,b\n1,2\n");
    assert_true(s.r.sample_complete);
    assert_string_equal(s.r.dialect.line_ending, "LF");
    assert_int_equal(s.r.dialect.encoding, CP_ENC_UTF8);
    assert_true(s.r.encoding_detected);
    done(&s);
    s = sniff("a,b\r\n1,2\r\n");
    assert_string_equal(s.r.dialect.line_ending, "CRLF");
    done(&s);
    /* a sample shorter than the file */
    char text[4096];
    size_t o = (size_t)snprintf(text, sizeof text, "id,v\n");
    for (int i = 0; i < 200; i++)
        o += (size_t)snprintf(text + o, sizeof text - o, "%d,%d.5\n", i + 1, i);
    cp_csv_options opt;
    cp_csv_options_default(&opt);
    opt.sample_bytes = 256;
    s = sniff_opts(text, o, &opt);
    assert_int_equal(s.st, CP_OK);
    assert_false(s.r.sample_complete);
    assert_true(s.r.dialect.header);
    expect_schema(&s.r, "id:INT64,v:DECIMAL(18,1)");
    assert_true(s.r.sample_rows < 200);
    done(&s);
    /* sample_rows bounds the rows */
    cp_csv_options_default(&opt);
    opt.sample_rows = 10;
    s = sniff_opts(text, o, &opt);
    assert_int_equal(s.st, CP_OK);
    assert_int_equal(s.r.sample_rows, 10);
    done(&s);
    /* exactly the sample size: complete */
    cp_csv_options_default(&opt);
    opt.sample_bytes = o;
    s = sniff_opts(text, o, &opt);
    assert_int_equal(s.st, CP_OK);
    assert_true(s.r.sample_complete);
    done(&s);

    /* empty inputs */
    static const char *const empty[] = {"", "\n\n", "\r\n", "\n\r\n\r"};
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        s = sniff_opts(empty[i], strlen(empty[i]), NULL);
        if (s.st != CP_EMPTY)
            fail_msg("input %zu: %s, expected EMPTY", i, cp_status_name(s.st));
        assert_int_equal(s.err.code, CP_EMPTY);
        assert_non_null(strstr(s.err.message, "t.csv"));
    }
    /* a cut sample whose every row has broken quoting (found by the fuzzer: the cut last
       row was taken off a sample that had kept none) */
    const char bad[] = "\"a\"x,1\n\"b\"y,2\n\"c\"z,3\n4,5\n";
    cp_csv_options_default(&opt);
    opt.sample_bytes = 18; /* ends inside the third row, after its broken quote */
    s = sniff_opts(bad, sizeof bad - 1, &opt);
    assert_int_equal(s.st, CP_BAD_QUOTE);
    assert_non_null(strstr(s.err.message, "t.csv"));
    /* binary */
    const char bin[] = "\x1f\x8b\x08\0\0\0\0\0\0\x03\xed\xbd\x07`\x1cI";
    s = sniff_opts(bin, sizeof bin - 1, NULL);
    assert_int_equal(s.st, CP_BINARY);
    assert_non_null(strstr(s.err.message, "t.csv"));
}

static void test_names(void **state)
{
    (void)state;
    sniff_out s = sniff("Pre\xc3\xa7o Unit\xc3\xa1rio;Pre\xc3\xa7o Unit\xc3\xa1rio;;_source;"
                        "_row;Total (R$)\n1;2;3;4;5;6\n");
    expect_schema(&s.r, "preco_unitario:INT64,preco_unitario_2:INT64,column_3:INT64,"
                        "_source_2:INT64,_row_2:INT64,total_r:INT64");
    assert_string_equal(s.r.schema.columns[0].source_name, "Pre\xc3\xa7o Unit\xc3\xa1rio");
    assert_string_equal(s.r.schema.columns[2].source_name, "");
    assert_string_equal(s.r.schema.columns[3].source_name, "_source");
    done(&s);
}

static void test_sales_file(void **state)
{
    (void)state;
    const char *want = "id:INT64,data:DATE,produto:STRING,quantidade:INT64,"
                       "preco_unitario:DECIMAL(18,2),total:DECIMAL(18,2),pago:BOOLEAN,"
                       "cep:STRING,atualizado_em:TIMESTAMP";
    /* Windows-1252, ';', decimal commas, dd/mm/yyyy */
    const char cp1252[] =
        "id;data;produto;quantidade;pre\xe7o unit\xe1rio;total;pago;cep;atualizado em\r\n"
        "1;15/01/2024;Caf\xe9 torrado;2;19,90;39,80;sim;01310-100;15/01/2024 10:30:00\r\n"
        "2;03/02/2024;A\xe7\xfa"
        "car;10;4,50;45,00;n\xe3o;04538-132;03/02/2024 08:05:10\r\n"
        "3;28/02/2024;\"Feij\xe3o; preto\";1;1.234,56;1.234,56;sim;20040-020;28/02/2024 "
        "23:59:59\r\n";
    sniff_out s = sniff_opts(cp1252, sizeof cp1252 - 1, NULL);
    assert_int_equal(s.st, CP_OK);
    assert_int_equal(s.r.dialect.encoding, CP_ENC_CP1252);
    assert_int_equal(s.r.dialect.delimiter, ';');
    assert_int_equal(s.r.dialect.quote, '"');
    assert_true(s.r.dialect.header);
    assert_int_equal(s.r.dialect.values.locale.decimal_sep, ',');
    assert_int_equal(s.r.dialect.values.locale.date_order, CP_DATE_ORDER_DMY);
    assert_string_equal(s.r.dialect.line_ending, "CRLF");
    assert_int_equal(s.r.sample_rows, 3);
    expect_schema(&s.r, want);
    assert_string_equal(s.r.schema.columns[4].source_name, "pre\xc3\xa7o unit\xc3\xa1rio");
    assert_string_equal(s.r.columns[2].example, "Caf\xc3\xa9 torrado");
    assert_int_equal(s.r.columns[2].nonnull, 3);
    done(&s);
    /* the same data as UTF-8 with ',' and '.': the same names and types */
    const char *utf8 =
        "id,data,produto,quantidade,pre\xc3\xa7o unit\xc3\xa1rio,total,pago,cep,atualizado em\n"
        "1,2024-01-15,Caf\xc3\xa9 torrado,2,19.90,39.80,sim,01310-100,2024-01-15 10:30:00\n"
        "2,2024-02-03,A\xc3\xa7\xc3\xba"
        "car,10,4.50,45.00,n\xc3\xa3o,04538-132,2024-02-03 08:05:10\n"
        "3,2024-02-28,\"Feij\xc3\xa3o, preto\",1,1234.56,1234.56,sim,20040-020,"
        "2024-02-28 23:59:59\n";
    s = sniff(utf8);
    assert_int_equal(s.r.dialect.encoding, CP_ENC_UTF8);
    assert_int_equal(s.r.dialect.delimiter, ',');
    assert_int_equal(s.r.dialect.values.locale.decimal_sep, '.');
    expect_schema(&s.r, want);
    done(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delimiters),
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_quote),
        cmocka_unit_test(test_locale),
        cmocka_unit_test(test_sample_and_empty),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_sales_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
