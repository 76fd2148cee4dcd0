/*
 * replay.c - runs a libFuzzer target without libFuzzer, for `make test` (gcc, ASan/UBSan).
 *
 * Usage: <target> [-seconds=N] [-runs=N] [-seed=N] [-max_len=N] CORPUS_DIR_OR_FILE...
 *
 * First every file of the corpus is run once, in name order: the committed seeds and
 * every regression input. Then, for the given seconds (or runs), random corpus entries
 * are mutated (bit flips, byte edits, inserted and deleted ranges, copied ranges,
 * splices of two entries, interesting numbers) and run. The search is far weaker than
 * libFuzzer's (no coverage feedback); its job is to keep the corpus running in CI and to
 * shake the code near it. A sanitizer report ends the process (ASan 66 or 1, UBSan with
 * -fno-sanitize-recover), after the death callback has written the input that caused it
 * to crash-<target>-<seed>-<run> in $CP_FUZZ_ARTIFACTS (default: the current folder) and
 * printed its path, the seed and the run number; `<target> FILE` reruns it.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/common_interface_defs.h>
#define HAVE_DEATH_CALLBACK 1
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
__attribute__((weak)) int LLVMFuzzerInitialize(int *argc, char ***argv);

typedef struct input {
    uint8_t *data;
    size_t len;
} input;

static const char *target_name = "fuzz";
static const uint8_t *current;
static size_t current_len;
static unsigned long long seed;
static unsigned long long run_number;

static void save_current(void)
{
    const char *dir = getenv("CP_FUZZ_ARTIFACTS");
    char path[4096];
    snprintf(path, sizeof path, "%s/crash-%s-%llu-%llu", dir && *dir ? dir : ".", target_name, seed,
             run_number);
    FILE *f = fopen(path, "wb");
    if (f) {
        if (current_len)
            fwrite(current, 1, current_len, f);
        fclose(f);
        fprintf(stderr, "replay: the input of run %llu (seed %llu) is saved as %s\n", run_number,
                seed, path);
    } else {
        fprintf(stderr, "replay: could not save the input of run %llu to %s: %s\n", run_number,
                path, strerror(errno));
    }
}

static uint64_t rng_state;

static uint64_t rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}

static size_t below(size_t n)
{
    return n ? (size_t)(rnd() % n) : 0;
}

static int read_file(const char *path, input *out)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    size_t cap = 4096, len = 0;
    uint8_t *d = malloc(cap);
    for (;;) {
        if (!d) {
            fclose(f);
            return -1;
        }
        size_t n = fread(d + len, 1, cap - len, f);
        len += n;
        if (len < cap)
            break;
        cap *= 2;
        uint8_t *g = realloc(d, cap);
        if (!g)
            free(d);
        d = g;
    }
    fclose(f);
    out->data = d;
    out->len = len;
    return 0;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Appends the regular files of path (a file, or a folder read one level deep) to names. */
static void list_inputs(const char *path, char ***names, size_t *n, size_t *cap)
{
    struct stat stt;
    if (stat(path, &stt) != 0) {
        fprintf(stderr, "replay: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    size_t first = *n;
    if (S_ISDIR(stt.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d))) {
            if (e->d_name[0] == '.')
                continue;
            char *p;
            if (asprintf(&p, "%s/%s", path, e->d_name) < 0)
                exit(2);
            struct stat fs;
            if (stat(p, &fs) != 0 || !S_ISREG(fs.st_mode)) {
                free(p);
                continue;
            }
            if (*n == *cap) {
                *cap = *cap ? *cap * 2 : 64;
                *names = realloc(*names, *cap * sizeof **names);
                if (!*names)
                    exit(2);
            }
            (*names)[(*n)++] = p;
        }
        if (d)
            closedir(d);
        qsort(*names + first, *n - first, sizeof **names, by_name);
    } else {
        if (*n == *cap) {
            *cap = *cap ? *cap * 2 : 64;
            *names = realloc(*names, *cap * sizeof **names);
            if (!*names)
                exit(2);
        }
        (*names)[(*n)++] = strdup(path);
    }
}

/* Runs one input from an exact-size copy, so reading past its end is an ASan report. */
static void run_one(const uint8_t *data, size_t len)
{
    uint8_t *copy = malloc(len ? len : 1);
    if (!copy)
        exit(2);
    if (len)
        memcpy(copy, data, len);
    current = copy;
    current_len = len;
    LLVMFuzzerTestOneInput(copy, len);
    current = NULL;
    free(copy);
    run_number++;
}

static const int64_t interesting[] = {0,    1,     -1,         127,        128,       255,
                                      256,  32767, 32768,      65535,      65536,     2147483647,
                                      -128, 1000,  4294967295, 1000000000, INT64_MIN, INT64_MAX};

/* One random edit of buf[0..*len) (capacity cap); other is a second corpus entry. */
static void mutate(uint8_t *buf, size_t *len, size_t cap, const input *other)
{
    size_t n = *len;
    switch (below(n ? 9 : 2)) {
    case 0: /* insert a random byte */
    case 1:
        if (n < cap) {
            size_t at = below(n + 1);
            memmove(buf + at + 1, buf + at, n - at);
            buf[at] = (uint8_t)rnd();
            n++;
        }
        break;
    case 2: /* flip a bit */
        buf[below(n)] ^= (uint8_t)(1u << below(8));
        break;
    case 3: /* set a byte */
        buf[below(n)] = (uint8_t)rnd();
        break;
    case 4: { /* delete a range */
        size_t at = below(n), k = 1 + below(n - at < 16 ? n - at : 16);
        memmove(buf + at, buf + at + k, n - at - k);
        n -= k;
        break;
    }
    case 5: { /* copy a range over another place */
        size_t from = below(n), to = below(n), k = 1 + below(n - from < 32 ? n - from : 32);
        if (to + k > n)
            k = n - to;
        memmove(buf + to, buf + from, k);
        break;
    }
    case 6: { /* duplicate a range */
        size_t from = below(n), k = 1 + below(n - from < 64 ? n - from : 64);
        if (n + k <= cap) {
            size_t to = below(n + 1);
            uint8_t tmp[64];
            memcpy(tmp, buf + from, k);
            memmove(buf + to + k, buf + to, n - to);
            memcpy(buf + to, tmp, k);
            n += k;
        }
        break;
    }
    case 7: { /* splice: a piece of another entry */
        if (!other->len)
            break;
        size_t from = below(other->len), k = 1 + below(other->len - from);
        size_t to = below(n + 1);
        if (n + k > cap)
            k = cap - n;
        memmove(buf + to + k, buf + to, n - to);
        memcpy(buf + to, other->data + from, k);
        n += k;
        break;
    }
    case 8: { /* an interesting number, as text or as bytes */
        int64_t v = interesting[below(sizeof interesting / sizeof interesting[0])];
        char text[32];
        size_t k;
        if (rnd() & 1) {
            k = (size_t)snprintf(text, sizeof text, "%lld", (long long)v);
        } else {
            k = 1u << below(4);
            memcpy(text, &v, k);
        }
        size_t at = below(n + 1);
        if (rnd() & 1 && at + k <= n) {
            memcpy(buf + at, text, k);
        } else if (n + k <= cap) {
            memmove(buf + at + k, buf + at, n - at);
            memcpy(buf + at, text, k);
            n += k;
        }
        break;
    }
    }
    *len = n;
}

int main(int argc, char **argv)
{
    const char *slash = strrchr(argv[0], '/');
    target_name = slash ? slash + 1 : argv[0];
    double seconds = 0;
    unsigned long long runs = 0;
    size_t max_len = 65536;
    seed = (unsigned long long)time(NULL);
    char **names = NULL;
    size_t nnames = 0, capnames = 0;
    if (LLVMFuzzerInitialize)
        LLVMFuzzerInitialize(&argc, &argv);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strncmp(a, "-seconds=", 9) == 0)
            seconds = atof(a + 9);
        else if (strncmp(a, "-runs=", 6) == 0)
            runs = strtoull(a + 6, NULL, 10);
        else if (strncmp(a, "-seed=", 6) == 0)
            seed = strtoull(a + 6, NULL, 10);
        else if (strncmp(a, "-max_len=", 9) == 0)
            max_len = strtoull(a + 9, NULL, 10);
        else if (a[0] == '-') {
            fprintf(stderr, "replay: unknown option %s\n", a);
            return 2;
        } else
            list_inputs(a, &names, &nnames, &capnames);
    }
#ifdef HAVE_DEATH_CALLBACK
    __sanitizer_set_death_callback(save_current);
#endif
    rng_state = seed * 0x9e3779b97f4a7c15ull + 1;
    input *corpus = calloc(nnames ? nnames : 1, sizeof *corpus);
    size_t ncorpus = 0;
    for (size_t i = 0; i < nnames; i++) {
        if (read_file(names[i], &corpus[ncorpus]) != 0) {
            fprintf(stderr, "replay: cannot read %s\n", names[i]);
            return 2;
        }
        run_one(corpus[ncorpus].data, corpus[ncorpus].len);
        ncorpus++;
    }
    fprintf(stderr, "replay: %s: %zu corpus inputs ran clean\n", target_name, ncorpus);
    if (seconds <= 0 && runs == 0)
        goto out;
    if (ncorpus == 0) {
        corpus[0].data = calloc(1, 1);
        ncorpus = 1;
    }
    uint8_t *buf = malloc(max_len + 1);
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned long long mutated = 0;
    fprintf(stderr, "replay: mutating with -seed=%llu\n", seed);
    for (;;) {
        if (runs && mutated >= runs)
            break;
        if (seconds > 0 && (mutated & 15) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((double)(t.tv_sec - t0.tv_sec) + (double)(t.tv_nsec - t0.tv_nsec) / 1e9 >= seconds)
                break;
        }
        const input *base = &corpus[below(ncorpus)];
        size_t len = base->len < max_len ? base->len : max_len;
        memcpy(buf, base->data, len);
        int edits = 1 + (int)below(4);
        for (int k = 0; k < edits; k++)
            mutate(buf, &len, max_len, &corpus[below(ncorpus)]);
        run_one(buf, len);
        mutated++;
    }
    free(buf);
    fprintf(stderr, "replay: %s: %llu mutated inputs ran clean\n", target_name, mutated);
out:
    for (size_t i = 0; i < ncorpus; i++)
        free(corpus[i].data);
    free(corpus);
    for (size_t i = 0; i < nnames; i++)
        free(names[i]);
    free(names);
    return 0;
}
