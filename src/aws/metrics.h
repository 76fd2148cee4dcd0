/*
 * metrics.h - the one list of the metrics csvpipe emits as CloudWatch Embedded Metric
 * Format (EMF).
 *
 * Contract: every load prints one EMF record in namespace CP_EMF_NAMESPACE with the single
 * dimension CP_EMF_DIMENSION (the dataset name) and one value for each metric below, in
 * the unit given (a CloudWatch unit name, written verbatim into the record's "Unit").
 * This list is the only place the names are spelled: the EMF writer expands it, the
 * pipeline computes each value (pipeline/summary.c, one metric_<Name> function each), and the
 * deployment checks (tests/cli/deploy_dashboards.sh) read it to prove that every Grafana
 * and CloudWatch dashboard panel names a metric that really exists. Renaming or removing
 * an entry breaks those dashboards and alarms: change deploy/ in the same commit. Add new
 * metrics at the end.
 *
 * X(name, unit):
 *   name  the metric name, a C identifier, emitted as the string #name
 *   unit  the CloudWatch unit, a string literal
 */
#ifndef CP_AWS_METRICS_H
#define CP_AWS_METRICS_H

#define CP_EMF_NAMESPACE "csvpipe"
#define CP_EMF_DIMENSION "dataset"

#define CP_EMF_METRICS(X)                                                                          \
    X(FilesLoaded, "Count")                                                                        \
    X(FilesRejected, "Count")                                                                      \
    X(RowsLoaded, "Count")                                                                         \
    X(RowsRejected, "Count")                                                                       \
    X(BytesRead, "Bytes")                                                                          \
    X(DurationMs, "Milliseconds")                                                                  \
    X(Restarts, "Count")

#endif /* CP_AWS_METRICS_H */
