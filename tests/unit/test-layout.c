/* Screen layout (tui/layout.c): every terminal size from 80x24 to 300x100 gives panels inside the
 * screen that do not overlap, columns that fit their panel, and status columns wide enough for
 * every status word; below 80x24 the layout says "too small". */
#include <stdio.h>
#include <string.h>

#include "../../tui/format.h"
#include "../../tui/layout.h"
#include "check.h"
#include "tests.h"

static const char *const part_names[LP__COUNT] = { "header", "browsers", "models", "detail", "log", "fkeys", "status" };

static bool overlap(lrect a, lrect b)
{
	if (!a.h || !a.w || !b.h || !b.w)
		return false;
	return a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;
}

/* Checks the columns of one panel at one width. */
static int check_columns(const col_spec *cs, int n, int width, const char *what, int cols, int rows)
{
	int w[32];
	int used = layout_columns(cs, n, width, w);
	if (used > width)
		check_fail(__FILE__, __LINE__, "%s at %dx%d: row of %d columns in a panel of %d", what, cols, rows, used, width);
	CHECK(used <= width);
	int sum = 0, shown = 0;
	for (int i = 0; i < n; i++) {
		if (!w[i])
			continue;
		shown++;
		sum += w[i];
		CHECK(w[i] >= cs[i].min);
		CHECK((int)strlen(cs[i].title) <= w[i]);
		if (cs[i].flex && cs[i].max > 0)
			CHECK(w[i] <= cs[i].max || w[i] == cs[i].min);
	}
	CHECK_EQ_INT(used, sum + shown - 1);
	for (int i = 0; i < n; i++)
		if (cs[i].status) {
			if (w[i] < FMT_STATUS_MAX)
				check_fail(__FILE__, __LINE__, "%s at %dx%d: status column %s is %d wide", what, cols, rows,
					   cs[i].title, w[i]);
			CHECK(w[i] >= FMT_STATUS_MAX);
		}
	CHECK(w[0] > 0); /* the id column is always there */
	return 0;
}

static int check_layout(int cols, int rows, int nb, int nm, bool detail)
{
	layout_in in = { cols, rows, nb, nm, detail };
	layout l;
	layout_compute(&in, &l);
	CHECK(!l.too_small);
	for (int p = 0; p < LP__COUNT; p++) {
		lrect r = l.r[p];
		if (p == LP_DETAIL && !detail) {
			CHECK(r.h == 0 || r.w == 0);
			continue;
		}
		if (r.h <= 0 || r.w <= 0)
			check_fail(__FILE__, __LINE__, "%s missing at %dx%d", part_names[p], cols, rows);
		CHECK(r.h > 0 && r.w > 0);
		if (r.x < 0 || r.y < 0 || r.x + r.w > cols || r.y + r.h > rows)
			check_fail(__FILE__, __LINE__, "%s at %dx%d: %d,%d %dx%d leaves the screen", part_names[p], cols, rows,
				   r.x, r.y, r.w, r.h);
		CHECK(r.x >= 0 && r.y >= 0 && r.x + r.w <= cols && r.y + r.h <= rows);
		for (int q = 0; q < p; q++)
			if (overlap(r, l.r[q])) {
				check_fail(__FILE__, __LINE__, "%s and %s overlap at %dx%d (nb %d nm %d detail %d)",
					   part_names[p], part_names[q], cols, rows, nb, nm, detail);
				return 1;
			}
	}
	/* fixed lines */
	CHECK_EQ_INT(l.r[LP_HEADER].y, 0);
	CHECK_EQ_INT(l.r[LP_HEADER].h, LAYOUT_HEADER_ROWS);
	CHECK_EQ_INT(l.r[LP_FKEYS].y, rows - 2);
	CHECK_EQ_INT(l.r[LP_STATUS].y, rows - 1);
	CHECK_EQ_INT(l.r[LP_HEADER].w, cols);
	CHECK_EQ_INT(l.r[LP_STATUS].w, cols);
	/* minimum useful sizes: title + column header + a row; the log keeps two lines */
	CHECK(layout_data_rows(&l, LP_BROWSERS) >= 1);
	CHECK(layout_data_rows(&l, LP_MODELS) >= 1);
	CHECK(layout_data_rows(&l, LP_LOG) >= 2);
	if (detail)
		CHECK(layout_data_rows(&l, LP_DETAIL) >= 5);
	/* the list panels show every row they have while the terminal has room */
	if (nb <= 2)
		CHECK(layout_data_rows(&l, LP_BROWSERS) >= (nb ? nb : 1));
	/* the body is used entirely: left column heights add up */
	int body = rows - LAYOUT_HEADER_ROWS - 2;
	int left = l.r[LP_BROWSERS].h + l.r[LP_MODELS].h + l.r[LP_LOG].h + (detail && !l.detail_side ? l.r[LP_DETAIL].h : 0);
	CHECK_EQ_INT(left, body);
	if (detail) {
		CHECK_EQ_INT(l.detail_side, cols >= LAYOUT_SIDE_MIN_COLS);
		if (l.detail_side)
			CHECK_EQ_INT(l.r[LP_BROWSERS].w + l.r[LP_DETAIL].w, cols);
	}
	/* columns */
	int n;
	const col_spec *bc = layout_browser_cols(&n);
	CHECK_OK(check_columns(bc, n, l.r[LP_BROWSERS].w, "browsers", cols, rows));
	const col_spec *mc = layout_model_cols(&n);
	CHECK_OK(check_columns(mc, n, l.r[LP_MODELS].w, "models", cols, rows));
	return 0;
}

int test_layout_sizes(void)
{
	/* every size from 80x24 to 300x100, with few, usual and many rows, detail closed and open */
	static const int nbs[] = { 0, 2, 40 }, nms[] = { 0, 1, 30 };
	for (int cols = LAYOUT_MIN_COLS; cols <= 300; cols++)
		for (int rows = LAYOUT_MIN_ROWS; rows <= 100; rows++)
			for (size_t b = 0; b < sizeof nbs / sizeof nbs[0]; b++)
				for (size_t m = 0; m < sizeof nms / sizeof nms[0]; m++)
					for (int d = 0; d < 2; d++)
						CHECK_OK(check_layout(cols, rows, nbs[b], nms[m], d));
	return 0;
}

int test_layout_too_small(void)
{
	static const int sizes[][2] = { { 79, 24 }, { 80, 23 }, { 79, 23 }, { 1, 1 }, { 0, 0 }, { 40, 10 }, { 300, 5 }, { 10, 100 } };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		layout_in in = { sizes[i][0], sizes[i][1], 2, 1, true };
		layout l;
		layout_compute(&in, &l);
		CHECK(l.too_small);
		for (int p = 0; p < LP__COUNT; p++)
			CHECK(l.r[p].h == 0 && l.r[p].w == 0);
	}
	layout_in ok = { 80, 24, 2, 1, false };
	layout l;
	layout_compute(&ok, &l);
	CHECK(!l.too_small);
	CHECK_STR(LAYOUT_TOO_SMALL, "terminal too small (need 80x24)");
	return 0;
}

int test_layout_columns_priority(void)
{
	int n, w[32];
	const col_spec *bc = layout_browser_cols(&n);
	CHECK_EQ_INT(n, BC__COUNT);
	/* at 80 columns the least important columns go: version and mode */
	layout_columns(bc, n, 80, w);
	CHECK_EQ_INT(w[BC_VERSION], 0);
	CHECK_EQ_INT(w[BC_MODE], 0);
	CHECK(w[BC_ID] && w[BC_KIND] && w[BC_STATE] && w[BC_WEBGPU] && w[BC_WEBNN] && w[BC_RTT] && w[BC_ADAPTER]);
	/* wide: everything, at least the preferred widths, the adapter no wider than its maximum */
	layout_columns(bc, n, 200, w);
	for (int i = 0; i < n; i++)
		CHECK(w[i] >= bc[i].pref);
	CHECK(w[BC_ADAPTER] <= bc[BC_ADAPTER].max);
	/* even far too narrow, status columns stay (the screen shows "too small" before that) */
	layout_columns(bc, n, 20, w);
	CHECK(w[BC_WEBGPU] >= FMT_STATUS_MAX && w[BC_WEBNN] >= FMT_STATUS_MAX);
	CHECK_EQ_INT(w[BC_VERSION], 0);

	const col_spec *mc = layout_model_cols(&n);
	CHECK_EQ_INT(n, MC__COUNT);
	layout_columns(mc, n, 80, w);
	CHECK(w[MC_MODEL] && w[MC_PREC] && w[MC_PLAT] && w[MC_P50] && w[MC_RPS] && w[MC_SPARK]);
	layout_columns(mc, n, 300, w);
	for (int i = 0; i < n; i++)
		CHECK(w[i] >= mc[i].pref);
	CHECK(w[MC_SPARK] <= POOL_LAT_HISTORY);
	return 0;
}

int test_layout_detail_placement(void)
{
	layout l;
	layout_in narrow = { 120, 40, 2, 1, true };
	layout_compute(&narrow, &l);
	CHECK(!l.detail_side);
	CHECK_EQ_INT(l.r[LP_DETAIL].w, 120);
	CHECK(l.r[LP_DETAIL].y > l.r[LP_MODELS].y && l.r[LP_DETAIL].y < l.r[LP_LOG].y);
	layout_in wide = { 200, 60, 2, 1, true };
	layout_compute(&wide, &l);
	CHECK(l.detail_side);
	CHECK_EQ_INT(l.r[LP_DETAIL].x + l.r[LP_DETAIL].w, 200);
	CHECK_EQ_INT(l.r[LP_DETAIL].h, 60 - LAYOUT_HEADER_ROWS - 2);
	layout_in closed = { 200, 60, 2, 1, false };
	layout_compute(&closed, &l);
	CHECK_EQ_INT(l.r[LP_DETAIL].h, 0);
	CHECK_EQ_INT(l.r[LP_BROWSERS].w, 200);
	return 0;
}
