/* Keys while a form, prompt or menu is open (keys_modal() in screen.h): the launch form, the
 * filter and jump prompts, the confirmation and the "Start a browser" menu. The plain keys and
 * their table are in keys.c. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"
#include "screen.h"

static bool is_enter(int ch)
{
	return ch == '\n' || ch == '\r' || ch == KEY_ENTER;
}

static bool is_backspace(int ch)
{
	return ch == KEY_BACKSPACE || ch == 127 || ch == 8;
}

static int modal_jump(screen *s, int ch)
{
	size_t n = strlen(s->jump);
	if (is_enter(ch)) {
		s->mode = MODE_NORMAL;
		int64_t t;
		ac_err err = { 0 };
		if (!s->jump[0]) {
			screen_say(s, false, "no time typed: stayed where it was");
			return RX_REDRAW;
		}
		if (replay_parse_time(s->a->rp, s->jump, &t, &err)) {
			screen_say(s, true, "%s", err.msg);
			return RX_REDRAW;
		}
		return keys_seek(s, t, "jumped to");
	}
	if (ch == 27) {
		s->mode = MODE_NORMAL;
		screen_say(s, false, "jump cancelled");
	} else if (is_backspace(ch)) {
		if (n)
			s->jump[n - 1] = '\0';
	} else if (ch >= 32 && ch < 127 && n + 1 < sizeof s->jump) {
		s->jump[n] = (char)ch;
		s->jump[n + 1] = '\0';
	} else {
		return RX_NONE;
	}
	return RX_REDRAW;
}

static int modal_filter(screen *s, int ch)
{
	size_t n = strlen(s->filter);
	if (is_enter(ch)) {
		s->mode = MODE_NORMAL;
		if (s->filter[0])
			screen_say(s, false, "filter '%s' (/ then Esc clears it)", s->filter);
	} else if (ch == 27) {
		s->filter[0] = '\0';
		s->mode = MODE_NORMAL;
		screen_say(s, false, "filter cleared");
	} else if (is_backspace(ch)) {
		if (n)
			s->filter[n - 1] = '\0';
	} else if (ch >= 32 && ch < 127 && n + 1 < sizeof s->filter) {
		s->filter[n] = (char)ch;
		s->filter[n + 1] = '\0';
	} else {
		return RX_NONE;
	}
	screen_rebuild(s);
	return RX_REDRAW;
}

static int count_list(const char *const *l)
{
	int n = 0;
	while (l[n])
		n++;
	return n;
}

static int count_models(screen *s)
{
	int n = 0;
	while (n < 1000 && app_model_name(s->a, (size_t)n))
		n++;
	return n;
}

static void cycle(int *v, int n, int dir)
{
	if (n <= 0) {
		*v = 0;
		return;
	}
	*v = ((*v + dir) % n + n) % n;
}

static void edit_number(char *buf, size_t cap, int ch, bool decimals)
{
	size_t n = strlen(buf);
	if (is_backspace(ch)) {
		if (n)
			buf[n - 1] = '\0';
	} else if (((ch >= '0' && ch <= '9') || (decimals && ch == '.' && !strchr(buf, '.'))) && n + 1 < cap) {
		if (n == 1 && buf[0] == '0' && ch != '.')
			n = 0;
		buf[n] = (char)ch;
		buf[n + 1] = '\0';
	}
}

static int submit_launch(screen *s)
{
	launch_state *f = &s->form;
	launch_form lf;
	memset(&lf, 0, sizeof lf);
	const char *model = app_model_name(s->a, (size_t)f->model);
	ac_strlcpy(lf.model, model ? model : "", sizeof lf.model);
	ac_strlcpy(lf.precision, screen_precisions[f->precision], sizeof lf.precision);
	ac_strlcpy(lf.platform, screen_platforms[f->platform], sizeof lf.platform);
	char label[96];
	if (!screen_browser_choice(s, f->browser, lf.browser, sizeof lf.browser, label, sizeof label))
		ac_strlcpy(lf.browser, "auto", sizeof lf.browser);
	if (!screen_shard_choice(s, f->shard, lf.shard, sizeof lf.shard, label, sizeof label))
		lf.shard[0] = '\0';
	double amount = atof(f->amount);
	if (f->shape == 0)
		lf.concurrency = (int)amount;
	else
		lf.rps = amount;
	lf.duration_s = atof(f->duration);
	s->mode = MODE_NORMAL;
	if (!(amount > 0)) {
		screen_say(s, true, "%s must be more than 0 (l opens the form again)", f->shape ? "requests per second" : "concurrency");
		return RX_REDRAW;
	}
	ac_err err = { 0 };
	int id = 0;
	if (app_launch_model(s->a, &lf, &id, &err)) {
		screen_say(s, true, "launch %s: %s", lf.model[0] ? lf.model : "(no model)", err.msg);
		return RX_REDRAW;
	}
	screen_say(s, false, "launched %s %s on %s%s%s (model %d)", lf.model, lf.precision, lf.platform,
		   lf.shard[0] ? ", sharded over " : "", lf.shard, id);
	s->sel_id[PANEL_MODELS] = id;
	s->focus = s->last_list = PANEL_MODELS;
	if (s->detail_open)
		s->detail_of = PANEL_MODELS;
	return RX_REFRESH | RX_REDRAW;
}

static int modal_launch(screen *s, int ch)
{
	launch_state *f = &s->form;
	int dir = 0;
	if (ch == 27) {
		s->mode = MODE_NORMAL;
		screen_say(s, false, "launch cancelled");
		return RX_REDRAW;
	}
	if (is_enter(ch))
		return submit_launch(s);
	if (ch == KEY_UP || ch == KEY_BTAB) {
		cycle(&f->field, LF__COUNT, -1);
		return RX_REDRAW;
	}
	if (ch == KEY_DOWN || ch == '\t') {
		cycle(&f->field, LF__COUNT, 1);
		return RX_REDRAW;
	}
	if (ch == KEY_LEFT)
		dir = -1;
	else if (ch == KEY_RIGHT || ch == ' ')
		dir = 1;
	switch (f->field) {
	case LF_MODEL: if (dir) cycle(&f->model, count_models(s), dir); break;
	case LF_PRECISION: if (dir) cycle(&f->precision, count_list(screen_precisions), dir); break;
	case LF_PLATFORM: if (dir) cycle(&f->platform, count_list(screen_platforms), dir); break;
	case LF_BROWSER:
		if (dir) {
			int n = 0;
			char v[32], l[96];
			while (n < 1000 && screen_browser_choice(s, n, v, sizeof v, l, sizeof l))
				n++;
			cycle(&f->browser, n, dir);
		}
		break;
	case LF_SHAPE: if (dir) cycle(&f->shape, 2, dir); break;
	case LF_AMOUNT: edit_number(f->amount, sizeof f->amount, ch, f->shape == 1); break;
	case LF_DURATION: edit_number(f->duration, sizeof f->duration, ch, true); break;
	case LF_SHARD:
		if (dir) {
			int n = 0;
			char v[64], l[96];
			while (n < 1000 && screen_shard_choice(s, n, v, sizeof v, l, sizeof l))
				n++;
			cycle(&f->shard, n, dir);
		}
		break;
	}
	return RX_REDRAW;
}

static int start_family(screen *s, int idx)
{
	ac_err err = { 0 };
	const char *fam = family_at(idx)->name;
	s->mode = MODE_NORMAL;
	if (app_start_browser(s->a, fam, &err))
		screen_say(s, true, "%s", err.msg);
	else
		screen_say(s, false, "starting a new %s browser", fam);
	return RX_REFRESH | RX_REDRAW;
}

static int modal_newbrowser(screen *s, int ch)
{
	int n = 0;
	while (family_at(n))
		n++;
	if (ch == 27) {
		s->mode = MODE_NORMAL;
		screen_say(s, false, "no browser started");
		return RX_REDRAW;
	}
	if (ch == KEY_UP || ch == 'k') {
		cycle(&s->menu_idx, n, -1);
		return RX_REDRAW;
	}
	if (ch == KEY_DOWN || ch == 'j' || ch == '\t') {
		cycle(&s->menu_idx, n, 1);
		return RX_REDRAW;
	}
	if (is_enter(ch))
		return start_family(s, s->menu_idx);
	for (int i = 0; i < n; i++) /* its letter: c chromium, g chrome (google), e edge, f firefox */
		if (ch == family_at(i)->menu_key)
			return start_family(s, i);
	return RX_NONE;
}

int keys_modal(screen *s, int ch)
{
	switch (s->mode) {
	case MODE_HELP:
		s->mode = MODE_NORMAL;
		return RX_REDRAW;
	case MODE_CONFIRM:
		s->mode = MODE_NORMAL;
		if (ch == 'y' || ch == 'Y')
			return keys_confirm(s);
		s->pending.kind = PEND_NONE;
		screen_say(s, false, "cancelled");
		return RX_REDRAW;
	case MODE_FILTER:
		return modal_filter(s, ch);
	case MODE_LAUNCH:
		return modal_launch(s, ch);
	case MODE_NEWBROWSER:
		return modal_newbrowser(s, ch);
	case MODE_JUMP:
		return modal_jump(s, ch);
	case MODE_NORMAL:
		break;
	}
	return RX_NONE;
}
