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
/* The header found below `lines` preamble lines, each kept in r->preamble. */
static void expect_preamble(const cp_sniff_result *r, size_t lines)
{
    assert_int_equal(r->dialect.skip_lines, lines);
    assert_true(r->dialect.header);
    assert_int_equal(r->npreamble, lines);
}

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
    /* all text: an empty or repeated name does not speak against a header (survey
       exports leave the columns of one question unnamed after the first) */
    s = sniff("ana,\nbia,sp\ncai,rj\n");
    assert_true(s.r.dialect.header);
    assert_int_equal(s.r.sample_rows, 2);
    done(&s);
    s = sniff("q,q,r\nyes,no,maybe\nno,no,yes\n");
    assert_true(s.r.dialect.header);
    done(&s);
    /* all text where most first-row values recur below in their columns: data */
    s = sniff("x,y\nx,z\nw,y\n");
    assert_false(s.r.dialect.header);
    done(&s);
    s = sniff("'40-49','premeno','yes'\n'50-59','ge40','no'\n'40-49','ge40','yes'\n");
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

/* Issue 14: the header rule, on rows shaped like published files. */
static void test_header_rule(void **state)
{
    (void)state;
    /* numbers throughout, the first row with more decimals than the rest: data (it was
       taken as a header, the names _0_00719424460432, ...) */
    sniff_out s = sniff("0.00719424460432,0.213771839671,0.261048304214\n"
                        "0.00792439241,0.170262766616,0.309520247353\n"
                        "0.0079808936,0.140118472066,0.331889014156\n");
    assert_false(s.r.dialect.header);
    expect_schema(&s.r, "column_1:DECIMAL(18,14),column_2:DECIMAL(18,12),"
                        "column_3:DECIMAL(18,12)");
    done(&s);
    /* an integer first row above decimals is data too */
    s = sniff("1,2,7\n0.5,1.5,2.5\n3.25,4.5,5.5\n");
    assert_false(s.r.dialect.header);
    done(&s);
    /* a survey export: every column text, long questions, blanks under multi-answer
       questions; it was taken as having no header */
    s = sniff("StartDate,EndDate,Which of the following best describes you?,,\n"
              "7/10/14 18:37,7/10/14 18:39,\"Single, but cohabiting\",Other,\n"
              "7/10/14 15:54,7/10/14 15:56,Married,,Separate bedroom\n"
              "7/10/14 14:01,7/10/14 14:09,Married,Other,\n");
    assert_true(s.r.dialect.header);
    expect_schema(&s.r, "startdate:STRING,enddate:STRING,"
                        "which_of_the_following_best_describes_you:STRING,column_4:STRING,"
                        "column_5:STRING");
    done(&s);
    /* years naming columns above numbers (World Bank, OWID wide tables) */
    s = sniff("Country Name,Country Code,1960,1961,1962\n"
              "Aruba,ABW,54608,55811,56682\n"
              "Afghanistan,AFG,8622466,8790140,8969047\n"
              "Angola,AGO,5357195,5441333,5521400\n");
    assert_true(s.r.dialect.header);
    expect_schema(&s.r, "country_name:STRING,country_code:STRING,_1960:INT64,_1961:INT64,"
                        "_1962:INT64");
    done(&s);
    /* positions naming columns: 0,1,2,... above decimals */
    s = sniff("bigram,0,1,2,3\ncredit_report,0.0067,-0.0056,0.6585,-0.12202\n"
              "credit_card,-0.3189,0.26377,0.90643,0.23293\n");
    assert_true(s.r.dialect.header);
    done(&s);
    /* ... but a matrix whose rows all count up is data */
    s = sniff("1,2,3,4\n2,3,4,5\n3,4,5,6\n");
    assert_false(s.r.dialect.header);
    done(&s);
    /* a header repeated in the data (files concatenated with their headers): a header,
       and the repeats do not count as rows */
    s = sniff("SHOW,SEASON,ID\nBachelorette,13,13_BRYAN_A\nBachelorette,13,13_PETER_K\n"
              "SHOW,SEASON,ID\nBachelor,21,21_COREY_B\n");
    assert_true(s.r.dialect.header);
    expect_schema(&s.r, "show:STRING,season:INT64,id:STRING");
    assert_int_equal(s.r.sample_rows, 3);
    done(&s);
    /* a value that comes back in a column of categories is data, not a header repeated
       (a row was dropped as a repeated header) */
    s = sniff("happy\nsad\nhappy\nangry\n");
    assert_false(s.r.dialect.header);
    assert_false(s.r.dialect.repeats_header);
    assert_int_equal(s.r.sample_rows, 4);
    done(&s);
    s = sniff("Y\nY\nN\nNull\n");
    assert_false(s.r.dialect.header);
    assert_int_equal(s.r.sample_rows, 4);
    done(&s);
    s = sniff("1,A\n1,A\nC,A\n1,B\n");
    assert_false(s.r.dialect.header);
    assert_int_equal(s.r.sample_rows, 4);
    done(&s);
    /* all text, the header pasted again further down: a header, the copy skipped */
    s = sniff("Name,City\nAna,Recife\nBia,Natal\nName,City\nCaio,Recife\n");
    assert_true(s.r.dialect.header);
    assert_true(s.r.dialect.repeats_header);
    assert_int_equal(s.r.sample_rows, 3);
    done(&s);
    /* rows that are all alike are data, not a header repeated */
    s = sniff("foo\nfoo\nfoo\nfoo\n");
    assert_false(s.r.dialect.header);
    assert_int_equal(s.r.sample_rows, 4);
    done(&s);
    s = sniff("T,x\nT,x\nT,x\nT,x\nT,x\nT,x\nT,x\nT,y\n");
    assert_false(s.r.dialect.header);
    assert_int_equal(s.r.sample_rows, 8);
    done(&s);
    /* numbers where names would be, in text columns that hold numbers too: data */
    s = sniff("123|TEST8|text1\n345|TEST8|'text2'\n'567'|TEST8|text3\n");
    assert_false(s.r.dialect.header);
    done(&s);
    /* a number, or a word that reads as a boolean, above a column with none of its kind
       names the column (a year above partisan leans, 'y' above text) */
    s = sniff("district,2018\nAK-1,R+15.21\nAL-1,R+28.61\nAL-2,R+30.97\n");
    assert_true(s.r.dialect.header);
    expect_schema(&s.r, "district:STRING,_2018:STRING");
    assert_int_equal(s.r.sample_rows, 3);
    done(&s);
    s = sniff("x,y\n\"\",ab\ncd,\"\"\n\"ef,gh\",\n,\"ij,kl\"\nmn,op\n");
    assert_true(s.r.dialect.header);
    done(&s);
    s = sniff("0\nDigit 2\nDigit 7\nDigit 1\n");
    assert_true(s.r.dialect.header);
    done(&s);
    /* positions naming columns of text, a row of numbers among them (an alignment) */
    s = sniff("0,1,2,3\nP53_BARBU,M,A,E\nP53_CANFA,M,E,E\nP53_BOSIN,M,E,\n"
              "conservation,0.91176,0.70588,0.20588\n");
    assert_true(s.r.dialect.header);
    expect_schema(&s.r, "_0:STRING,_1:STRING,_2:STRING,_3:STRING");
    done(&s);
    /* ... unless the next row counts the same way: rows of data */
    s = sniff("a,1,2,3\nb,1,2,3\nc,x,y,z\nd,4,5,q\n");
    assert_false(s.r.dialect.header);
    done(&s);
    /* a number above a column of blanks is data (a two-row ledger with no header) */
    s = sniff("10/2009/09,Flubber Co,50,\n11/2009/09,Flubber Co,,50\n");
    assert_false(s.r.dialect.header);
    done(&s);
    /* a survey tool's question row: blank above the answer columns of one question, text
       above the rest */
    s = sniff("Did polls do well?,,Why do you say that?\nYes,No,Open-Ended Response\n"
              "Yes,,They were close\n,No,Too soon\nYes,,Fine\n,No,\n");
    assert_true(s.r.dialect.header);
    expect_schema(&s.r, "did_polls_do_well:BOOLEAN,column_2:BOOLEAN,why_do_you_say_that:STRING");
    done(&s);
}

/* Issue 14: title and note lines above the header are skipped and reported. */
static void test_preamble(void **state)
{
    (void)state;
    /* a spreadsheet's title line padded with delimiters */
    sniff_out s = sniff("Raiders at Jets 9/7/14,,\nADDR_STATE,% Sales,% Ticket Sold\n"
                        "NY,47,45\nNJ,28,31\nCT,6,5\n");
    assert_int_equal(s.r.dialect.skip_lines, 1);
    assert_true(s.r.dialect.header);
    assert_int_equal(s.r.dialect.header_rows, 1);
    assert_int_equal(s.r.npreamble, 1);
    assert_string_equal(s.r.preamble[0], "Raiders at Jets 9/7/14,,");
    expect_schema(&s.r, "addr_state:STRING,sales:INT64,ticket_sold:INT64");
    assert_int_equal(s.r.sample_rows, 3);
    done(&s);
    /* World Bank downloads: two metadata lines and blank lines, then the header */
    s = sniff("\"Data Source\",\"World Development Indicators\",\n\n"
              "\"Last Updated Date\",\"2023-05-10\",\n\n"
              "\"Country Name\",\"Country Code\",\"Indicator Name\",\"2020\",\"2021\",\n"
              "\"Aruba\",\"ABW\",\"GDP (current US$)\",\"2610038029.05\",\"3126019385.47\",\n"
              "\"Angola\",\"AGO\",\"GDP (current US$)\",\"57057217165.2\",\"74953344746.2\",\n");
    expect_preamble(&s.r, 4);
    assert_string_equal(s.r.preamble[1], "");
    expect_schema(&s.r, "country_name:STRING,country_code:STRING,indicator_name:STRING,"
                        "_2020:DECIMAL(18,2),_2021:DECIMAL(18,2),column_6:STRING");
    done(&s);
    /* a group row above the header of a crosstab */
    s = sniff(",,Democrat,,Republican,\nTeam,Total,Asian,Black,Asian,Black\n"
              "Arizona Cardinals,148,2,7,4,5\nAtlanta Falcons,188,3,27,3,13\n"
              "Baltimore Ravens,221,6,48,1,3\n");
    assert_int_equal(s.r.dialect.skip_lines, 1);
    expect_schema(&s.r, "team:STRING,total:INT64,asian:INT64,black:INT64,asian_2:INT64,"
                        "black_2:INT64");
    done(&s);
    /* a brokerage export: one quoted title line, the header and rows end with ',' */
    s = sniff("\"Transactions  for account Brokerage XXXX-1234 as of 11/15/2020 18:00:21 ET\"\n"
              "\"Date\",\"Action\",\"Symbol\",\"Quantity\",\"Amount\",\n"
              "\"11/20/2020\",\"Pr Yr Special Div\",\"ICLN\",\"\",\"$2.11\",\n"
              "\"11/10/2020\",\"Journal\",\"\",\"\",\"-$123.45\",\n"
              "\"11/05/2020\",\"Sell\",\"FB\",\"100\",\"$26143.94\",\n");
    assert_int_equal(s.r.dialect.skip_lines, 1);
    expect_schema(&s.r, "date:DATE,action:STRING,symbol:STRING,quantity:INT64,"
                        "amount:DECIMAL(18,2),column_6:STRING");
    done(&s);
    /* a statistics office's table export: the header names only the label columns, so
       it is as short as the notes above it */
    s = sniff("Australian Bureau of Statistics\n\n\"2011 Census, Place of Work\"\n\n"
              "Filters:\n\"Default Summation\",\"Persons, Place of Work\"\n\n\n"
              "\"SA2 (UR)\",\"DZN (POW)\",\n\"Goulburn\",\"110018063\",3499,\n"
              ",\"110018064\",812,\n,\"110018065\",2158,\n\"Yass\",\"110019999\",402,\n"
              ",\"110028068\",10,\n");
    expect_preamble(&s.r, 8);
    expect_schema(&s.r, "sa2_ur:STRING,dzn_pow:INT64,column_3:INT64,column_4:STRING");
    assert_int_equal(s.r.sample_rows, 5);
    done(&s);
    /* a dataset file that starts with its row and column counts (scikit-learn's) */
    s = sniff("506,13,,,,\nCRIM,ZN,INDUS,CHAS,RM,MEDV\n0.00632,18,2.31,0,6.575,24\n"
              "0.02731,0,7.07,0,6.421,21.6\n0.02729,0,7.07,0,7.185,34.7\n");
    expect_preamble(&s.r, 1);
    assert_string_equal(s.r.preamble[0], "506,13,,,,");
    expect_schema(&s.r, "crim:DECIMAL(18,5),zn:INT64,indus:DECIMAL(18,2),chas:INT64,"
                        "rm:DECIMAL(18,3),medv:DECIMAL(18,1)");
    assert_int_equal(s.r.sample_rows, 3);
    done(&s);
    /* no preamble: a sparse first row of numbers is data; an unnamed index column */
    s = sniff("5,,,\n1,2,3,4\n5,6,7,8\n");
    assert_int_equal(s.r.dialect.skip_lines, 0);
    assert_false(s.r.dialect.header);
    done(&s);
    s = sniff(",value\n0,1.5\n1,2.5\n");
    assert_int_equal(s.r.dialect.skip_lines, 0);
    assert_true(s.r.dialect.header);
    expect_schema(&s.r, "column_1:INT64,value:DECIMAL(18,1)");
    done(&s);
    /* a title above data with no header is kept: a preamble sits above a header */
    s = sniff("Readings,,\n1,2,3\n4,5,6\n");
    assert_int_equal(s.r.dialect.skip_lines, 0);
    done(&s);
    /* ... and a note of one value right above the data is no short header */
    s = sniff("Readings,,\n,,\nStation 4,,\n1,2,3\n4,5,6\n");
    assert_int_equal(s.r.dialect.skip_lines, 0);
    done(&s);
    /* forced: --skip 2 (and --skip 0 keeps the title) */
    cp_csv_options o;
    cp_csv_options_default(&o);
    o.skip_lines = 2;
    const char *t = "Report\nexported today\nid,v\n1,2\n3,4\n";
    s = sniff_opts(t, strlen(t), &o);
    assert_int_equal(s.st, CP_OK);
    assert_int_equal(s.r.dialect.skip_lines, 2);
    expect_schema(&s.r, "id:INT64,v:INT64");
    done(&s);
    o.skip_lines = 0;
    t = "Raiders at Jets,,\nADDR_STATE,Sales,Sold\nNY,47,45\n";
    s = sniff_opts(t, strlen(t), &o);
    assert_int_equal(s.r.dialect.skip_lines, 0);
    assert_int_equal(s.r.npreamble, 0);
    expect_schema(&s.r, "raiders_at_jets:STRING,column_2:STRING,column_3:STRING");
    done(&s);
}

/* Issue 14: rows under the header that label the columns again (units, survey tools). */
static void test_header_rows(void **state)
{
    (void)state;
    sniff_out s = sniff("Date,Temperature,Rain\n,deg C,mm\n2024-01-01,3.5,0\n"
                        "2024-01-02,4.5,12\n2024-01-03,1.5,0\n2024-01-04,-2.0,1\n"
                        "2024-01-05,0.5,3\n");
    assert_true(s.r.dialect.header);
    assert_int_equal(s.r.dialect.header_rows, 2);
    expect_schema(&s.r, "date:DATE,temperature:DECIMAL(18,1),rain:INT64");
    assert_int_equal(s.r.sample_rows, 5);
    done(&s);
    /* a survey tool's three header rows: names, question texts, import ids */
    s = sniff("StartDate,Progress,Finished,Q1\n"
              "Start Date,Progress,Finished,How old are you?\n"
              "\"{\"\"ImportId\"\":\"\"startDate\"\"}\",\"{\"\"ImportId\"\":\"\"progress\"\"}\","
              "\"{\"\"ImportId\"\":\"\"finished\"\"}\",\"{\"\"ImportId\"\":\"\"QID1\"\"}\"\n"
              "2024-03-01 10:00:00,100,True,34\n2024-03-01 10:05:00,100,True,51\n"
              "2024-03-01 11:00:00,60,False,\n2024-03-02 09:00:00,100,True,27\n"
              "2024-03-02 09:30:00,100,True,45\n");
    assert_int_equal(s.r.dialect.header_rows, 3);
    expect_schema(&s.r, "startdate:TIMESTAMP,progress:INT64,finished:BOOLEAN,q1:INT64");
    done(&s);
    /* a first data row with a word where its column has numbers, and numbers elsewhere,
       stays data */
    s = sniff("name,a,b\nx,oops,3\ny,1,2\nz,4,5\nw,6,7\nv,8,9\nu,1,1\n");
    assert_int_equal(s.r.dialect.header_rows, 1);
    assert_int_equal(s.r.sample_rows, 6);
    done(&s);
}

/* Issue 14: Excel's "sep=;" first line. */
static void test_excel_sep_line(void **state)
{
    (void)state;
    sniff_out s = sniff("sep=;\nData;Hist\xc3\xb3rico;Valor\n01/10/2026;PADARIA;-17,80\n"
                        "02/10/2026;PIX RECEBIDO;1.250,00\n");
    assert_int_equal(s.r.dialect.delimiter, ';');
    assert_int_equal(s.r.dialect.skip_lines, 1);
    assert_true(s.r.excel_sep);
    assert_true(s.r.dialect.header);
    expect_schema(&s.r, "data:DATE,historico:STRING,valor:DECIMAL(18,2)");
    done(&s);
    /* quoted, CRLF, and a delimiter that the rows alone would not choose */
    s = sniff("\"sep=|\"\r\na|b,c\r\n1|2,5\r\n3|4,5\r\n");
    assert_int_equal(s.r.dialect.delimiter, '|');
    assert_int_equal(s.r.dialect.skip_lines, 1);
    done(&s);
    /* --delimiter wins; the line is still skipped */
    cp_csv_options o;
    cp_csv_options_default(&o);
    o.delimiter = ',';
    const char *t = "SEP=;\na,b\n1,2\n";
    s = sniff_opts(t, strlen(t), &o);
    assert_int_equal(s.r.dialect.delimiter, ',');
    assert_int_equal(s.r.dialect.skip_lines, 1);
    expect_schema(&s.r, "a:INT64,b:INT64");
    done(&s);
    /* not the line: more after it, or a data value */
    s = sniff("sep=;x\na;b\n");
    assert_false(s.r.excel_sep);
    done(&s);
}

/* Issue 14: money as people write it. */
static void test_money(void **state)
{
    (void)state;
    /* a Brazilian bank statement */
    sniff_out s = sniff("Data;Lan\xc3\xa7"
                        "amento;Valor;Saldo\n"
                        "02/01/2024;PIX RECEBIDO;R$ 1.234,56;R$ 1.000.000,00\n"
                        "03/01/2024;TARIFA;R$ -0,05;R$ 999.999,95\n"
                        "04/01/2024;ESTORNO;-R$ 5,00;R$ 1.000.004,95\n");
    assert_int_equal(s.r.dialect.values.locale.decimal_sep, ',');
    assert_string_equal(cp_currency_symbol(s.r.dialect.values.locale.currency), "R$");
    expect_schema(&s.r, "data:DATE,lancamento:STRING,valor:DECIMAL(18,2),saldo:DECIMAL(18,2)");
    done(&s);
    /* a US export: quoted grouped amounts, dollar signs, accounting negatives */
    s = sniff("Name,Amount,Total,Count\n"
              "ann,\"1,234.56\",\"$2,000.00\",\"1,200\"\n"
              "bob,\"(1,234.56)\",\"($336.73)\",17\n"
              "cy,999.00,\"$65,548 \",\"12,345,678\"\n");
    assert_int_equal(s.r.dialect.values.locale.decimal_sep, '.');
    expect_schema(&s.r, "name:STRING,amount:DECIMAL(18,2),total:DECIMAL(18,2),count:INT64");
    done(&s);
    /* two currencies in one column stay text: converting would lose one of them */
    s = sniff("item,price\na,$5.00\nb,\xe2\x82\xac"
              "5.00\nc,$7.00\n");
    expect_schema(&s.r, "item:STRING,price:STRING");
    done(&s);
    /* ambiguous: 1.234 with no other decimal evidence stays as it was (1234 with ';') */
    s = sniff("a;b\nx;1.234\ny;2.500\n");
    assert_int_equal(s.r.dialect.values.locale.decimal_sep, '.');
    expect_schema(&s.r, "a:STRING,b:DECIMAL(18,3)");
    done(&s);
    /* 1,234 beside decimal points elsewhere is a thousands group */
    s = sniff("a,b,c\nx,\"1,234\",2.5\ny,\"2,500\",3.5\n");
    assert_int_equal(s.r.dialect.values.locale.decimal_sep, '.');
    expect_schema(&s.r, "a:STRING,b:INT64,c:DECIMAL(18,1)");
    done(&s);
    /* with nothing else: a decimal comma as before where ';' delimits, a thousands group in
       a file delimited by commas (a spreadsheet pasted as CSV: "2,666" thousand tonnes) */
    s = sniff("a;b\nx;1,234\ny;2,500\n");
    assert_int_equal(s.r.dialect.values.locale.decimal_sep, ',');
    expect_schema(&s.r, "a:STRING,b:DECIMAL(18,3)");
    done(&s);
    s = sniff("Year,2000,2001\nTimber,\"2,666\",\"2,274\"\nOther,498,853\n"
              "Iron and steel,\"22,927\",\"20,744\"\n");
    assert_int_equal(s.r.dialect.values.locale.decimal_sep, '.');
    expect_schema(&s.r, "year:STRING,_2000:INT64,_2001:INT64");
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
        cmocka_unit_test(test_delimiters),  cmocka_unit_test(test_header),
        cmocka_unit_test(test_header_rule), cmocka_unit_test(test_preamble),
        cmocka_unit_test(test_header_rows), cmocka_unit_test(test_excel_sep_line),
        cmocka_unit_test(test_money),       cmocka_unit_test(test_quote),
        cmocka_unit_test(test_locale),      cmocka_unit_test(test_sample_and_empty),
        cmocka_unit_test(test_names),       cmocka_unit_test(test_sales_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
