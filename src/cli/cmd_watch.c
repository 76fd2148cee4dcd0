/*
 * csvpipe watch DIR: a local inbox, the one-machine stand-in for "S3 triggers Lambda".
 *
 * Loads the files already in DIR, then every file that is closed after writing or moved
 * in (inotify IN_CLOSE_WRITE, IN_MOVED_TO), so a file still being written is never read.
 * A file in DIR/NAME/ belongs to dataset NAME; a file directly in DIR to its own name.
 * After its load a source moves to DIR/processed/ or, with its error file beside it, to
 * DIR/failed/. SIGINT or SIGTERM stop the watch: the file in hand is rolled back (and
 * stays in the inbox for the next start), and the exit code is 130 or 143.
 */
#define _GNU_SOURCE
#include "cli/cli.h"
#include "util/fault.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: csvpipe watch [options] DIR\n"
    "\n"
    "Loads every file in DIR and every file written or moved into it later, then\n"
    "moves each to DIR/processed/ or DIR/failed/. A file in DIR/NAME/ goes to dataset\n"
    "NAME (unless --table names one). Stops on SIGINT or SIGTERM. Takes the options\n"
    "of `csvpipe run`, and --once.\n"
    "\n"
    "  --once                  load what is there, then exit (1 if a file failed)\n";

typedef struct watch {
    const char *inbox;
    int fd;
    int wd_root;
    int *wd_sub; /* the watches of the subfolders, and their names */
    char **sub_name;
    size_t nsub, capsub;
    cp_pipeline *p;
    bool json;
    bool usage; /* a --type named no column of a file: the watch stops (exit 2) */
    unsigned loaded, failed;
} watch;

static bool skip_name(const char *name)
{
    return name[0] == '.' || strcmp(name, "processed") == 0 || strcmp(name, "failed") == 0 ||
           strstr(name, ".tmp-") != NULL;
}

static int make_dir(const char *path)
{
    return mkdir(path, 0755) == 0 || errno == EEXIST ? 0 : -1;
}

/* Moves inbox/rel to inbox/<where>/rel, creating folders; an existing target is replaced. */
static void move_to(const watch *w, const char *sub, const char *name, const char *where,
                    const char *error_json)
{
    char dir[PATH_MAX], from[PATH_MAX], to[2 * PATH_MAX + 2];
    snprintf(dir, sizeof dir, "%s/%s", w->inbox, where);
    make_dir(dir);
    if (sub) {
        snprintf(dir, sizeof dir, "%s/%s/%s", w->inbox, where, sub);
        make_dir(dir);
        snprintf(from, sizeof from, "%s/%s/%s", w->inbox, sub, name);
    } else {
        snprintf(from, sizeof from, "%s/%s", w->inbox, name);
    }
    snprintf(to, sizeof to, "%s/%s", dir, name);
    cp_fault_point("watch-moving");
    if (rename(from, to) != 0)
        cp_cli_error("cannot move %s to %s: %s", from, to, strerror(errno));
    else
        cp_fault_point("watch-moved");
    if (error_json) {
        char copy[2 * PATH_MAX + 16];
        snprintf(copy, sizeof copy, "%s.error.json", to);
        int in = open(error_json, O_RDONLY), out = -1;
        if (in >= 0)
            out = open(copy, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        char buf[8192];
        ssize_t n;
        while (in >= 0 && out >= 0 && (n = read(in, buf, sizeof buf)) > 0)
            if (write(out, buf, (size_t)n) != n)
                break;
        if (in >= 0)
            close(in);
        if (out >= 0)
            close(out);
    }
}

static void load_one(watch *w, const char *sub, const char *name)
{
    char path[PATH_MAX];
    if (sub)
        snprintf(path, sizeof path, "%s/%s/%s", w->inbox, sub, name);
    else
        snprintf(path, sizeof path, "%s/%s", w->inbox, name);
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return;
    cp_load_summary s;
    cp_error err;
    cp_error_clear(&err);
    cp_status ls = cp_pipeline_load(w->p, path, sub, &s, &err);
    if (ls != CP_OK) {
        cp_cli_error("%s: %s", path, err.message);
        cp_load_summary_release(&s);
        if (ls == CP_USAGE)
            w->usage = true; /* the file stays in the inbox for a corrected command */
        else
            w->failed++; /* not about the file (memory, the database): it stays for the next start
                          */
        return;
    }
    cp_run_print_summary(&s, w->json);
    if (!s.interrupted) {
        bool ok = s.status == CP_LOAD_LOADED || s.status == CP_LOAD_SKIPPED;
        move_to(w, sub, name, ok ? "processed" : "failed", ok ? NULL : s.error_path);
        ok ? w->loaded++ : w->failed++;
    }
    cp_load_summary_release(&s);
}

/* Watches the subfolder name (once); false after saying why it cannot. */
static bool add_sub_watch(watch *w, const char *name)
{
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/%s", w->inbox, name);
    int wd = inotify_add_watch(w->fd, path, IN_CLOSE_WRITE | IN_MOVED_TO);
    if (wd < 0) {
        cp_cli_error("%s: cannot watch: %s%s; the files that land there later are not seen", path,
                     strerror(errno),
                     errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
        return false;
    }
    for (size_t i = 0; i < w->nsub; i++)
        if (w->wd_sub[i] == wd)
            return true;
    if (w->nsub == w->capsub) {
        size_t cap = w->capsub ? 2 * w->capsub : 16;
        int *wds = realloc(w->wd_sub, cap * sizeof *wds);
        if (wds)
            w->wd_sub = wds;
        char **names = wds ? realloc(w->sub_name, cap * sizeof *names) : NULL;
        if (names)
            w->sub_name = names;
        if (!wds || !names) {
            cp_cli_error("%s: out of memory; the files that land there later are not seen", path);
            return false;
        }
        w->capsub = cap;
    }
    if (!(w->sub_name[w->nsub] = strdup(name))) {
        cp_cli_error("%s: out of memory; the files that land there later are not seen", path);
        return false;
    }
    w->wd_sub[w->nsub++] = wd;
    return true;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/*
 * Loads what a folder holds now (sorted by name). sub NULL: the inbox itself. False after
 * saying what went wrong (a folder it cannot read or watch, memory).
 */
static bool scan(watch *w, const char *sub)
{
    char path[PATH_MAX];
    if (sub)
        snprintf(path, sizeof path, "%s/%s", w->inbox, sub);
    else
        snprintf(path, sizeof path, "%s", w->inbox);
    DIR *d = opendir(path);
    if (!d) {
        cp_cli_error("%s: cannot read the folder: %s", path, strerror(errno));
        return false;
    }
    char **names = NULL;
    size_t n = 0;
    bool ok = true;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (skip_name(e->d_name))
            continue;
        char **grown = realloc(names, (n + 1) * sizeof *names);
        if (grown)
            names = grown;
        if (!grown || !(names[n] = strdup(e->d_name))) {
            cp_cli_error("%s: out of memory listing the folder", path);
            ok = false;
            break;
        }
        n++;
    }
    closedir(d);
    if (n > 1)
        qsort(names, n, sizeof *names, cmp_str);
    for (size_t i = 0; i < n && !cp_cli_stop_signal() && !w->usage; i++) {
        char full[2 * PATH_MAX + 2];
        snprintf(full, sizeof full, "%s/%s", path, names[i]);
        struct stat st;
        if (stat(full, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode) && !sub) {
            ok &= add_sub_watch(w, names[i]);
            ok &= scan(w, names[i]);
        } else if (S_ISREG(st.st_mode)) {
            load_one(w, sub, names[i]);
        }
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return ok;
}

int cp_cmd_watch(int argc, char **argv)
{
    bool once = false;
    /* --once is watch's own; take it out before the shared parser sees it */
    char **args = calloc((size_t)argc + 1, sizeof *args);
    if (!args) {
        cp_cli_error("out of memory");
        return CP_EXIT_FAILED;
    }
    int nargs = 0;
    for (int i = 0; i < argc; i++) {
        if (strcmp(argv[i], "--once") == 0)
            once = true;
        else
            args[nargs++] = argv[i];
    }
    cp_run_args a;
    watch w;
    memset(&w, 0, sizeof w);
    w.fd = -1;
    int rc = cp_run_args_parse(nargs, args, usage, &a);
    if (rc != CP_EXIT_OK || a.help)
        goto out;
    if (a.first_arg != nargs - 1) {
        fprintf(stderr, "%s", usage);
        rc = CP_EXIT_USAGE;
        goto out;
    }
    w.inbox = args[a.first_arg];
    w.json = a.json;
    struct stat st;
    if (stat(w.inbox, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cp_cli_error("%s: not a folder", w.inbox);
        rc = CP_EXIT_USAGE;
        goto out;
    }
    a.o.progress = false;
    if ((rc = cp_run_create_table(&a)) != CP_EXIT_OK)
        goto out;
    cp_error err;
    cp_error_clear(&err);
    w.p = cp_pipeline_new(&a.o, &err);
    if (!w.p) {
        cp_cli_error("%s", err.message);
        rc = CP_EXIT_FAILED;
        goto out;
    }
    cp_cli_catch_stop_signals(); /* no SA_RESTART: poll() returns on a signal */

    /* Watch first, then scan, so a file that lands in between is not missed. */
    w.fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
    if (w.fd < 0 ||
        (w.wd_root = inotify_add_watch(
             w.fd, w.inbox, IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_ONLYDIR)) < 0) {
        cp_cli_error("%s: cannot watch: %s", w.inbox, strerror(errno));
        rc = CP_EXIT_FAILED;
        goto out;
    }
    fprintf(stderr, "csvpipe: watching %s (processed/ and failed/ inside it)\n", w.inbox);
    if (!scan(&w, NULL))
        rc = CP_EXIT_FAILED;
    cp_fault_point("watch-waiting");
    while (!once && !cp_cli_stop_signal() && !w.usage) {
        struct pollfd pfd = {w.fd, POLLIN, 0};
        int r = poll(&pfd, 1, 1000);
        if (r <= 0)
            continue;
        char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t n = read(w.fd, buf, sizeof buf);
        for (char *q = buf; n > 0 && q < buf + n && !cp_cli_stop_signal() && !w.usage;) {
            const struct inotify_event *ev = (const struct inotify_event *)q;
            q += sizeof *ev + ev->len;
            if (ev->len == 0 || skip_name(ev->name))
                continue;
            if (ev->wd == w.wd_root) {
                if (ev->mask & IN_ISDIR) {
                    if (ev->mask & (IN_CREATE | IN_MOVED_TO)) {
                        add_sub_watch(&w, ev->name);
                        scan(&w, ev->name); /* files that landed before the watch */
                    }
                } else if (ev->mask & (IN_CLOSE_WRITE | IN_MOVED_TO)) {
                    load_one(&w, NULL, ev->name);
                }
                continue;
            }
            for (size_t i = 0; i < w.nsub; i++)
                if (ev->wd == w.wd_sub[i] && !(ev->mask & IN_ISDIR))
                    load_one(&w, w.sub_name[i], ev->name);
        }
    }
    fprintf(stderr, "csvpipe: watch stopped: %u loaded, %u failed\n", w.loaded, w.failed);
    if (cp_cli_stop_signal())
        rc = 128 + cp_cli_stop_signal();
    else if (w.usage)
        rc = CP_EXIT_USAGE;
    else if (once && w.failed)
        rc = CP_EXIT_FAILED; /* as `run`: a batch with a failed file exits 1 */
out:
    if (w.fd >= 0)
        close(w.fd);
    for (size_t i = 0; i < w.nsub; i++)
        free(w.sub_name[i]);
    free(w.sub_name);
    free(w.wd_sub);
    cp_pipeline_free(w.p);
    cp_run_args_release(&a);
    free(args);
    return rc;
}
