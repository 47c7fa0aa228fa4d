/*
 * Fuzzes what the collector does with the bytes of one ZeroMQ report
 * (collector/ingest.c): decode + validate (proto/report_codec.c), then the
 * fleet table (rules/fleet.c) and the findings over it (rules/findings.c).
 * Properties: a report the codec accepts re-encodes to bytes that decode and
 * validate again and re-encode the same; the fleet takes it, drops its
 * replay as a duplicate, and a restart of the same node (new boot) is taken.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"

#include "findings.h"
#include "fleet.h"
#include "report_codec.h"

#define FUZZ_NOW_UNIX_MS 1764650000000LL /* the seeds' sent_unix_ms */
#define FUZZ_NOW_MONO_MS 1000000LL

/* Encoding is a function of the decoded report: encode, decode, encode again. */
static void check_round_trip(const NodeReport *report)
{
	size_t len = 0, again_len = 0;
	uint8_t *bytes = report_encode(report, &len);
	check(bytes != NULL);
	enum report_reject reject = REPORT_OK;
	char detail[256];
	NodeReport *back =
	        report_decode(bytes, len, FUZZ_NOW_UNIX_MS, &reject, detail, sizeof(detail));
	check(back != NULL && reject == REPORT_OK);
	uint8_t *again = report_encode(back, &again_len);
	check(again != NULL && again_len == len && memcmp(again, bytes, len) == 0);
	free(again);
	report_free(back);
	free(bytes);
}

static void evaluate(const struct fleet *fleet, const char *cluster)
{
	struct cluster_settings clusters[2] = {
	        {.name = "blue", .min_workers = 1, .down_grace_ms = 30000},
	        {.name = "", .min_workers = 2, .stale_after_ms = 5000, .down_grace_ms = 0},
	};
	size_t n = strlen(cluster);
	if (n >= sizeof(clusters[1].name))
		n = sizeof(clusters[1].name) - 1;
	memcpy(clusters[1].name, cluster, n);
	struct finding_list list = {0};
	check(findings_evaluate(fleet, clusters, 2, cluster, FUZZ_NOW_MONO_MS, &list) == 0);
	for (size_t i = 0; i < list.count; i++)
		check(memchr(list.items[i].summary, '\0', sizeof(list.items[i].summary)) != NULL);
	finding_list_free(&list);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	enum report_reject reject = REPORT_OK;
	char detail[256];
	NodeReport *report =
	        report_decode(data, size, FUZZ_NOW_UNIX_MS, &reject, detail, sizeof(detail));
	if (report == NULL) {
		check(reject != REPORT_OK && reject < REPORT_REJECT_COUNT);
		check(report_reject_name(reject) != NULL);
		return 0;
	}
	check(reject == REPORT_OK);
	check_round_trip(report);

	struct fleet fleet;
	fleet_init(&fleet);
	enum fleet_result first = fleet_update(&fleet, report, FUZZ_NOW_MONO_MS);
	check(first == FLEET_NEW_BOOT);
	check(fleet_update(&fleet, report, FUZZ_NOW_MONO_MS + 1) == FLEET_DUPLICATE);
	check(fleet_find(&fleet, report->node_id) != NULL);
	evaluate(&fleet, report->cluster);

	/* The same node restarted: another boot id, seq from 1. */
	uint8_t boot[REPORT_BOOT_ID_BYTES];
	memcpy(boot, report->boot_id.data, sizeof(boot));
	boot[0] ^= 0xff;
	ProtobufCBinaryData old_boot = report->boot_id;
	report->boot_id.data = boot;
	report->seq = 1;
	check(fleet_update(&fleet, report, FUZZ_NOW_MONO_MS + 2) == FLEET_NEW_BOOT);
	report->boot_id = old_boot;
	evaluate(&fleet, report->cluster);
	check(fleet_forget(&fleet, FUZZ_NOW_MONO_MS + 10) == 1);
	fleet_cleanup(&fleet);
	report_free(report);
	return 0;
}
