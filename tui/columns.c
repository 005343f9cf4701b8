/* What every column table shares: colour roles, the sort cycle, the JSON values and the batch
 * table's rows. The tables themselves: tui/columns_browser.c, tui/columns_model.c. */
#include "columns.h"

#include <stdio.h>
#include <string.h>

role col_status_role(const char *word)
{
	if (!strcmp(word, "HARDWARE"))
		return R_HW;
	if (!strcmp(word, "SOFTWARE"))
		return R_SW;
	if (!strcmp(word, "UNAVAILABLE"))
		return R_UNAVAIL;
	if (!strcmp(word, "UNKNOWN"))
		return R_UNKNOWN;
	return R_NA;
}

role col_ms_role(double ms, bool valid, const col_limits *lim)
{
	if (!valid)
		return R_NA;
	if (ms >= lim->crit_ms)
		return R_CRIT;
	if (ms >= lim->warn_ms)
		return R_WARN;
	return R_NORMAL;
}

int col_cmp_num(double a, double b)
{
	return a < b ? -1 : a > b;
}

/* The columns with a place (sort or batch, read by `place`), in the order of their places:
 * places need not be consecutive, so a new column goes between two without renumbering. */
static int by_place(const col_spec *t, int n, int (*place)(const col_spec *), int *order, int cap)
{
	int k = 0, last = 0;
	while (k < cap) {
		int next = -1;
		for (int c = 0; c < n; c++)
			if (place(&t[c]) > last && (next < 0 || place(&t[c]) < place(&t[next])))
				next = c;
		if (next < 0)
			break;
		order[k++] = next;
		last = place(&t[next]);
	}
	return k;
}

static int sort_place(const col_spec *c) { return c->sort; }
static int batch_place(const col_spec *c) { return c->batch; }

int col_sort_column(const col_spec *t, int n, int sort)
{
	int order[64], k = by_place(t, n, sort_place, order, 64);
	return sort >= 0 && sort < k ? order[sort] : -1;
}

int col_sort_count(const col_spec *t, int n)
{
	int k = 0;
	for (int c = 0; c < n; c++)
		k += t[c].sort > 0;
	return k;
}

void col_json_str_or_null(cJSON *o, const char *k, const char *v)
{
	if (v && *v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

void col_json_num_or_null(cJSON *o, const char *k, double v, bool valid)
{
	if (valid)
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

void col_json_put(cJSON *o, const col_spec *t, int c, const col_row *r, bool *done)
{
	if (done[c] || !t[c].json || !t[c].json_value)
		return;
	t[c].json_value(o, t[c].json, r);
	done[c] = true;
}

void col_json_rest(cJSON *o, const col_spec *t, int n, const col_row *r, bool *done)
{
	for (int c = 0; c < n; c++)
		col_json_put(o, t, c, r, done);
}

static void batch_append(char *out, size_t cap, bool first, const col_spec *c, const char *text, bool head)
{
	if (!first)
		ac_strlcatf(out, cap, " ");
	if (c->batch_cut && !head)
		ac_strlcatf(out, cap, "%*.*s", c->batch_width, c->batch_width < 0 ? -c->batch_width : c->batch_width, text);
	else
		ac_strlcatf(out, cap, "%*s", c->batch_width, text);
}

void col_batch_head(char *out, size_t cap, const col_spec *t, int n)
{
	int order[64], k = by_place(t, n, batch_place, order, 64);
	if (cap)
		out[0] = '\0';
	for (int i = 0; i < k; i++)
		batch_append(out, cap, i == 0, &t[order[i]], t[order[i]].batch_title, true);
}

void col_batch_row(char *out, size_t cap, const col_spec *t, int n, const col_row *r)
{
	int order[64], k = by_place(t, n, batch_place, order, 64);
	if (cap)
		out[0] = '\0';
	for (int i = 0; i < k; i++) {
		const col_spec *c = &t[order[i]];
		char text[1024];
		(c->batch_cell ? c->batch_cell : c->cell)(text, sizeof text, r);
		batch_append(out, cap, i == 0, c, text, false);
	}
}
