/*
 * ecs.h - Amazon ECS: start a standalone Fargate task (RunTask) and ask how a task fares
 * (DescribeTasks). JSON 1.1 protocol: POST / with X-Amz-Target
 * AmazonEC2ContainerServiceV20141113.<operation>, signed for "ecs" by the shared client
 * (aws.h; endpoint AWS_ENDPOINT_URL_ECS, else AWS_ENDPOINT_URL, else ecs.<region>).
 */
#ifndef CP_ECS_H
#define CP_ECS_H

#include "aws/aws.h"

/* One task to start. Strings and lists are borrowed; lists are NULL-terminated. */
typedef struct cp_ecs_run_request {
    const char *cluster;                /* name or ARN */
    const char *task_definition;        /* family, family:revision or ARN */
    const char *container;              /* the container whose command is replaced */
    const char *const *command;         /* the new command (at least one word) */
    const char *const *subnets;         /* awsvpc subnets (at least one) */
    const char *const *security_groups; /* may be NULL or empty */
    const char *started_by;             /* NULL or up to 128 of A-Z a-z 0-9 _ / - */
    const char *client_token;           /* NULL or up to 64 characters from '!' to '~' */
} cp_ecs_run_request;

/*
 * The RunTask body of req (launch type FARGATE, one task, no public IP, the container's
 * command overridden), malloc'd into *body. CP_USAGE naming the field when req breaks a
 * rule above; CP_NOMEM.
 */
cp_status cp_ecs_run_task_body(const cp_ecs_run_request *req, char **body, cp_error *err);

/*
 * RunTask. On success *task_arn is the new task's ARN (malloc'd; the caller frees). When
 * ECS answers 200 without a task (its "failures": capacity, a missing task definition...)
 * CP_IO with the failure's reason and detail; other errors as cp_aws_fail. Retries are the
 * client's; give a client_token so a retried request cannot start a second task.
 */
cp_status cp_ecs_run_task(cp_aws *aws, const cp_ecs_run_request *req, char **task_arn,
                          cp_error *err);

/* What DescribeTasks says of one task. */
typedef struct cp_ecs_task_state {
    char last_status[32];    /* PROVISIONING ... RUNNING ... STOPPED; MISSING when unknown */
    char desired_status[32]; /* RUNNING or STOPPED; "" when unknown */
    char stopped_reason[256];
    bool gone; /* STOPPED, being stopped (desired STOPPED), or no longer known to ECS */
} cp_ecs_task_state;

/*
 * DescribeTasks of one task in cluster. A task ECS no longer knows (it forgets stopped
 * tasks after a while) is last_status "MISSING", gone. Errors as cp_aws_fail.
 */
cp_status cp_ecs_describe_task(cp_aws *aws, const char *cluster, const char *task_arn,
                               cp_ecs_task_state *out, cp_error *err);

/*
 * This process's own task ARN, when it runs in an ECS task: GET
 * $ECS_CONTAINER_METADATA_URI_V4/task (the task metadata endpoint, unsigned) and its
 * "TaskARN". *arn NULL (and CP_OK) when the variable is unset; malloc'd otherwise. CP_IO
 * when the endpoint does not answer with one.
 */
cp_status cp_ecs_own_task_arn(cp_aws *aws, char **arn, cp_error *err);

#endif
