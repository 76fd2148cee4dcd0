/*
 * libFuzzer target: the credential providers of aws/aws.c that read what others wrote: the
 * JSON of the ECS container endpoint and of instance metadata (IMDSv2: token, role name,
 * credentials), through the real client and a scripted server (fake_http.h), and the
 * shared credentials file.
 *
 * Input: one control byte, then the script of answers (modes 0, 1, 3) or the credentials
 * file (mode 2). Bits 0-1 pick the provider: 0 the container endpoint, 1 instance
 * metadata, 2 the shared credentials file (bit 2: profile "p1" instead of "default"), 3
 * the container endpoint with an authorization token file. Credentials are asked for twice
 * (the second time from the cache, or refreshed when they expire within 5 minutes).
 * Checked: credentials that are returned have an access key id and a secret key; a
 * failure has a message.
 */
#include "aws/aws.h"
#include "check.h"
#include "fake_http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static fake_http *server;
static char dir[] = "/tmp/csvpipe-fuzz-credentials-XXXXXX";
static char file[sizeof dir + 32], token[sizeof dir + 32], url[128];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    fake_http_env();
    server = fake_http_start();
    if (!mkdtemp(dir))
        abort();
    snprintf(file, sizeof file, "%s/credentials", dir);
    snprintf(token, sizeof token, "%s/token", dir);
    snprintf(url, sizeof url, "%s/v2/credentials/1234", fake_http_url(server));
    FILE *f = fopen(token, "w");
    if (!f)
        abort();
    fputs("  Bearer fuzz-token\n", f);
    fclose(f);
    return 0;
}

static void write_file(const uint8_t *data, size_t size)
{
    FILE *f = fopen(file, "wb");
    if (!f)
        abort();
    if (size)
        fwrite(data, 1, size, f);
    fclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size == 0)
        return 0;
    uint8_t ctl = data[0];
    int mode = ctl & 3;
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    unsetenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    setenv("AWS_SHARED_CREDENTIALS_FILE", file, 1);
    unsetenv("AWS_PROFILE");
    unlink(file);
    switch (mode) {
    case 0:
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
        setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Basic Zm9vOmJhcg==", 1);
        break;
    case 1:
        unsetenv("AWS_EC2_METADATA_DISABLED");
        setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", fake_http_url(server), 1);
        break;
    case 2:
        write_file(data + 1, size - 1);
        if (ctl & 4)
            setenv("AWS_PROFILE", "p1", 1);
        break;
    default:
        setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", url, 1);
        setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", token, 1);
        break;
    }
    cp_error err;
    cp_aws *aws =
        fake_http_aws(server, mode == 2 ? NULL : data + 1, mode == 2 ? 0 : size - 1, &err);
    for (int round = 0; round < 2; round++) {
        const char *ak = NULL, *sk = NULL, *tok = NULL, *source = NULL;
        cp_error_clear(&err);
        cp_status st = cp_aws_credentials(aws, &ak, &sk, &tok, &source, &err);
        if (st == CP_OK && (!ak || !sk || !source)) {
            fprintf(stderr, "credentials without a key id, secret or source\n");
            abort();
        }
        check_message(st, &err);
    }
    cp_aws_free(aws);
    return 0;
}
