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
	if (info->coordinator_id[0] != '\0')
		info->coordinator_id_from = "info";
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
 * A node count worth reporting: a whole number of nodes no cluster can exceed.
 * Anything else (1e30, -1, NaN) is not a count, and converting it to an integer
 * would be undefined behaviour.
 */
static bool node_count_believable(double value)
{
	return isfinite(value) && value >= 0 && value <= 1e9;
}

const struct trino_node_count_source trino_node_count_sources[TRINO_NODE_COUNT_SOURCES] = {
        {"trino_metadata_name_DiscoveryNodeManager_ActiveNodeCount",
         "trino.metadata:name=DiscoveryNodeManager"},
        {"trino_node_name_CoordinatorNodeManager_ActiveNodeCount",
         "trino.node:name=CoordinatorNodeManager"},
};

static bool label_name_char(char c, bool first)
{
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (!first && c >= '0' && c <= '9');
}

/* One quoted value at *P (past its opening quote), unescaped into VALUE. 0 or -1. */
static int read_label_value(const char **p, const char *end, char *value, size_t value_size,
                            char *err, size_t err_len)
{
	size_t n = 0;
	while (*p < end && **p != '"') {
		char c = **p;
		if (c == '\\') {
			if (*p + 1 >= end) {
				break;
			}
			char escaped = (*p)[1];
			if (escaped != '\\' && escaped != '"' && escaped != 'n') {
				snprintf(err, err_len, "label value has the unknown escape '\\%c'",
				         escaped);
				return -1;
			}
			c = (char)(escaped == 'n' ? '\n' : escaped);
			(*p)++;
		}
		if (n + 1 < value_size)
			value[n++] = c;
		(*p)++;
	}
	value[n] = '\0';
	if (*p >= end) {
		snprintf(err, err_len, "unterminated label value");
		return -1;
	}
	(*p)++; /* the closing quote */
	return 0;
}

int trino_parse_labels(const char *text, size_t len, size_t *consumed,
                       void (*label)(const char *name, const char *value, void *arg), void *arg,
                       char *err, size_t err_len)
{
	const char *p = text;
	const char *end = text + len;
	if (p >= end || *p != '{') {
		snprintf(err, err_len, "labels do not start with '{'");
		return -1;
	}
	p++;
	while (p < end && *p != '}') {
		char name[128];
		size_t n = 0;
		while (p < end && label_name_char(*p, n == 0)) {
			if (n + 1 < sizeof(name))
				name[n++] = *p;
			p++;
		}
		name[n] = '\0';
		if (n == 0 || p + 1 >= end || p[0] != '=' || p[1] != '"') {
			snprintf(err, err_len, "label %zu is not name=\"value\"",
			         (size_t)(p - text));
			return -1;
		}
		p += 2;
		char value[512];
		if (read_label_value(&p, end, value, sizeof(value), err, err_len) != 0)
			return -1;
		if (label != NULL)
			label(name, value, arg);
		if (p < end && *p == ',')
			p++;
		else if (p < end && *p != '}') {
			snprintf(err, err_len, "no ',' or '}' after label '%s'", name);
			return -1;
		}
	}
	if (p >= end) {
		snprintf(err, err_len, "unterminated labels");
		return -1;
	}
	*consumed = (size_t)(p + 1 - text);
	return 0;
}

/*
 * Where a sample's labels end. airlift before 9b4e61c4e (2026-02-19) wrote
 * label values without escaping them, so a node annotation holding '"'
 * breaks the quoting; the labels then end at the line's last '}', as nothing
 * after them (a number, a timestamp) can hold one.
 */
static const char *labels_end(const char *labels, const char *end)
{
	size_t consumed;
	char ignored[128];
	if (trino_parse_labels(labels, (size_t)(end - labels), &consumed, NULL, NULL, ignored,
	                       sizeof(ignored)) == 0)
		return labels + consumed;
	for (const char *p = end; p > labels; p--)
		if (p[-1] == '}')
			return p;
	return NULL;
}

/*
 * Reads one sample, "name [{labels}] value [timestamp]", on the line
 * [LINE, END): the name's length and the value. Returns -1 with err naming
 * the line when it is not a sample.
 */
static int parse_sample(const char *line, const char *end, int line_number, size_t *name_len,
                        double *value, char *err, size_t err_len)
{
	*name_len = 0;
	while (line + *name_len < end && strchr("{ \t", line[*name_len]) == NULL)
		(*name_len)++;
	if (*name_len == 0) {
		snprintf(err, err_len, "line %d is not a sample", line_number);
		return -1;
	}
	const char *rest = line + *name_len;
	if (rest < end && *rest == '{') {
		rest = labels_end(rest, end);
		if (rest == NULL) {
			snprintf(err, err_len, "line %d: unterminated labels", line_number);
			return -1;
		}
	}
	while (rest < end && (*rest == ' ' || *rest == '\t'))
		rest++;
	char number[64];
	size_t number_len = 0;
	while (rest + number_len < end && rest[number_len] != ' ' &&
	       number_len + 1 < sizeof(number))
		number_len++;
	memcpy(number, rest, number_len);
	number[number_len] = '\0';
	char *value_end = NULL;
	errno = 0;
	*value = strtod(number, &value_end);
	if (number_len == 0 || *value_end != '\0') {
		snprintf(err, err_len, "line %d: '%.40s' is not a number", line_number, number);
		return -1;
	}
	return 0;
}

static bool name_is(const char *line, size_t name_len, const char *name)
{
	return name_len == strlen(name) && strncmp(line, name, name_len) == 0;
}

/*
 * Keeps a sample we need: the active node count, or the first label set of one
 * of the query manager's counters. Others are passed over. Returns -1 on a bad value.
 */
static int take_sample(struct trino_counters *counters, const char *line, size_t name_len,
                       double value, char *err, size_t err_len)
{
	const size_t prefix_len = strlen(TRINO_QUERY_MANAGER_METRIC_PREFIX);
	for (int i = 0; i < TRINO_NODE_COUNT_SOURCES; i++) {
		if (!name_is(line, name_len, trino_node_count_sources[i].metric))
			continue;
		if (node_count_believable(value) && counters->active_nodes_from == NULL) {
			counters->active_nodes = (int64_t)value;
			counters->active_nodes_from = trino_node_count_sources[i].metric;
		}
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
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		const char *line_end = eol != NULL ? eol : end;
		const char *line = p;
		p = eol != NULL ? eol + 1 : end;
		line_number++;
		if (line_end > line && line_end[-1] == '\r')
			line_end--;
		size_t line_len = (size_t)(line_end - line);
		if (line_len == 5 && memcmp(line, "# EOF", 5) == 0) {
			saw_eof = true;
			break;
		}
		if (line_len == 0 || line[0] == '#')
			continue;
		size_t name_len;
		double value;
		if (parse_sample(line, line_end, line_number, &name_len, &value, err, err_len) != 0)
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
		    node_count_believable(value)) {
			*active_nodes = (int64_t)value;
			rc = 0;
			break;
		}
	}
	json_decref(root);
	return rc;
}
