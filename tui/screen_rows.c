/* The list panels' rows: which rows the filter keeps, their order (the sort key's column
 * compare), and the selection, kept on the same id across refreshes. No curses here. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "screen.h"

/* Sort keys are the columns with a sort place (tui/columns_*.c), in that order. */
static const col_spec *panel_columns(panel_id p, int *n)
{
	*n = p == PANEL_MODELS ? MC__COUNT : BC__COUNT;
	return p == PANEL_MODELS ? model_columns : browser_columns;
}

int screen_sort_count(panel_id p)
{
	int n;
	const col_spec *t = panel_columns(p, &n);
	return col_sort_count(t, n);
}

const char *screen_sort_name(panel_id p, int sort)
{
	int n;
	const col_spec *t = panel_columns(p, &n);
	int c = col_sort_column(t, n, sort);
	return c >= 0 ? t[c].sort_name : "?";
}

/* The sort key's compare, ties broken by id (the first sort key), reversed for descending. */
static int cmp_rows(const screen *s, panel_id p, const col_row *a, const col_row *b)
{
	int n;
	const col_spec *t = panel_columns(p, &n);
	int c = col_sort_column(t, n, s->sort_col[p]), id = col_sort_column(t, n, 0);
	int r = c >= 0 && t[c].cmp ? t[c].cmp(a, b) : 0;
	if (!r && id >= 0)
		r = t[id].cmp(a, b);
	return s->sort_desc[p] ? -r : r;
}

static int cmp_browsers(const void *x, const void *y, void *ctx)
{
	const screen *s = ctx;
	col_row a = { .b = &s->v.b[*(const size_t *)x] }, b = { .b = &s->v.b[*(const size_t *)y] };
	return cmp_rows(s, PANEL_BROWSERS, &a, &b);
}

static int cmp_models(const void *x, const void *y, void *ctx)
{
	const screen *s = ctx;
	col_row a = { .m = &s->v.m[*(const size_t *)x] }, b = { .m = &s->v.m[*(const size_t *)y] };
	return cmp_rows(s, PANEL_MODELS, &a, &b);
}

static bool matches(const screen *s, const char *const *fields, int n)
{
	if (!s->filter[0])
		return true;
	for (int i = 0; i < n; i++)
		if (fields[i] && ac_contains_ci(fields[i], s->filter))
			return true;
	return false;
}

static bool browser_matches(const screen *s, const pool_browser *b)
{
	char id[16], adapter[256];
	snprintf(id, sizeof id, "%d", b->id);
	fmt_browser_cell(adapter, sizeof adapter, b, NULL, BC_ADAPTER);
	const char *f[] = { id, b->kind, b->version, browser_state_name(b->state), b->managed ? "managed" : "attached",
			    fmt_status_word(&b->caps, PLAT_WEBGPU), fmt_status_word(&b->caps, PLAT_WEBNN), adapter };
	return matches(s, f, (int)(sizeof f / sizeof f[0]));
}

static bool model_matches(const screen *s, const pool_model *m)
{
	char id[16];
	snprintf(id, sizeof id, "%d", m->id);
	const char *f[] = { id, m->name, m->type, m->precision, m->platform, m->running ? "running" : "stopped" };
	return matches(s, f, (int)(sizeof f / sizeof f[0]));
}

static bool grow_order(screen *s, int p, size_t n)
{
	if (n <= s->order_cap[p])
		return true;
	size_t *o = realloc(s->order[p], n * sizeof *o);
	if (!o)
		return false;
	s->order[p] = o;
	s->order_cap[p] = n;
	return true;
}

static int row_id(const screen *s, int p, size_t idx)
{
	size_t k = s->order[p][idx];
	return p == PANEL_MODELS ? s->v.m[k].id : s->v.b[k].id;
}

/* Keeps the selection on the same id where it still exists, else on the same position. */
static void keep_selection(screen *s, int p)
{
	size_t n = s->norder[p];
	if (!n) {
		s->sel_idx[p] = 0;
		return;
	}
	for (size_t i = 0; i < n; i++)
		if (row_id(s, p, i) == s->sel_id[p]) {
			s->sel_idx[p] = i;
			return;
		}
	if (s->sel_idx[p] >= n)
		s->sel_idx[p] = n - 1;
	s->sel_id[p] = row_id(s, p, s->sel_idx[p]);
}

void screen_rebuild(screen *s)
{
	if (!grow_order(s, PANEL_BROWSERS, s->v.nb) || !grow_order(s, PANEL_MODELS, s->v.nm)) {
		screen_say(s, true, "out of memory");
		return;
	}
	s->norder[PANEL_BROWSERS] = 0;
	for (size_t i = 0; i < s->v.nb; i++)
		if (browser_matches(s, &s->v.b[i]))
			s->order[PANEL_BROWSERS][s->norder[PANEL_BROWSERS]++] = i;
	s->norder[PANEL_MODELS] = 0;
	for (size_t i = 0; i < s->v.nm; i++)
		if (model_matches(s, &s->v.m[i]))
			s->order[PANEL_MODELS][s->norder[PANEL_MODELS]++] = i;
	if (s->norder[PANEL_BROWSERS] > 1)
		qsort_r(s->order[PANEL_BROWSERS], s->norder[PANEL_BROWSERS], sizeof(size_t), cmp_browsers, s);
	if (s->norder[PANEL_MODELS] > 1)
		qsort_r(s->order[PANEL_MODELS], s->norder[PANEL_MODELS], sizeof(size_t), cmp_models, s);
	keep_selection(s, PANEL_BROWSERS);
	keep_selection(s, PANEL_MODELS);
}

const pool_browser *screen_sel_browser(const screen *s)
{
	if (!s->norder[PANEL_BROWSERS])
		return NULL;
	return &s->v.b[s->order[PANEL_BROWSERS][s->sel_idx[PANEL_BROWSERS]]];
}

const pool_model *screen_sel_model(const screen *s)
{
	if (!s->norder[PANEL_MODELS])
		return NULL;
	return &s->v.m[s->order[PANEL_MODELS][s->sel_idx[PANEL_MODELS]]];
}

void screen_move(screen *s, panel_id p, long delta)
{
	if (p != PANEL_BROWSERS && p != PANEL_MODELS)
		return;
	size_t n = s->norder[p];
	if (!n)
		return;
	long i = (long)s->sel_idx[p] + delta;
	if (i < 0)
		i = 0;
	if (i >= (long)n)
		i = (long)n - 1;
	s->sel_idx[p] = (size_t)i;
	s->sel_id[p] = row_id(s, p, (size_t)i);
}
