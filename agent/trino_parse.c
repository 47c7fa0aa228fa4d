/*
 * Trino's answers, parsed (docs/DESIGN.md §3 lists the endpoints). Unknown
 * fields are ignored; missing or mistyped fields we need are errors. Trino
 * writes NaN doubles as the string "NaN" in JSON and as NaN in OpenMetrics.
 */
#include "trino_parse.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const attributes[TRINO_COUNTER_COUNT] = {
        [TRINO_COMPLETED] = "CompletedQueries",
        [TRINO_FAILED] = "FailedQueries",
        [TRINO_USER_ERROR] = "UserErrorFailures",
        [TRINO_INTERNAL] = "InternalFailures",
        [TRINO_EXTERNAL] = "ExternalFailures",
        [TRINO_INSUFFICIENT_RESOURCES] = "InsufficientResourcesFailures",
        [TRINO_CANCELED] = "CanceledQueries",
        [TRINO_ABANDONED] = "AbandonedQueries",
        [TRINO_SUBMITTED] = "SubmittedQueries",
        [TRINO_RUNNING] = "RunningQueries",
        [TRINO_QUEUED] = "QueuedQueries",
};

const char *trino_counter_attribute(enum trino_counter counter)
{
	return attributes[counter];
}

static bool is_gauge(int counter)
{
	return counter == TRINO_RUNNING || counter == TRINO_QUEUED;
}

static json_t *load_json(const char *body, size_t len, char *err, size_t err_len)
{
	json_error_t error;
	json_t *root = json_loadb(body, len, JSON_DECODE_ANY, &error);
	if (root == NULL)
		snprintf(err, err_len, "not JSON: %s", error.text);
	return root;
}

static int copy_string(json_t *value, char *out, size_t out_len, const char *field, char *err,
                       size_t err_len)
{
	if (!json_is_string(value)) {
		snprintf(err, err_len, "%s is not a string", field);
		return -1;
	}
	if (json_string_length(value) >= out_len) {
		snprintf(err, err_len, "%s is longer than %zu bytes", field, out_len - 1);
		return -1;
	}
	memcpy(out, json_string_value(value), json_string_length(value) + 1);
	if (strlen(out) != json_string_length(value)) {
		snprintf(err, err_len, "%s contains a NUL character", field);
		return -1;
	}
	return 0;
}

int trino_parse_duration_ms(const char *text, int64_t *ms)
{
	static const struct {
		const char *unit;
		double ms;
	} units[] = {{"ns", 1e-6}, {"us", 1e-3},   {"ms", 1},      {"s", 1000},
	             {"m", 60000}, {"h", 3600000}, {"d", 86400000}};
	errno = 0;
	char *end = NULL;
	double value = strtod(text, &end);
	if (end == text || errno != 0 || !isfinite(value) || value < 0)
		return -1;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].unit) == 0) {
			double result = value * units[i].ms;
			if (result > 9.2e18)
				return -1;
			*ms = (int64_t)llround(result);
			return 0;
		}
	}
	return -1;
}

int trino_parse_info(const char *body, size_t len, struct trino_info *info, char *err,
                     size_t err_len)
{
	memset(info, 0, sizeof(*info));
	info->uptime_ms = -1;
	json_t *root = load_json(body, len, err, err_len);
	if (root == NULL)
		return -1;
	int rc = -1;
	if (!json_is_object(root)) {
		snprintf(err, err_len, "/v1/info is not a JSON object");
		goto done;
	}
	json_t *node_version = json_object_get(root, "nodeVersion");
	if (!json_is_object(node_version)) {
		snprintf(err, err_len, "/v1/info has no nodeVersion object");
		goto done;
	}
	if (copy_string(json_object_get(node_version, "version"), info->version,
	                sizeof(info->version), "nodeVersion.version", err, err_len) != 0)
		goto done;
	json_t *coordinator = json_object_get(root, "coordinator");
	if (!json_is_boolean(coordinator)) {
		snprintf(err, err_len, "/v1/info has no boolean 'coordinator'");
		goto done;
	}
	info->coordinator = json_is_true(coordinator);
	info->starting = json_is_true(json_object_get(root, "starting"));
	json_t *value = json_object_get(root, "environment");
	if (value != NULL && copy_string(value, info->environment, sizeof(info->environment),
	                                 "environment", err, err_len) != 0)
		goto done;
	value = json_object_get(root, "uptime");
	if (json_is_string(value) &&
	    trino_parse_duration_ms(json_string_value(value), &info->uptime_ms) != 0) {
		snprintf(err, err_len, "uptime '%s' is not a duration", json_string_value(value));
		goto done;
	}
	value = json_object_get(root, "nodeId");
	if (value != NULL &&
	    copy_string(value, info->node_id, sizeof(info->node_id), "nodeId", err, err_len) != 0)
		goto done;
	value = json_object_get(root, "state");
	if (value != NULL &&
	    copy_string(value, info->state, sizeof(info->state), "state", err, err_len) != 0)
		goto done;
	value = json_object_get(root, "coordinatorId");
	if (value != NULL && copy_string(value, info->coordinator_id, sizeof(info->coordinator_id),
	                                 "coordinatorId", err, err_len) != 0)
		goto done;
	rc = 0;
done:
	json_decref(root);
	return rc;
}

int trino_parse_state(const char *body, size_t len, char *state, size_t state_len, char *err,
                      size_t err_len)
{
	json_t *root = load_json(body, len, err, err_len);
	if (root == NULL)
		return -1;
	int rc = copy_string(root, state, state_len, "/v1/info/state", err, err_len);
	json_decref(root);
	return rc;
}

static int find_counter(const char *attribute, size_t len)
{
	for (int i = 0; i < TRINO_COUNTER_COUNT; i++) {
		if (strlen(attributes[i]) == len && memcmp(attributes[i], attribute, len) == 0)
			return i;
	}
	return -1;
}

/* Stores VALUE for COUNTER: counters must be whole and non-negative; NaN gauges are 0. */
static int store(struct trino_counters *counters, int counter, double value, char *err,
                 size_t err_len)
{
	if (isnan(value) && is_gauge(counter)) {
		value = 0;
	}
	if (!isfinite(value) || value < 0 || value > 1.8e19) {
		snprintf(err, err_len, "%s has the value %g", attributes[counter], value);
		return -1;
	}
	if (!is_gauge(counter) && value != floor(value)) {
		snprintf(err, err_len, "counter %s is not a whole number (%g)", attributes[counter],
		         value);
		return -1;
	}
	counters->values[counter] = (uint64_t)value;
	counters->found |= 1u << counter;
	return 0;
}

/*
 * Copies the line at *p, without its "\n" or "\r\n", into line (NUL-terminated,
 * its length in *line_len) and moves *p past it. Returns -1 for a line that does
 * not fit, which is passed over: we need no long line (labels, HELP text).
 */
static int read_line(const char **p, const char *end, char *line, size_t line_size,
                     size_t *line_len)
{
	const char *eol = memchr(*p, '\n', (size_t)(end - *p));
	if (eol == NULL)
		eol = end;
	size_t len = (size_t)(eol - *p);
	if (len >= line_size) {
		*p = eol + 1;
		return -1;
	}
	memcpy(line, *p, len);
	line[len] = '\0';
	*p = eol + 1;
	if (len > 0 && line[len - 1] == '\r')
		line[--len] = '\0';
	*line_len = len;
	return 0;
}

/*
 * Reads one sample, "name [{labels}] value [timestamp]": the name's length and
 * the value. Returns -1 with err naming the line when it is not a sample.
 */
static int parse_sample(const char *line, int line_number, size_t *name_len, double *value,
                        char *err, size_t err_len)
{
	*name_len = strcspn(line, "{ \t");
	if (*name_len == 0) {
		snprintf(err, err_len, "line %d is not a sample: '%.60s'", line_number, line);
		return -1;
	}
	const char *rest = line + *name_len;
	if (*rest == '{') {
		const char *close = strchr(rest, '}');
		if (close == NULL) {
			snprintf(err, err_len, "line %d: unterminated labels", line_number);
			return -1;
		}
		rest = close + 1;
	}
	while (*rest == ' ' || *rest == '\t')
		rest++;
	char *value_end = NULL;
	errno = 0;
	*value = strtod(rest, &value_end);
	if (value_end == rest || (*value_end != '\0' && *value_end != ' ')) {
		snprintf(err, err_len, "line %d: '%.40s' is not a number", line_number, rest);
		return -1;
	}
	return 0;
}

/*
 * Keeps a sample we need: the active node count, or the first label set of one
 * of the query manager's counters. Others are passed over. Returns -1 on a bad value.
 */
static int take_sample(struct trino_counters *counters, const char *line, size_t name_len,
                       double value, char *err, size_t err_len)
{
	const size_t prefix_len = strlen(TRINO_QUERY_MANAGER_METRIC_PREFIX);
	if (name_len == strlen(TRINO_ACTIVE_NODES_METRIC) &&
	    strncmp(line, TRINO_ACTIVE_NODES_METRIC, name_len) == 0) {
		if (isfinite(value) && value >= 0)
			counters->active_nodes = (int64_t)value;
		return 0;
	}
	if (name_len <= prefix_len ||
	    strncmp(line, TRINO_QUERY_MANAGER_METRIC_PREFIX, prefix_len) != 0)
		return 0;
	int counter = find_counter(line + prefix_len, name_len - prefix_len);
	if (counter < 0 || (counters->found & (1u << counter)))
		return 0; /* not ours, or a second label set of the same name */
	return store(counters, counter, value, err, err_len);
}

/* Names the first counter the answer lacked. */
static void name_missing_counter(const struct trino_counters *counters, char *err, size_t err_len)
{
	for (int i = 0; i < TRINO_COUNTER_COUNT; i++) {
		if (!(counters->found & (1u << i))) {
			snprintf(err, err_len, "/metrics lacks %s%s",
			         TRINO_QUERY_MANAGER_METRIC_PREFIX, attributes[i]);
			return;
		}
	}
}

int trino_parse_openmetrics(const char *body, size_t len, struct trino_counters *counters,
                            char *err, size_t err_len)
{
	memset(counters, 0, sizeof(*counters));
	counters->active_nodes = -1;
	const char *p = body;
	const char *end = body + len;
	bool saw_eof = false;
	int line_number = 0;
	while (p < end) {
		char line[512];
		size_t line_len;
		line_number++;
		if (read_line(&p, end, line, sizeof(line), &line_len) != 0)
			continue;
		if (strcmp(line, "# EOF") == 0) {
			saw_eof = true;
			break;
		}
		if (line_len == 0 || line[0] == '#')
			continue;
		size_t name_len;
		double value;
		if (parse_sample(line, line_number, &name_len, &value, err, err_len) != 0)
			return -1;
		if (take_sample(counters, line, name_len, value, err, err_len) != 0)
			return -1;
	}
	if (!saw_eof) {
		snprintf(err, err_len, "no '# EOF' line: truncated or not OpenMetrics");
		return -1;
	}
	if (counters->found != TRINO_ALL_COUNTERS) {
		name_missing_counter(counters, err, err_len);
		return 1;
	}
	return 0;
}

/* A JMX attribute value: a number, or "NaN"/"Infinity" as strings. */
static int jmx_number(json_t *value, double *out)
{
	if (json_is_number(value)) {
		*out = json_number_value(value);
		return 0;
	}
	if (json_is_string(value) && strcmp(json_string_value(value), "NaN") == 0) {
		*out = NAN;
		return 0;
	}
	return -1;
}

static json_t *jmx_attributes(const char *body, size_t len, json_t **root, char *err,
                              size_t err_len)
{
	*root = load_json(body, len, err, err_len);
	if (*root == NULL)
		return NULL;
	json_t *attrs = json_object_get(*root, "attributes");
	if (!json_is_array(attrs)) {
		snprintf(err, err_len, "MBean JSON has no 'attributes' array");
		json_decref(*root);
		*root = NULL;
		return NULL;
	}
	return attrs;
}

int trino_parse_jmx_query_manager(const char *body, size_t len, struct trino_counters *counters,
                                  char *err, size_t err_len)
{
	memset(counters, 0, sizeof(*counters));
	counters->active_nodes = -1;
	json_t *root;
	json_t *attrs = jmx_attributes(body, len, &root, err, err_len);
	if (attrs == NULL)
		return -1;
	size_t i;
	json_t *attribute;
	json_array_foreach(attrs, i, attribute)
	{
		const char *name = json_string_value(json_object_get(attribute, "name"));
		if (name == NULL)
			continue;
		size_t name_len = strlen(name);
		const char *suffix = ".TotalCount";
		size_t suffix_len = strlen(suffix);
		int counter;
		if (name_len > suffix_len && strcmp(name + name_len - suffix_len, suffix) == 0) {
			counter = find_counter(name, name_len - suffix_len);
			if (counter >= 0 && is_gauge(counter))
				counter = -1;
		} else {
			counter = find_counter(name, name_len);
			if (counter >= 0 && !is_gauge(counter))
				counter = -1;
		}
		if (counter < 0)
			continue;
		double value;
		if (jmx_number(json_object_get(attribute, "value"), &value) != 0) {
			snprintf(err, err_len, "JMX attribute %s has no numeric value", name);
			json_decref(root);
			return -1;
		}
		if (store(counters, counter, value, err, err_len) != 0) {
			json_decref(root);
			return -1;
		}
	}
	json_decref(root);
	if (counters->found != TRINO_ALL_COUNTERS) {
		for (int k = 0; k < TRINO_COUNTER_COUNT; k++) {
			if (!(counters->found & (1u << k))) {
				snprintf(err, err_len, "the QueryManager MBean lacks %s",
				         attributes[k]);
				break;
			}
		}
		return 1;
	}
	return 0;
}

int trino_parse_jmx_active_nodes(const char *body, size_t len, int64_t *active_nodes, char *err,
                                 size_t err_len)
{
	json_t *root;
	json_t *attrs = jmx_attributes(body, len, &root, err, err_len);
	if (attrs == NULL)
		return -1;
	size_t i;
	json_t *attribute;
	int rc = -1;
	snprintf(err, err_len, "no ActiveNodeCount attribute");
	json_array_foreach(attrs, i, attribute)
	{
		const char *name = json_string_value(json_object_get(attribute, "name"));
		double value;
		if (name != NULL && strcmp(name, "ActiveNodeCount") == 0 &&
		    jmx_number(json_object_get(attribute, "value"), &value) == 0 &&
		    isfinite(value) && value >= 0) {
			*active_nodes = (int64_t)value;
			rc = 0;
			break;
		}
	}
	json_decref(root);
	return rc;
}
