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

const col_spec *layout_browser_cols(int *n)
{
	*n = BC__COUNT;
	return browser_columns;
}

const col_spec *layout_model_cols(int *n)
{
	*n = MC__COUNT;
	return model_columns;
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
		shown[i] = c[i].title != NULL;
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
