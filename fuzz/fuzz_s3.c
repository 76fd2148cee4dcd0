/*
 * libFuzzer target: S3's answers, through the real client (aws/s3.c, aws/aws.c and their
 * curl callbacks) talking to a scripted server (fake_http.h): the HEAD and GETs of a
 * streaming source (sizes, ETags, version ids, short, long and broken bodies, resumed
 * ranges, XML errors), PutObject, the multipart upload (CreateMultipartUpload's UploadId,
 * UploadPart's ETag, CompleteMultipartUpload's answer with an error inside a 200, the
 * NoSuchUpload check), AbortMultipartUpload and DeleteObject.
 *
 * Input: one control byte, then the script of answers (fake_http.h). The control byte
 * picks the operation (bits 0-1), the read size (bits 2-5), whether the source is read
 * twice over a rewind (bit 6) and, for the source, whether an object of more than 64 KiB
 * is read by ranged GETs of 64 KiB parts, 3 in flight (bit 7; the answers then go to
 * the parts' GETs in the order the server accepts them). Checked: a source read to its end delivers
 * exactly the size its HEAD announced, after a rewind too; every failure has a message. (Not that a
 * rewind reads the same bytes: the rewound GET asks for the same ETag and version id,
 * which S3 honours and this scripted server does not.)
 * (csvpipe lists no buckets: there is no listing answer to fuzz.)
 */
#include "aws/s3.h"
#include "check.h"
#include "fake_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fake_http *server;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    server = fake_http_start_for("AWS_ENDPOINT_URL_S3");
    return 0;
}

/* Reads src to its end in reads of cap bytes; 0, or -1 when a read failed. */
static int read_all(cp_source *src, size_t cap, uint64_t *total)
{
    unsigned char buf[1024];
    *total = 0;
    for (;;) {
        size_t n = 0;
        cp_error err;
        cp_error_clear(&err);
        cp_status st = src->read(src, buf, cap, &n, &err);
        check_message(st, &err);
        if (st != CP_OK)
            return -1;
        if (n == 0)
            return 0;
        if (n > cap)
            abort();
        *total += n;
        if (*total > (64u << 20))
            abort(); /* the source delivers more than any script holds */
    }
}

static void source(cp_aws *aws, uint8_t ctl)
{
    cp_error err;
    cp_error_clear(&err);
    cp_source *src = NULL;
    if (ctl & 128) {
        setenv("CSVPIPE_S3_GET_PART_BYTES", "65536", 1);
        setenv("CSVPIPE_S3_GETS_IN_FLIGHT", "3", 1);
    }
    cp_status st = cp_s3_source_open(aws, "s3://bucket/in/data file.csv", &src, &err);
    unsetenv("CSVPIPE_S3_GET_PART_BYTES");
    unsetenv("CSVPIPE_S3_GETS_IN_FLIGHT");
    if (st != CP_OK) {
        check_message(st, &err);
        return;
    }
    if (!cp_s3_source_etag(src))
        abort();
    (void)cp_s3_source_version_id(src);
    size_t cap = 1 + ((ctl >> 2) & 15) * 67;
    for (int pass = 0; pass < (ctl & 64 ? 2 : 1); pass++) {
        cp_error_clear(&err);
        if (pass && src->rewind(src, &err) != CP_OK)
            break;
        uint64_t total = 0;
        if (read_all(src, cap, &total) != 0)
            break;
        if (total != (uint64_t)src->size) {
            fprintf(stderr, "read %llu bytes of an object of %lld (pass %d)\n",
                    (unsigned long long)total, (long long)src->size, pass + 1);
            abort();
        }
    }
    (void)cp_s3_source_resumes(src);
    cp_source_free(src);
}

static void upload(cp_aws *aws, uint8_t ctl, bool multipart)
{
    cp_error err;
    cp_error_clear(&err);
    cp_s3_upload *u = NULL;
    if (cp_s3_upload_new(aws, "s3://bucket/out/parquet/x.parquet", &u, &err) != CP_OK)
        abort(); /* the URI is fine: nothing was sent */
    size_t part = (size_t)5 << 20;
    if (multipart && cp_s3_upload_set_part_size(u, part, &err) != CP_OK)
        abort();
    static unsigned char zeros[1 << 16];
    size_t want = multipart ? part + 1 + (ctl >> 2) : (size_t)(ctl >> 2) * 100;
    cp_status st = CP_OK;
    for (size_t done = 0; st == CP_OK && done < want;) {
        size_t k = want - done < sizeof zeros ? want - done : sizeof zeros;
        st = cp_s3_upload_write(u, zeros, k);
        done += k;
    }
    /* after a failed write the commit reports that write's error */
    cp_status wrote = st;
    cp_error_clear(&err);
    st = cp_s3_upload_commit(u, &err);
    check_message(st, &err);
    if (wrote != CP_OK && st == CP_OK)
        abort();
    if (st == CP_OK && cp_s3_upload_bytes(u) != want)
        abort();
    (void)cp_s3_upload_parts(u);
    cp_s3_upload_free(u);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t ctl = data[0];
    fake_http_script(server, data + 1, size - 1);
    cp_error err;
    cp_aws *aws = NULL;
    if (cp_aws_new(&aws, &err) != CP_OK)
        abort();
    switch (ctl & 3) {
    case 0:
        source(aws, ctl);
        break;
    case 1:
        upload(aws, ctl, false);
        break;
    case 2:
        /* 5 MiB through loopback per run: only one run in four of this kind */
        upload(aws, ctl, (ctl & 0xc0) == 0xc0);
        break;
    default: {
        cp_error_clear(&err);
        cp_status st = cp_s3_delete(aws, "s3://bucket/out/rejected/x.csv", &err);
        check_message(st, &err);
        cp_error_clear(&err);
        st = cp_s3_put(aws, "s3://bucket/out/_done.json", "{}", 2, "application/json", &err);
        check_message(st, &err);
        break;
    }
    }
    cp_aws_free(aws);
    return 0;
}
