#include "layout.h"

#include <string.h>

#include "format.h"

static int imax(int a, int b) { return a > b ? a : b; }
static int imin(int a, int b) { return a < b ? a : b; }

/* Minimum heights: title + column header + one row for the lists, title + two lines for the
 * log, title + five lines for a detail pane stacked under the lists. */
enum { MIN_LIST = LAYOUT_PANEL_CHROME + 1, MIN_LOG = 3, MIN_DETAIL = 6, SIDE_MIN_W = 60 };

void layout_compute(const layout_in *in, layout *o)
{
	memset(o, 0, sizeof *o);
	if (in->cols < LAYOUT_MIN_COLS || in->rows < LAYOUT_MIN_ROWS) {
		o->too_small = true;
		return;
	}
	int C = in->cols, R = in->rows;
	o->r[LP_HEADER] = (lrect){ 0, 0, LAYOUT_HEADER_ROWS, C };
	o->r[LP_FKEYS] = (lrect){ R - 2, 0, 1, C };
	o->r[LP_STATUS] = (lrect){ R - 1, 0, 1, C };

	int top = LAYOUT_HEADER_ROWS, H = R - LAYOUT_HEADER_ROWS - 2, W = C;
	bool side = in->detail_open && C >= LAYOUT_SIDE_MIN_COLS;
	bool stacked = in->detail_open && !side;
	if (side) {
		int dw = imax(SIDE_MIN_W, C * 2 / 5);
		W = C - dw;
		o->r[LP_DETAIL] = (lrect){ top, W, H, dw };
		o->detail_side = true;
	}

	int bwant = LAYOUT_PANEL_CHROME + imax(1, in->n_browsers);
	int mwant = LAYOUT_PANEL_CHROME + imax(1, in->n_models);
	int b = imin(bwant, imax(MIN_LIST, H * 35 / 100));
	int m = imin(mwant, imax(MIN_LIST, H * 30 / 100));
	int d = 0, dmin = stacked ? MIN_DETAIL : 0;
	if (stacked)
		d = imax(dmin, (H - b - m) * 60 / 100);
	int l = H - b - m - d;
	while (l < MIN_LOG) {
		if (d > dmin)
			d--;
		else if (m > MIN_LIST)
			m--;
		else if (b > MIN_LIST)
			b--;
		else
			break; /* cannot happen from 24 rows up: 3 + 3 + 6 + 3 <= 20 */
		l++;
	}
	int y = top;
	o->r[LP_BROWSERS] = (lrect){ y, 0, b, W };
	y += b;
	o->r[LP_MODELS] = (lrect){ y, 0, m, W };
	y += m;
	if (stacked) {
		o->r[LP_DETAIL] = (lrect){ y, 0, d, W };
		y += d;
	}
	o->r[LP_LOG] = (lrect){ y, 0, l, W };
}

int layout_data_rows(const layout *l, layout_part p)
{
	int h = l->r[p].h;
	switch (p) {
	case LP_BROWSERS:
	case LP_MODELS:
		return imax(0, h - LAYOUT_PANEL_CHROME);
	case LP_LOG:
	case LP_DETAIL:
		return imax(0, h - 1);
	default:
		return h;
	}
}

/* ---- columns ---- */

static const col_spec browser_cols[BC__COUNT] = {
	[BC_ID]      = { "ID", 3, 3, 0, 100, true, false, false },
	[BC_KIND]    = { "KIND", 8, 9, 0, 90, false, false, false },
	[BC_VERSION] = { "VERSION", 8, 15, 0, 30, false, false, false },
	[BC_MODE]    = { "MODE", 8, 8, 0, 40, false, false, false },
	[BC_STATE]   = { "STATE", 9, 9, 0, 80, false, false, false },
	[BC_WEBGPU]  = { "WEBGPU", FMT_STATUS_MAX, FMT_STATUS_MAX, 0, 95, false, true, false },
	[BC_ADAPTER] = { "ADAPTER", 10, 24, 40, 55, false, false, true },
	[BC_WEBNN]   = { "WEBNN", FMT_STATUS_MAX, FMT_STATUS_MAX, 0, 94, false, true, false },
	[BC_MODELS]  = { "MODELS", 6, 6, 0, 50, true, false, false },
	[BC_INFL]    = { "INFL", 5, 5, 0, 45, true, false, false },
	[BC_RTT]     = { "RTT ms", 7, 7, 0, 60, true, false, false },
	[BC_RSS]     = { "RSS", 4, 5, 0, 44, true, false, false },
	[BC_CPU]     = { "CPU%", 4, 5, 0, 43, true, false, false },
};

static const col_spec model_cols[MC__COUNT] = {
	[MC_ID]       = { "ID", 3, 3, 0, 100, true, false, false },
	[MC_MODEL]    = { "MODEL", 10, 16, 0, 98, false, false, false },
	[MC_TYPE]     = { "TYPE", 5, 10, 0, 30, false, false, false },
	[MC_PREC]     = { "PREC", 5, 5, 0, 97, false, false, false },
	[MC_PLAT]     = { "PLAT", 7, 7, 0, 96, false, false, false },
	[MC_STATE]    = { "STATE", 7, 7, 0, 40, false, false, false },
	[MC_BROWSERS] = { "BROWSERS", 8, 12, 0, 50, false, false, false },
	[MC_QUEUE]    = { "QUEUE", 5, 5, 0, 80, true, false, false },
	[MC_INFL]     = { "INFL", 4, 5, 0, 79, true, false, false },
	[MC_P50]      = { "P50 ms", 7, 7, 0, 90, true, false, false },
	[MC_P95]      = { "P95 ms", 7, 7, 0, 85, true, false, false },
	[MC_P99]      = { "P99 ms", 7, 7, 0, 60, true, false, false },
	[MC_RPS]      = { "REQ/s", 6, 6, 0, 88, true, false, false },
	[MC_ERR]      = { "ERR", 5, 5, 0, 70, true, false, false },
	[MC_VERIFY]   = { "VERIFY", 7, 8, 0, 35, true, false, false },
	[MC_SPARK]    = { "LATENCY", 8, 8, POOL_LAT_HISTORY, 65, false, false, true },
};

const col_spec *layout_browser_cols(int *n)
{
	*n = BC__COUNT;
	return browser_cols;
}

const col_spec *layout_model_cols(int *n)
{
	*n = MC__COUNT;
	return model_cols;
}

#define MAX_COLS 32

static int needed(const col_spec *c, int n, const bool *shown)
{
	int sum = 0, k = 0;
	for (int i = 0; i < n; i++)
		if (shown[i]) {
			sum += c[i].min;
			k++;
		}
	return sum + (k > 0 ? k - 1 : 0);
}

int layout_columns(const col_spec *c, int n, int width, int *w)
{
	bool shown[MAX_COLS];
	if (n > MAX_COLS)
		n = MAX_COLS;
	for (int i = 0; i < n; i++)
		shown[i] = true;
	int need = needed(c, n, shown);
	while (need > width) {
		int victim = -1;
		for (int i = 0; i < n; i++)
			if (shown[i] && !c[i].status && (victim < 0 || c[i].prio < c[victim].prio))
				victim = i;
		if (victim < 0)
			break;
		shown[victim] = false;
		need = needed(c, n, shown);
	}
	for (int i = 0; i < n; i++)
		w[i] = shown[i] ? c[i].min : 0;
	int extra = width - need;
	/* grow towards the preferred widths, most important columns first */
	bool grown[MAX_COLS] = { false };
	while (extra > 0) {
		int best = -1;
		for (int i = 0; i < n; i++)
			if (shown[i] && !grown[i] && (best < 0 || c[i].prio > c[best].prio))
				best = i;
		if (best < 0)
			break;
		grown[best] = true;
		int g = imin(extra, c[best].pref - c[best].min);
		w[best] += g;
		extra -= g;
	}
	for (int i = 0; i < n && extra > 0; i++)
		if (shown[i] && c[i].flex) {
			int g = c[i].max > 0 ? imin(extra, c[i].max - w[i]) : extra;
			if (g > 0) {
				w[i] += g;
				extra -= g;
			}
		}
	int used = 0, k = 0;
	for (int i = 0; i < n; i++)
		if (w[i]) {
			used += w[i];
			k++;
		}
	return used + (k > 0 ? k - 1 : 0);
}
