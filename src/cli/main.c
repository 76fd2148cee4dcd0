/*
 * csvpipe - CSV files in; Parquet, JSON, relational rows and items out.
 * The front end: picks the command and hands it the rest of the arguments.
 */
#include "cli/cli.h"

#include <string.h>

static int cmd_version(int argc, char **argv)
{
    printf("csvpipe version %s (build %s)\n", CP_VERSION, CP_GIT_HASH);
    return CP_EXIT_OK;
}

static const struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} commands[] = {
    {"run", cp_cmd_run, "load CSV files into Parquet, NDJSON, the database and item store"},
    {"watch", cp_cmd_watch, "load every file that lands in a folder (a local inbox)"},
    {"inspect", cp_cmd_inspect, "show the dialect, schema and row count csvpipe sees in a CSV"},
    {"lambda", cp_cmd_lambda, "run as the AWS Lambda runtime (S3, SQS and EventBridge events)"},
    {"db-setup", cp_cmd_db_setup, "set up the database roles of a deployment (loader, reader)"},
    {"version", cmd_version, "print the version"},
};

static void print_usage(FILE *f)
{
    fprintf(f, "usage: csvpipe COMMAND [options] [args]\n\n"
               "csvpipe turns CSV files into Parquet, JSON, database rows and items, in one\n"
               "streaming pass.\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n'csvpipe COMMAND --help' describes one command; `man csvpipe` has them all.\n"
               "CSVPIPE_LOG=debug|info|warn|error sets the log level on stderr (default warn).\n"
               "Exit status: 0 success, 1 a file failed or was rejected, 2 a usage error,\n"
               "130 or 143 stopped by SIGINT or SIGTERM (the file in hand rolled back).\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        print_usage(stderr);
        return CP_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        print_usage(stdout);
        return CP_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0)
        cmd = "version";
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    cp_cli_error("unknown command '%s'", cmd);
    print_usage(stderr);
    return CP_EXIT_USAGE;
}
