/*
 * cli.h - the csvpipe commands and the options they share.
 *
 * Each command is `int cp_cmd_NAME(int argc, char **argv)` with argv[0] the command name;
 * it returns the process exit code: 0 success, 1 a file failed or was rejected,
 * 2 a usage error.
 */
#ifndef CP_CLI_H
#define CP_CLI_H

#include "csv/overrides.h"
#include "csv/sniff.h"

#include <getopt.h>
#include <stdio.h>

enum { CP_EXIT_OK = 0, CP_EXIT_FAILED = 1, CP_EXIT_USAGE = 2 };

int cp_cmd_inspect(int argc, char **argv);
int cp_cmd_db_setup(int argc, char **argv);
int cp_cmd_lambda(int argc, char **argv);
int cp_cmd_run(int argc, char **argv);
int cp_cmd_watch(int argc, char **argv);

/* getopt_long option values of the CSV options shared by commands. */
enum {
    CP_OPT_ENCODING = 1000,
    CP_OPT_DELIMITER,
    CP_OPT_QUOTE,
    CP_OPT_HEADER,
    CP_OPT_NO_HEADER,
    CP_OPT_DECIMAL,
    CP_OPT_DATE_ORDER,
    CP_OPT_NULL,
    CP_OPT_MAX_FIELD,
    CP_OPT_TYPE,
    CP_OPT_SCHEMA,
    CP_OPT_SKIP,
    CP_OPT_JSON,
    CP_OPT_HELP,
    CP_OPT_FIRST_FREE, /* commands number their own options from here */
};

#define CP_CSV_LONG_OPTIONS                                                                        \
    {"encoding", required_argument, NULL, CP_OPT_ENCODING},                                        \
        {"delimiter", required_argument, NULL, CP_OPT_DELIMITER},                                  \
        {"quote", required_argument, NULL, CP_OPT_QUOTE},                                          \
        {"header", no_argument, NULL, CP_OPT_HEADER},                                              \
        {"no-header", no_argument, NULL, CP_OPT_NO_HEADER},                                        \
        {"decimal", required_argument, NULL, CP_OPT_DECIMAL},                                      \
        {"date-order", required_argument, NULL, CP_OPT_DATE_ORDER},                                \
        {"null", required_argument, NULL, CP_OPT_NULL},                                            \
        {"max-field-size", required_argument, NULL, CP_OPT_MAX_FIELD},                             \
        {"type", required_argument, NULL, CP_OPT_TYPE},                                            \
        {"schema", required_argument, NULL, CP_OPT_SCHEMA},                                        \
        {"skip", required_argument, NULL, CP_OPT_SKIP},                                            \
    {                                                                                              \
        "help", no_argument, NULL, CP_OPT_HELP                                                     \
    }

/* The help text of the shared CSV options. */
extern const char cp_csv_options_help[];

/* Null tokens given with --null, owned by the caller of cp_csv_option. */
typedef struct cp_null_list {
    const char **tokens;
    size_t n;
} cp_null_list;

/*
 * Applies one shared option to o. Returns 1 when handled, 0 when the option is not a
 * shared one, -1 after printing a usage error.
 */
int cp_csv_option(int opt, const char *arg, cp_csv_options *o, cp_null_list *nulls);
void cp_null_list_release(cp_null_list *l);

/*
 * Applies --type or --schema to ov (csv/overrides.h). Returns 1 when handled, 0 when opt
 * is another option, -1 after printing a usage error.
 */
int cp_override_option(int opt, const char *arg, cp_overrides *ov);

/* Parses sizes such as 16M, 512k, 1G, 1000 (digits first: no sign, no space). -1 if not. */
int cp_parse_size(const char *s, size_t *out);
/* --max-invocations N of the Lambda runtimes: a positive number; -1 after a usage error. */
int cp_parse_max_invocations(const char *arg, unsigned long *out);

/* Parsed options of `run` and `watch`, which take the same ones. */
#include "pipeline/pipeline.h"

typedef struct cp_run_args {
    cp_pipeline_options o;
    cp_null_list nulls;
    cp_overrides overrides; /* --type, --schema (o.overrides points here when given) */
    bool json;
    bool create_table; /* --create-table */
    bool help;         /* --help was printed */
    int first_arg;     /* index of the first non-option argument */
    char *keys_copy;
    const char **keys;
    char *default_sql, *default_nosql;
    char *secret_sql;            /* from CSVPIPE_SQL_SECRET_ARN; holds a password */
    cp_partition_spec partition; /* --partition-by (o.partition points here when given) */
} cp_run_args;

/*
 * Sets o->catalog_database from "glue:DATABASE" (--catalog, CSVPIPE_CATALOG) once o's
 * output and formats are known: -1 with a message when it is not that, when the output is
 * not on S3 or when Parquet is not among the formats.
 */
int cp_cli_catalog_parse(const char *text, cp_pipeline_options *o, char *msg, size_t cap);

/* Parses run/watch options; returns an exit code (CP_EXIT_OK to go on unless a->help). */
int cp_run_args_parse(int argc, char **argv, const char *cmd_usage, cp_run_args *a);
void cp_run_args_release(cp_run_args *a);
/* With --create-table, creates the item store's table; returns an exit code. */
int cp_run_create_table(const cp_run_args *a);
/* Prints a load summary for a person, or as one JSON line. */
void cp_run_print_summary(const cp_load_summary *s, bool json);

/*
 * The relational database named by a Secrets Manager secret (an RDS secret: username,
 * password and optionally host, port, dbname; secrets.h): *url is "postgresql:" + a libpq
 * conninfo and holds the password (free it with cp_cli_wipe_free). -1 with a message.
 */
int cp_cli_sql_url_from_secret(const char *arn, char **url, char *msg, size_t cap);
/* Overwrites s with zeros and frees it; NULL allowed. */
void cp_cli_wipe_free(char *s);

/* ---- lambda_handoff.c: big files from `csvpipe lambda` to an ECS task ---- */
typedef struct cp_lambda_handoff cp_lambda_handoff;

/*
 * Reads the hand-off settings: CSVPIPE_ECS_CLUSTER (unset: *out NULL, no hand-off),
 * CSVPIPE_ECS_TASK_DEFINITION, CSVPIPE_ECS_SUBNETS and CSVPIPE_ECS_SECURITY_GROUPS
 * (comma-separated), CSVPIPE_ECS_CONTAINER (default csvpipe), CSVPIPE_THROUGHPUT_MBPS
 * (default cp_lambda_default_throughput). o are the Lambda's options: the task gets the
 * same formats, codec, JSON style and key. -1 with a message when incomplete.
 */
int cp_lambda_handoff_new(const cp_pipeline_options *o, cp_lambda_handoff **out, char *msg,
                          size_t cap);
void cp_lambda_handoff_free(cp_lambda_handoff *h);
/* Bytes per second a Lambda of AWS_LAMBDA_FUNCTION_MEMORY_SIZE is expected to load. */
double cp_lambda_default_throughput(void);
/* The plan for one load of invocation request_id, time_left_ms before its soft deadline. */
void cp_lambda_handoff_plan(cp_lambda_handoff *h, const char *request_id, int64_t time_left_ms,
                            cp_handoff_plan *plan);

/*
 * SIGINT and SIGTERM stop `run` and `watch`: the first interrupts the load in hand
 * (cp_pipeline_interrupt), which rolls back and is not recorded as a failure of the file;
 * a second ends the process at once, as without a handler. Blocking calls are not
 * restarted (no SA_RESTART), so a wait returns. cp_cli_stop_signal tells which signal
 * arrived (0 for none): a command it stopped exits 128 + its number (130, 143), as a shell
 * reports a process the signal ended.
 */
void cp_cli_catch_stop_signals(void);
int cp_cli_stop_signal(void);

/* Prints "csvpipe: error: message" to stderr. */
void cp_cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
