/* Screen layout: where each panel goes for a terminal size, and which columns a panel shows at
 * its width. Pure functions (no curses), tested over every size from 80x24 to 300x100. */
#ifndef AC_LAYOUT_H
#define AC_LAYOUT_H

#include <stdbool.h>

#include "columns.h"

#define LAYOUT_MIN_COLS 80
#define LAYOUT_MIN_ROWS 24
#define LAYOUT_TOO_SMALL "terminal too small (need 80x24)"

typedef struct {
	int y, x, h, w; /* h == 0 or w == 0: not shown */
} lrect;

typedef enum { LP_HEADER, LP_BROWSERS, LP_MODELS, LP_DETAIL, LP_LOG, LP_FKEYS, LP_STATUS, LP__COUNT } layout_part;

typedef struct {
	int cols, rows;
	int n_browsers, n_models; /* rows the two list panels would like to show */
	bool detail_open;
} layout_in;

typedef struct {
	bool too_small;     /* below 80x24: show LAYOUT_TOO_SMALL and nothing else */
	bool detail_side;   /* the detail pane is a column on the right (wide terminals) */
	lrect r[LP__COUNT];
} layout;

/* Rows every list panel spends on its title and column header. */
#define LAYOUT_PANEL_CHROME 2
/* Header lines at the top. */
#define LAYOUT_HEADER_ROWS 2
/* The detail pane moves to the right from this width on. */
#define LAYOUT_SIDE_MIN_COLS 160

void layout_compute(const layout_in *in, layout *out);

/* Rows of a panel left for data (its height less its title and column header). */
int layout_data_rows(const layout *l, layout_part p);

/* ---- columns ---- */

/* The descriptors (tui/columns.h): widths, priority, alignment, and what fills the cells. */
const col_spec *layout_browser_cols(int *n);
const col_spec *layout_model_cols(int *n);

/* Chooses widths for a panel `width` columns wide: widths[i] is 0 for a hidden column (and for
 * a column with no screen title: the batch table's own). Cells are separated by one space.
 * Returns the columns the row uses (<= width). */
int layout_columns(const col_spec *c, int n, int width, int *widths);

#endif
