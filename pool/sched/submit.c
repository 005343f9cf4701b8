#include "sched_internal.h"

#include <stdlib.h>
#include <string.h>

submitted *sch_sub_find(sched *s, int64_t request)
{
	for (size_t i = 0; i < s->n_subs; i++)
		if (s->subs[i].request == request)
			return &s->subs[i];
	return NULL;
}

void sch_sub_drop(sched *s, int64_t request)
{
	submitted *u = sch_sub_find(s, request);
	if (!u)
		return;
	for (int i = 0; i < u->n; i++)
		free(u->frames[i]);
	free(u->text);
	free(u->image_frame);
	*u = s->subs[--s->n_subs];
}

/* Dispatches once the request is queued (run to completion: from a listener it is not yet). */
static void dispatch_later(void *ctx)
{
	work *w = ctx;
	if (!w->s->closing)
		sch_dispatch(w->s, w);
}

int sched_submit(sched *s, int row, const ac_tensor *inputs, int n, bool want_outputs, int64_t *request,
		 ac_err *err)
{
	work *w = s->closing ? NULL : sch_work_find(s, row);
	if (!w)
		return ac_errf(err, AC_ENOENT, "model %d does not exist", row);
	if (!w->running)
		return ac_errf(err, AC_EINVAL, "model %d is stopped: %s", row, pool_model_find(s->p, row)->stop_reason);
	if (n < 0 || n > CAT_MAX_IO || (n && n != w->n_in))
		return ac_errf(err, AC_EINVAL, "model %s takes %d inputs, %d given", w->m->name, w->n_in, n);
	if (ac_reserve((void **)&s->subs, &s->cap_subs, s->n_subs + 1, sizeof *s->subs))
		return ac_errf(err, AC_ENOMEM, "out of memory");
	submitted u = { .request = s->next_request + 1, .row = row, .n = n, .want_outputs = want_outputs };
	for (int i = 0; i < n; i++) {
		const ac_tensor *t = &inputs[i];
		if (!(u.frames[i] = sch_frame_tensor(t->name, t->dtype, t->rank, t->dims, t->data, t->bytes, &u.lens[i]))) {
			for (int k = 0; k < i; k++)
				free(u.frames[k]);
			return ac_errf(err, AC_EINVAL, "input %s of %s cannot be framed", t->name, w->m->name);
		}
	}
	s->subs[s->n_subs++] = u;
	*request = u.request;
	sch_enqueue(s, w);
	if ((w = sch_work_find(s, row)))
		pool_after(s->p, dispatch_later, w);
	return 0;
}

int sched_submit_prepared(sched *s, int row, const char *text, const unsigned char *image, size_t image_len,
			  bool want_outputs, int64_t *request, ac_err *err)
{
	work *w = s->closing ? NULL : sch_work_find(s, row);
	if (!w)
		return ac_errf(err, AC_ENOENT, "model %d does not exist", row);
	if (!w->running)
		return ac_errf(err, AC_EINVAL, "model %d is stopped: %s", row, pool_model_find(s->p, row)->stop_reason);
	int rc = sch_prep_check(w, text != NULL, image != NULL, "\"text\"", "\"image\"", err);
	if (rc)
		return rc;
	if (ac_reserve((void **)&s->subs, &s->cap_subs, s->n_subs + 1, sizeof *s->subs))
		return ac_errf(err, AC_ENOMEM, "out of memory");
	submitted u = { .request = s->next_request + 1, .row = row, .want_outputs = want_outputs, .has_prep = true,
			.prep = w->tmpl };
	if (text) {
		if (!(u.text = strdup(text)))
			return ac_errf(err, AC_ENOMEM, "out of memory");
		u.prep.text = u.text;
		u.prep.tokenizer = w->tok_url;
	} else {
		u.prep.ids = u.prep.mask = u.prep.type_ids = -1;
	}
	if (image) {
		uint64_t n = image_len;
		if (!(u.image_frame = sch_frame_tensor(w->m->inputs[u.prep.image].name, DT_UINT8, 1, &n, image, image_len,
						       &u.image_frame_len))) {
			free(u.text);
			return ac_errf(err, AC_EINVAL, "the image cannot be framed (too large?)");
		}
	} else {
		u.prep.image = -1;
	}
	s->subs[s->n_subs++] = u;
	*request = u.request;
	sch_enqueue(s, w);
	if ((w = sch_work_find(s, row)))
		pool_after(s->p, dispatch_later, w);
	return 0;
}
