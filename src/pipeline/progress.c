#include "pipeline/progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

static double mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

void cp_progress_init(cp_progress *p, bool enabled, const char *label)
{
    p->enabled = enabled && isatty(STDERR_FILENO);
    p->drawn = false;
    p->label = label;
    p->start_ms = p->last_ms = mono_ms();
    p->bytes_read = 0;
}

static void human(double bytes, char *out, size_t cap)
{
    const char *units[] = {"B", "KB", "MB", "GB", "TB"};
    int u = 0;
    while (bytes >= 1024 && u < 4) {
        bytes /= 1024;
        u++;
    }
    snprintf(out, cap, "%.1f %s", bytes, units[u]);
}

void cp_progress_update_bytes(cp_progress *p, uint64_t bytes, int64_t total, uint64_t rows)
{
    if (!p->enabled)
        return;
    double now = mono_ms();
    if (now - p->start_ms < 1000 || now - p->last_ms < 200)
        return;
    p->last_ms = now;
    double secs = (now - p->start_ms) / 1e3;
    double rate = (double)bytes / secs;
    char done[32], all[32], speed[32];
    human((double)bytes, done, sizeof done);
    human(rate, speed, sizeof speed);
    if (total > 0) {
        double frac = (double)bytes / (double)total;
        if (frac > 1)
            frac = 1;
        int width = 30, filled = (int)(frac * width);
        char bar[32];
        for (int i = 0; i < width; i++)
            bar[i] = i < filled ? '=' : i == filled ? '>' : ' ';
        bar[width] = '\0';
        human((double)total, all, sizeof all);
        double left = rate > 0 ? ((double)total - (double)bytes) / rate : 0;
        fprintf(stderr, "\r%s [%s] %3.0f%% %s/%s %llu rows %s/s %.0fs left   ", p->label, bar,
                frac * 100, done, all, (unsigned long long)rows, speed, left);
    } else {
        fprintf(stderr, "\r%s %s %llu rows %s/s   ", p->label, done, (unsigned long long)rows,
                speed);
    }
    p->drawn = true;
}

void cp_progress_done(cp_progress *p)
{
    if (p->drawn)
        fprintf(stderr, "\r\033[K");
    p->drawn = false;
}
