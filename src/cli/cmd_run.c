#define _GNU_SOURCE
/*
 * csvpipe run SOURCE...: the main job. Each source (a path, a glob, a folder of .csv
 * files, or - for standard input) is loaded into every configured output; one summary per
 * file. Exit 0 when every file loaded (or was a repeat), 1 when any was rejected or failed,
 * 130 or 143 when SIGINT or SIGTERM stopped it (the load in hand rolled back).
 */
#include "aws/ecs.h"
#include "aws/emf.h"
#include "cli/cli.h"
#include "load/items.h"
#include "pipeline/pipeline.h"
#include "util/cpus.h"
#include "util/decompress.h"

#include <dirent.h>
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: csvpipe run [options] SOURCE...\n"
    "\n"
    "Loads each CSV SOURCE (a file, a glob, a folder of .csv files, an\n"
    "s3://BUCKET/KEY object, or - for standard input) into Parquet, NDJSON, the\n"
    "relational database and the item store, in one pass. gzip, zstd, bzip2 and xz\n"
    "files are decompressed as they stream (a folder's .csv.gz, .csv.zst, .csv.bz2\n"
    "and .csv.xz files are taken too).\n"
    "\n";

static const char run_options_help[] =
    "  --out DIR               output folder or s3://BUCKET/PREFIX (env CSVPIPE_OUT;\n"
    "                          default ./csvpipe-out)\n"
    "  --formats LIST          parquet,json (default both); 'none' for neither\n"
    "  --json-style STYLE      plain (default) or dynamodb (DynamoDB import format)\n"
    "  --partition-by EXPR[,EXPR]\n"
    "                          Hive-style partitions of the Parquet and NDJSON files:\n"
    "                          a column, or year(COL), month(COL), day(COL) of a date\n"
    "                          or timestamp column; files go to\n"
    "                          parquet/DATASET/KEY=VALUE/.../STEM.parquet\n"
    "                          (env CSVPIPE_PARTITION_BY)\n"
    "  --catalog glue:DATABASE register the Parquet dataset of an s3:// --out in\n"
    "                          that Glue database: table, columns, partitions\n"
    "                          (env CSVPIPE_CATALOG)\n"
    "  --partition-writers N   partition files written at once (default 64); more\n"
    "                          partitions than that start extra files (STEM~2...)\n"
    "  --compression CODEC     Parquet codec: snappy (default), zstd, gzip, none\n"
    "  --row-group-size N      Parquet row group size in bytes (default 128M)\n"
    "  --page-size N           Parquet data page size in bytes (default 1M)\n"
    "  --dictionary-limit N    Parquet dictionary size per column chunk before PLAIN\n"
    "                          (default 1M; 0 = no dictionaries)\n"
    "  --sql URL               relational database and ledger: sqlite:PATH,\n"
    "                          postgresql://USER@HOST/DB (any libpq URI), or\n"
    "                          postgresql:KEY=VALUE... (a libpq conninfo string)\n"
    "                          (env CSVPIPE_SQL, or the RDS secret named by\n"
    "                          CSVPIPE_SQL_SECRET_ARN; default\n"
    "                          sqlite:OUT/warehouse.db, none when OUT is s3://)\n"
    "  --no-sql                no relational database (and no ledger)\n"
    "  --nosql URL             item store: sqlite:PATH or dynamodb:TABLE\n"
    "                          (env CSVPIPE_NOSQL; default sqlite:OUT/items.db,\n"
    "                          none when OUT is s3://)\n"
    "  --no-nosql              no item store\n"
    "  --table NAME            dataset (table) name; default: the file name\n"
    "  --key COL[,COL]         business key of the items (default: source and row)\n"
    "  --max-rejects N         reject the file past N bad rows (default 1000)\n"
    "  --max-reject-percent P  reject the file past P% bad rows (default 1)\n"
    "  --json                  print each summary as one JSON line\n"
    "  --quiet                 no progress bar\n"
    "  --threads N             threads of a load: 1 reads, types and encodes on one;\n"
    "                          more parse the chunks of a local file at once and\n"
    "                          encode the files on others (env CSVPIPE_THREADS;\n"
    "                          default auto: the CPUs this process may use)\n"
    "  --create-table          create the DynamoDB table of --nosql dynamodb:TABLE\n"
    "                          when it is missing (on-demand, pk/sk), for local use\n"
    "  --handed-off            load s3:// objects only when the ledger hands their\n"
    "                          current version to this run (the ECS task `csvpipe\n"
    "                          lambda` starts for big files; in a task, only a\n"
    "                          hand-off naming this task); others are skipped.\n"
    "                          Prints each load's EMF record too\n";

enum {
    OPT_OUT = CP_OPT_FIRST_FREE,
    OPT_FORMATS,
    OPT_JSON_STYLE,
    OPT_COMPRESSION,
    OPT_ROW_GROUP,
    OPT_PAGE_SIZE,
    OPT_DICTIONARY_LIMIT,
    OPT_SQL,
    OPT_NO_SQL,
    OPT_NOSQL,
    OPT_NO_NOSQL,
    OPT_TABLE,
    OPT_KEY,
    OPT_MAX_REJECTS,
    OPT_MAX_REJECT_PERCENT,
    OPT_QUIET,
    OPT_CREATE_TABLE,
    OPT_HANDED_OFF,
    OPT_THREADS,
    OPT_PARTITION_BY,
    OPT_PARTITION_WRITERS,
    OPT_CATALOG,
};

/* name.csv, or name.csv.gz and the other compressed forms */
static bool has_csv_suffix(const char *name)
{
    size_t n = strlen(name) - cp_compression_suffix_len(name);
    return n > 4 && strncasecmp(name + n - 4, ".csv", 4) == 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends s (owned) to the list; false, with s freed, when memory runs out (s NULL too). */
static bool push(char ***list, size_t *n, char *s)
{
    char **grown = s ? realloc(*list, (*n + 1) * sizeof **list) : NULL;
    if (!grown) {
        free(s);
        return false;
    }
    *list = grown;
    grown[(*n)++] = s;
    return true;
}

enum { EXPAND_NOMEM = -2, EXPAND_UNREADABLE = -1, EXPAND_NONE = 0, EXPAND_FOUND = 1 };

/*
 * Expands one SOURCE argument into paths (owned strings appended to *list): a file, stdin
 * or an S3 URI as is, a folder's .csv files (compressed too) in name order, or a glob's
 * matches. EXPAND_UNREADABLE after saying why a folder cannot be read.
 */
static int expand(const char *arg, char ***list, size_t *n)
{
    struct stat st;
    const size_t first = *n;
    if (strcmp(arg, "-") == 0 || strncmp(arg, "s3://", 5) == 0 ||
        (stat(arg, &st) == 0 && !S_ISDIR(st.st_mode)))
        return push(list, n, strdup(arg)) ? EXPAND_FOUND : EXPAND_NOMEM;
    if (stat(arg, &st) == 0) {
        DIR *d = opendir(arg);
        if (!d) {
            cp_cli_error("%s: cannot read the folder: %s", arg, strerror(errno));
            return EXPAND_UNREADABLE;
        }
        bool ok = true;
        struct dirent *e;
        while (ok && (e = readdir(d))) {
            if (!has_csv_suffix(e->d_name))
                continue;
            char *p = NULL;
            if (asprintf(&p, "%s/%s", arg, e->d_name) < 0) {
                ok = false;
                break;
            }
            struct stat fs;
            if (stat(p, &fs) != 0 || !S_ISREG(fs.st_mode))
                free(p);
            else
                ok = push(list, n, p);
        }
        closedir(d);
        if (!ok)
            return EXPAND_NOMEM;
        qsort(*list + first, *n - first, sizeof **list, cmp_str);
    } else {
        glob_t g;
        if (glob(arg, 0, NULL, &g) == 0) {
            bool ok = true;
            for (size_t i = 0; ok && i < g.gl_pathc; i++)
                ok = push(list, n, strdup(g.gl_pathv[i]));
            globfree(&g);
            if (!ok)
                return EXPAND_NOMEM;
        }
    }
    return *n > first ? EXPAND_FOUND : EXPAND_NONE;
}

void cp_run_args_release(cp_run_args *a)
{
    free(a->keys_copy);
    free(a->keys);
    free(a->default_sql);
    free(a->default_nosql);
    cp_cli_wipe_free(a->secret_sql);
    cp_null_list_release(&a->nulls);
    cp_overrides_release(&a->overrides);
    memset(a, 0, sizeof *a);
}

int cp_run_args_parse(int argc, char **argv, const char *cmd_usage, cp_run_args *a)
{
    static const struct option longopts[] = {
        CP_CSV_LONG_OPTIONS,
        {"json", no_argument, NULL, CP_OPT_JSON},
        {"out", required_argument, NULL, OPT_OUT},
        {"formats", required_argument, NULL, OPT_FORMATS},
        {"json-style", required_argument, NULL, OPT_JSON_STYLE},
        {"compression", required_argument, NULL, OPT_COMPRESSION},
        {"row-group-size", required_argument, NULL, OPT_ROW_GROUP},
        {"page-size", required_argument, NULL, OPT_PAGE_SIZE},
        {"dictionary-limit", required_argument, NULL, OPT_DICTIONARY_LIMIT},
        {"sql", required_argument, NULL, OPT_SQL},
        {"no-sql", no_argument, NULL, OPT_NO_SQL},
        {"nosql", required_argument, NULL, OPT_NOSQL},
        {"no-nosql", no_argument, NULL, OPT_NO_NOSQL},
        {"table", required_argument, NULL, OPT_TABLE},
        {"key", required_argument, NULL, OPT_KEY},
        {"max-rejects", required_argument, NULL, OPT_MAX_REJECTS},
        {"max-reject-percent", required_argument, NULL, OPT_MAX_REJECT_PERCENT},
        {"quiet", no_argument, NULL, OPT_QUIET},
        {"create-table", no_argument, NULL, OPT_CREATE_TABLE},
        {"handed-off", no_argument, NULL, OPT_HANDED_OFF},
        {"threads", required_argument, NULL, OPT_THREADS},
        {"partition-by", required_argument, NULL, OPT_PARTITION_BY},
        {"partition-writers", required_argument, NULL, OPT_PARTITION_WRITERS},
        {"catalog", required_argument, NULL, OPT_CATALOG},
        {NULL, 0, NULL, 0},
    };
    memset(a, 0, sizeof *a);
    cp_overrides_init(&a->overrides);
    cp_pipeline_options *o = &a->o;
    cp_pipeline_options_default(o);
    bool no_sql = false, no_nosql = false, quiet = false;
    const char *sql = getenv("CSVPIPE_SQL"), *nosql = getenv("CSVPIPE_NOSQL");
    if (getenv("CSVPIPE_OUT"))
        o->out_dir = getenv("CSVPIPE_OUT");
    const char *threads = getenv("CSVPIPE_THREADS");
    const char *threads_from = "CSVPIPE_THREADS";
    const char *partition_by = getenv("CSVPIPE_PARTITION_BY");
    const char *catalog = getenv("CSVPIPE_CATALOG");
    int opt;
    optind = 1;
    while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        int r = cp_csv_option(opt, optarg, &o->csv, &a->nulls);
        if (r == 0)
            r = cp_override_option(opt, optarg, &a->overrides);
        if (r < 0)
            return CP_EXIT_USAGE;
        if (r > 0)
            continue;
        switch (opt) {
        case CP_OPT_JSON:
            a->json = true;
            break;
        case CP_OPT_HELP:
            printf("%s%s\n%s", cmd_usage, run_options_help, cp_csv_options_help);
            a->help = true;
            return CP_EXIT_OK;
        case OPT_OUT:
            o->out_dir = optarg;
            break;
        case OPT_FORMATS: {
            cp_error err;
            cp_error_clear(&err);
            if (cp_pipeline_parse_formats(optarg, &o->formats, &err) != CP_OK) {
                cp_cli_error("--formats: %s", err.message);
                return CP_EXIT_USAGE;
            }
            break;
        }
        case OPT_JSON_STYLE:
            if (!cp_json_style_parse(optarg, &o->json_style)) {
                cp_cli_error("--json-style takes plain or dynamodb");
                return CP_EXIT_USAGE;
            }
            break;
        case OPT_COMPRESSION:
            if (!cp_pq_codec_parse(optarg, &o->parquet.codec)) {
                cp_cli_error("--compression takes snappy, zstd, gzip or none");
                return CP_EXIT_USAGE;
            }
            break;
        case OPT_ROW_GROUP:
            if (cp_parse_size(optarg, &o->parquet.row_group_bytes) < 0 ||
                o->parquet.row_group_bytes < 1024) {
                cp_cli_error("--row-group-size must be a size of at least 1K, such as 128M");
                return CP_EXIT_USAGE;
            }
            break;
        case OPT_PAGE_SIZE:
            if (cp_parse_size(optarg, &o->parquet.page_bytes) < 0 || o->parquet.page_bytes == 0 ||
                o->parquet.page_bytes > ((size_t)1 << 30)) {
                cp_cli_error("--page-size must be a size from 1 byte to 1G, such as 1M");
                return CP_EXIT_USAGE;
            }
            break;
        case OPT_DICTIONARY_LIMIT:
            if (cp_parse_size(optarg, &o->parquet.dictionary_limit) < 0 ||
                o->parquet.dictionary_limit > ((size_t)1 << 30)) {
                cp_cli_error("--dictionary-limit must be a size up to 1G, such as 1M, or 0 for "
                             "no dictionaries");
                return CP_EXIT_USAGE;
            }
            if (o->parquet.dictionary_limit == 0)
                o->parquet.dictionary_limit = CP_PQ_NO_DICTIONARY;
            break;
        case OPT_SQL:
            sql = optarg;
            break;
        case OPT_NO_SQL:
            no_sql = true;
            break;
        case OPT_NOSQL:
            nosql = optarg;
            break;
        case OPT_NO_NOSQL:
            no_nosql = true;
            break;
        case OPT_TABLE:
            o->table = optarg;
            break;
        case OPT_KEY: {
            free(a->keys_copy);
            free(a->keys);
            a->keys_copy = strdup(optarg);
            a->keys = calloc(strlen(optarg) + 1, sizeof *a->keys);
            if (!a->keys_copy || !a->keys) {
                cp_cli_error("out of memory");
                return CP_EXIT_FAILED;
            }
            o->nkeys = 0;
            char *save = NULL;
            for (char *t = strtok_r(a->keys_copy, ",", &save); t; t = strtok_r(NULL, ",", &save))
                a->keys[o->nkeys++] = t;
            o->key_names = a->keys;
            break;
        }
        case OPT_MAX_REJECTS: {
            char *end;
            o->max_rejects = strtoull(optarg, &end, 10);
            if (*end || end == optarg) {
                cp_cli_error("--max-rejects takes a number of rows");
                return CP_EXIT_USAGE;
            }
            break;
        }
        case OPT_MAX_REJECT_PERCENT: {
            char *end;
            double pct = strtod(optarg, &end);
            if (*end || end == optarg || pct < 0 || pct > 100) {
                cp_cli_error("--max-reject-percent takes a percentage from 0 to 100");
                return CP_EXIT_USAGE;
            }
            o->max_reject_fraction = pct / 100;
            break;
        }
        case OPT_QUIET:
            quiet = true;
            break;
        case OPT_CREATE_TABLE:
            a->create_table = true;
            break;
        case OPT_HANDED_OFF:
            o->require_handoff = true;
            break;
        case OPT_THREADS:
            threads = optarg;
            threads_from = "--threads";
            break;
        case OPT_PARTITION_BY:
            partition_by = optarg;
            break;
        case OPT_CATALOG:
            catalog = optarg;
            break;
        case OPT_PARTITION_WRITERS: {
            char *end;
            unsigned long n = strtoul(optarg, &end, 10);
            if (*end || end == optarg || n == 0 || n > 4096) {
                cp_cli_error("--partition-writers takes a number from 1 to 4096");
                return CP_EXIT_USAGE;
            }
            o->partition_writers = (unsigned)n;
            break;
        }
        default:
            fprintf(stderr, "%s", cmd_usage);
            return CP_EXIT_USAGE;
        }
    }
    if (partition_by && *partition_by) {
        cp_error perr;
        cp_error_clear(&perr);
        if (cp_partition_spec_parse(partition_by, &a->partition, &perr) != CP_OK) {
            cp_cli_error("%s", perr.message);
            return CP_EXIT_USAGE;
        }
        o->partition = &a->partition;
    }
    if (catalog && *catalog) {
        char msg[512];
        if (cp_cli_catalog_parse(catalog, o, msg, sizeof msg) < 0) {
            cp_cli_error("%s", msg);
            return CP_EXIT_USAGE;
        }
    }
    if (threads && *threads) {
        cp_error terr;
        cp_error_clear(&terr);
        if (cp_threads_parse(threads, &o->threads, &terr) != CP_OK) {
            cp_cli_error("%s: %s", threads_from, terr.message);
            return CP_EXIT_USAGE;
        }
    }
    const char *arn = getenv("CSVPIPE_SQL_SECRET_ARN");
    if (!no_sql && !sql && arn && *arn) {
        char msg[1200];
        if (cp_cli_sql_url_from_secret(arn, &a->secret_sql, msg, sizeof msg) < 0) {
            cp_cli_error("%s", msg);
            return CP_EXIT_FAILED;
        }
        sql = a->secret_sql;
    }
    /* the local defaults live in the output folder; an S3 output has none */
    const bool local_out = strncmp(o->out_dir, "s3://", 5) != 0;
    /* asprintf leaves its pointer undefined when it fails */
    if (!no_sql && !sql && local_out &&
        asprintf(&a->default_sql, "sqlite:%s/warehouse.db", o->out_dir) < 0)
        a->default_sql = NULL;
    if (!no_nosql && !nosql && local_out &&
        asprintf(&a->default_nosql, "sqlite:%s/items.db", o->out_dir) < 0)
        a->default_nosql = NULL;
    if (local_out &&
        ((!no_sql && !sql && !a->default_sql) || (!no_nosql && !nosql && !a->default_nosql))) {
        cp_cli_error("out of memory");
        return CP_EXIT_FAILED;
    }
    if (!no_sql)
        o->sql_url = sql ? sql : a->default_sql;
    if (!no_nosql)
        o->nosql_url = nosql ? nosql : a->default_nosql;
    if (o->formats == 0 && !o->sql_url && !o->nosql_url) {
        cp_cli_error("nothing to do: no output format, no database and no item store");
        return CP_EXIT_USAGE;
    }
    if (o->require_handoff && !o->sql_url) {
        cp_cli_error("--handed-off needs the database (--sql, CSVPIPE_SQL or "
                     "CSVPIPE_SQL_SECRET_ARN): the hand-off is in its ledger");
        return CP_EXIT_USAGE;
    }
    o->progress = !quiet && !a->json;
    if (!cp_overrides_empty(&a->overrides))
        o->overrides = &a->overrides;
    const char *prefix = getenv("CSVPIPE_SCHEMA_PREFIX");
    o->schema_prefix = prefix && *prefix ? prefix : NULL;
    a->first_arg = optind;
    return CP_EXIT_OK;
}

int cp_run_create_table(const cp_run_args *a)
{
    if (!a->create_table || !a->o.nosql_url)
        return CP_EXIT_OK;
    cp_error err;
    cp_error_clear(&err);
    if (cp_items_create_table(a->o.nosql_url, &err) != CP_OK) {
        cp_cli_error("%s", err.message);
        return CP_EXIT_FAILED;
    }
    return CP_EXIT_OK;
}

void cp_run_print_summary(const cp_load_summary *s, bool json)
{
    if (json) {
        cp_buf b;
        cp_buf_init(&b, CP_BUF_UNLIMITED);
        cp_load_summary_to_json(s, &b);
        printf("%s\n", b.data ? b.data : "{}");
        cp_buf_release(&b);
    } else {
        cp_load_summary_print(s, stdout);
    }
    fflush(stdout);
}

/*
 * --handed-off: every source must be an S3 object; in an ECS task (task metadata endpoint
 * set) only a hand-off naming this task counts.
 */
static int handoff_setup(cp_run_args *a, char **paths, size_t npaths, char **task_arn)
{
    for (size_t i = 0; i < npaths; i++)
        if (strncmp(paths[i], "s3://", 5) != 0) {
            cp_cli_error("--handed-off loads S3 objects only, not %s", paths[i]);
            return CP_EXIT_USAGE;
        }
    cp_error err;
    cp_error_clear(&err);
    cp_aws *aws = NULL;
    cp_status st = cp_aws_new(&aws, &err);
    if (st == CP_OK)
        st = cp_ecs_own_task_arn(aws, task_arn, &err);
    cp_aws_free(aws);
    if (st != CP_OK) {
        cp_cli_error("cannot tell which ECS task this is: %s", err.message);
        return CP_EXIT_FAILED;
    }
    a->o.handoff_task = *task_arn;
    return CP_EXIT_OK;
}

static void print_emf(const cp_load_summary *s)
{
    cp_emf_load metrics;
    cp_load_summary_emf(s, &metrics);
    cp_buf line;
    cp_buf_init(&line, CP_BUF_UNLIMITED);
    if (cp_emf_format(&metrics, cp_emf_now_ms(), &line) == CP_OK)
        cp_emf_write(stdout, &line);
    cp_buf_release(&line);
    fflush(stdout);
}

int cp_cmd_run(int argc, char **argv)
{
    cp_run_args a;
    char *task_arn = NULL;
    char **paths = NULL;
    size_t npaths = 0;
    int rc = cp_run_args_parse(argc, argv, usage, &a);
    if (rc != CP_EXIT_OK || a.help)
        goto out;
    if (a.first_arg >= argc) {
        fprintf(stderr, "%s", usage);
        rc = CP_EXIT_USAGE;
        goto out;
    }
    int nmissing = 0;
    for (int i = a.first_arg; i < argc; i++) {
        int found = expand(argv[i], &paths, &npaths);
        if (found == EXPAND_NOMEM) {
            cp_cli_error("out of memory listing the sources");
            rc = CP_EXIT_FAILED;
            goto out;
        }
        if (found == EXPAND_NONE)
            cp_cli_error("%s: no such file, folder or matching file", argv[i]);
        nmissing += found != EXPAND_FOUND;
    }
    if (npaths == 0) {
        rc = CP_EXIT_FAILED;
        goto out;
    }
    if ((rc = cp_run_create_table(&a)) != CP_EXIT_OK)
        goto out;
    cp_error err;
    cp_error_clear(&err);
    if (a.o.require_handoff && (rc = handoff_setup(&a, paths, npaths, &task_arn)) != CP_EXIT_OK)
        goto out;
    cp_pipeline *p = cp_pipeline_new(&a.o, &err);
    if (!p) {
        cp_cli_error("%s", err.message);
        rc = CP_EXIT_FAILED;
        goto out;
    }
    cp_cli_catch_stop_signals();
    for (size_t i = 0; i < npaths; i++) {
        cp_load_summary s;
        cp_status st = cp_pipeline_load(p, paths[i], NULL, &s, &err);
        if (st == CP_USAGE) { /* a --type for a column this file lacks */
            cp_cli_error("%s", err.message);
            cp_load_summary_release(&s);
            rc = CP_EXIT_USAGE;
            break;
        }
        if (st != CP_OK) {
            cp_cli_error("%s: %s", paths[i], err.message);
            cp_load_summary_release(&s);
            rc = CP_EXIT_FAILED;
            break;
        }
        cp_run_print_summary(&s, a.json);
        if (a.o.require_handoff)
            print_emf(&s);
        if (s.status == CP_LOAD_REJECTED || s.status == CP_LOAD_FAILED)
            rc = CP_EXIT_FAILED;
        bool stop = s.interrupted || cp_pipeline_interrupted();
        cp_load_summary_release(&s);
        if (stop)
            break;
    }
    if (nmissing && rc != CP_EXIT_USAGE)
        rc = CP_EXIT_FAILED;
    if (cp_cli_stop_signal())
        rc = 128 + cp_cli_stop_signal();
    cp_pipeline_free(p);
out:
    for (size_t i = 0; i < npaths; i++)
        free(paths[i]);
    free(paths);
    free(task_arn);
    cp_run_args_release(&a);
    return rc;
}
