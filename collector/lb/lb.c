/*
 * What every load-balancer driver shares: the retry policy.
 */
#include "lb.h"

#include <event2/event.h>

#include "log.h"

bool lb_retry_later(int *attempt, int64_t retries, struct event *timer, lb_retry_fn on_retry,
                    void *on_retry_arg, const char *error)
{
	if (*attempt >= retries)
		return false;
	int64_t backoff_ms = 200LL << *attempt;
	(*attempt)++;
	log_warn("%s; retrying in %lld ms", error, (long long)backoff_ms);
	if (on_retry != NULL)
		on_retry(error, on_retry_arg);
	struct timeval tv = {.tv_sec = backoff_ms / 1000, .tv_usec = (backoff_ms % 1000) * 1000};
	evtimer_add(timer, &tv);
	return true;
}
