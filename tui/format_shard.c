/* The detail pane's lines for a sharded model row: per shard its compute, transfer and total, and
 * the whole model's latency on each browser from rows of the same model, precision and platform
 * (the baseline, when such rows run or ran in this session). */
#include "format.h"

#include <string.h>

#include "fields.h"

static const char *kind_of(const pool_browser *browsers, size_t nb, int id)
{
	for (size_t i = 0; i < nb; i++)
		if (browsers[i].id == id)
			return browsers[i].kind;
	return "?";
}

void fmt_shard_detail(fmt_lines *l, const pool_model *m, const pool_model *models, size_t n_models,
		      const pool_browser *browsers, size_t n_browsers)
{
	if (!strchr(m->pin, ','))
		return; /* not sharded */
	if (!m->n_shards) {
		fmt_lines_add(l, "  shards on %s: no stage ended yet", m->pin);
		return;
	}
	double sum = 0;
	for (int k = 0; k < m->n_shards && k < POOL_MAX_SHARDS; k++) {
		const __typeof__(m->shard[0]) *f = &m->shard[k];
		char c[16], t[16], o[16];
		fmt_ms(c, sizeof c, f->compute_ms, model_shard_valid(m, k));
		fmt_ms(t, sizeof t, f->transfer_ms, model_shard_valid(m, k));
		fmt_ms(o, sizeof o, f->total_ms, model_shard_valid(m, k));
		sum += f->total_ms;
		fmt_lines_add(l, "  shard %d on %s #%d: compute %s ms, transfer %s ms, total %s ms, %.1f KB out (%llu runs)",
			      k + 1, kind_of(browsers, n_browsers, f->browser), f->browser, c, t, o, f->bytes / 1024,
			      (unsigned long long)f->n);
	}
	char line[FMT_LINE_MAX], v[16];
	fmt_ms(v, sizeof v, sum, true);
	snprintf(line, sizeof line, "  shards in sum %s ms; whole model:", v);
	int found = 0;
	for (size_t i = 0; i < n_models; i++) {
		const pool_model *o = &models[i];
		if (o->id == m->id || strchr(o->pin, ',') || strcmp(o->name, m->name) || strcmp(o->precision, m->precision) ||
		    strcmp(o->platform, m->platform) || !o->lat_valid)
			continue;
		fmt_ms(v, sizeof v, o->p50_ms, true);
		ac_strlcatf(line, sizeof line, "%s %s p50 %s ms", found++ ? "," : "", o->pin, v);
	}
	if (!found)
		ac_strlcatf(line, sizeof line, " n/a (launch it unsharded on a browser to compare)");
	fmt_lines_add(l, "%s", line);
}
